"""A branch's calendar: when it is open, and what that means for due dates and fines.

Library rules: due dates never fall on a closed day (they move to the next open day); an
hourly loan is due back before the branch closes; overdue fines accrue only on open days.
A branch without a timetable counts as open every day, so a new library works at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from kitobxon.circulation.models import PeriodUnit

END_OF_DAY = time(23, 59, 59)
SEARCH_LIMIT = 366  # a branch closed for a whole year is treated as open rather than looping


@dataclass(frozen=True)
class Calendar:
    """Weekly hours (weekday → opens, closes) and closure dates of one branch."""

    hours: dict[int, tuple[time, time]] = field(default_factory=dict)
    closures: frozenset[date] = frozenset()

    def is_open(self, day: date) -> bool:
        if day in self.closures:
            return False
        return not self.hours or day.weekday() in self.hours

    def closing_time(self, day: date) -> time:
        """When the branch closes on ``day`` (the end of the day without a timetable)."""
        hours = self.hours.get(day.weekday())
        return hours[1] if hours else END_OF_DAY

    def next_open_day(self, day: date) -> date:
        """``day`` itself when open, otherwise the first open day after it."""
        for offset in range(SEARCH_LIMIT):
            candidate = day + timedelta(days=offset)
            if self.is_open(candidate):
                return candidate
        return day

    def open_days(self, first: date, last: date) -> int:
        """How many open days lie between ``first`` and ``last``, both included."""
        count = 0
        day = first
        while day <= last:
            count += self.is_open(day)
            day += timedelta(days=1)
        return count

    def due_at(self, start: datetime, period: int, unit: str) -> datetime:
        """When a loan (or renewal) of ``period`` days or hours from ``start`` is due back.

        A loan in days is due at the end of its due date, moved to the next open day. A loan
        in hours is due ``period`` hours later, but before the branch closes that day; lent
        while the branch is closed, it is due at closing time of the next open day.
        """
        local = timezone.localtime(start)
        if unit == PeriodUnit.HOURS:
            today = local.date()
            due = local + timedelta(hours=period)
            closes = _aware(today, self.closing_time(today))
            if self.is_open(today) and local < closes:
                return min(due, closes)
            day = self.next_open_day(today + timedelta(days=1))
            return _aware(day, self.closing_time(day))
        day = self.next_open_day(local.date() + timedelta(days=period))
        return _aware(day, END_OF_DAY)

    def overdue_days(self, due_at: datetime, at: datetime) -> int:
        """Open days on which a copy due at ``due_at`` and returned at ``at`` was late.

        The due date itself counts when the copy fell due before the day ended (hourly loans).
        """
        if at <= due_at:
            return 0
        due = timezone.localtime(due_at)
        back = timezone.localtime(at).date()
        days = self.open_days(due.date() + timedelta(days=1), back)
        if due.time() < END_OF_DAY and self.is_open(due.date()):
            days += 1
        return days

    def add_open_days(self, day: date, count: int) -> date:
        """The date ``count`` open days after ``day`` (a pickup deadline)."""
        current = day
        for _n in range(count):
            current = self.next_open_day(current + timedelta(days=1))
        return current


def _aware(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))
