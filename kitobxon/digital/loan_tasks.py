"""The digital loans' jobs: ending loans and offers on time, and the daily reminder.

Every five minutes loans past their due time end and offers past their deadline pass to the
next reader (the services also settle a licence whenever they touch it, so the job only keeps
idle titles up to date). Every morning readers whose digital loan ends tomorrow are told.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from kitobxon.digital import notices
from kitobxon.digital.services import loans

# The daily reminder goes out at this hour of the library's local time.
DAILY_HOUR = 8


def is_daily_time(timestamp: datetime) -> bool:
    """True at DAILY_HOUR:00 local time. Huey hands periodic checks a naive UTC time (or a
    naive local time when it is configured without UTC)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    aware = timestamp.replace(tzinfo=UTC if HUEY.utc else zone)
    local = aware.astimezone(zone)
    return local.hour == DAILY_HOUR and local.minute == 0


@db_periodic_task(crontab(minute="*/5"))
def expire_digital_loans() -> dict[str, int]:
    done = loans.expire_loans()
    forgotten = loans.forget_ended()
    return {
        "loans_forgotten": forgotten,
        "loans_expired": done.loans_expired,
        "offers_expired": done.offers_expired,
        "waits_expired": done.waits_expired,
        "offered": done.offered,
    }


@db_periodic_task(is_daily_time)
def remind_digital_loans() -> int:
    return notices.remind_loans_ending()
