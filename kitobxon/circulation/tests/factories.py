"""Small builders for circulation tests: moments in the library's time zone, calendars."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from kitobxon.catalogue.models import Branch
from kitobxon.circulation.models import ClosureDay, OpeningHours

TASHKENT = ZoneInfo("Asia/Tashkent")


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in the library's time zone (2025-03-03 is a Monday)."""
    return datetime(year, month, day, hour, minute, tzinfo=TASHKENT)


MONDAY = local(2025, 3, 3)


def open_hours(branch: Branch, weekdays: range | list[int], opens: str, closes: str) -> None:
    """Give ``branch`` a timetable (weekdays 0 = Monday)."""
    for weekday in weekdays:
        OpeningHours.objects.create(
            branch=branch,
            weekday=weekday,
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
        )


def closed_on(day: str, reason: str = "Bayram", branch: Branch | None = None) -> None:
    ClosureDay.objects.create(branch=branch, date=date.fromisoformat(day), reason=reason)
