"""Circulation's jobs: the e-mail deliverer of notices and the daily morning run."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from kitobxon.circulation import mail, reminders, services
from kitobxon.circulation.notices import Notice, NoticeKind

# The daily run starts at this hour of the library's local time.
DAILY_HOUR = 7


@db_task(retries=3, retry_delay=60)
def send_notice_email(kind: str, patron_id: int, subject: str) -> bool:
    return mail.send_notice(NoticeKind(kind), patron_id, subject)


def email_notice(notice: Notice) -> None:
    """The e-mail deliverer (subscribed in ``CirculationConfig.ready``): the worker sends it."""
    send_notice_email(str(notice.kind), notice.patron_id, notice.subject)


def is_daily_time(timestamp: datetime) -> bool:
    """True at DAILY_HOUR:00 local time. Huey hands periodic checks a naive UTC time (or a
    naive local time when it is configured without UTC)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    aware = timestamp.replace(tzinfo=UTC if HUEY.utc else zone)
    local = aware.astimezone(zone)
    return local.hour == DAILY_HOUR and local.minute == 0


@db_periodic_task(is_daily_time)
def daily_circulation() -> dict[str, int]:
    """Every morning: end suspensions, expire holds (the next reader is served), then remind
    readers of loans due soon or overdue and of holds about to run out."""
    expiry = services.expire_holds()
    sent = reminders.send_reminders()
    return {
        "holds_resumed": expiry.resumed,
        "holds_expired": expiry.expired,
        "pickups_expired": expiry.pickup_expired,
        "due_soon": sent.due_soon,
        "overdue": sent.overdue,
        "hold_expiring": sent.hold_expiring,
    }
