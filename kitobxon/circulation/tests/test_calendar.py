"""The branch calendar: due dates skip closed days, hourly loans end at closing, fines accrue
only on open days and stop at the cap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, LoanType
from kitobxon.circulation import queries, rules, services, terms
from kitobxon.circulation.calendar import Calendar
from kitobxon.circulation.models import Charge, ChargeKind, LoanRule, PeriodUnit
from kitobxon.circulation.tests.factories import MONDAY, closed_on, local, open_hours

WEEKDAYS = {d: (time(9), time(18)) for d in range(5)}  # Monday to Friday, 9 to 18
END = timedelta(hours=23, minutes=59, seconds=59)


def test_a_due_date_on_a_closed_weekday_moves_to_the_next_open_day() -> None:
    week = Calendar(hours=WEEKDAYS)
    # Monday + 5 days = Saturday: closed, so Monday 10 March.
    assert week.due_at(MONDAY, 5, PeriodUnit.DAYS) == local(2025, 3, 10, 0) + END


def test_a_due_date_skips_closure_days_too() -> None:
    holidays = Calendar(hours=WEEKDAYS, closures=frozenset({date(2025, 3, 10), date(2025, 3, 11)}))
    assert holidays.due_at(MONDAY, 7, PeriodUnit.DAYS) == local(2025, 3, 12, 0) + END


def test_a_branch_without_a_timetable_is_open_every_day() -> None:
    assert Calendar().due_at(MONDAY, 5, PeriodUnit.DAYS) == local(2025, 3, 8, 0) + END


def test_an_hourly_loan_is_due_before_the_branch_closes() -> None:
    week = Calendar(hours=WEEKDAYS)
    assert week.due_at(local(2025, 3, 3, 10), 3, PeriodUnit.HOURS) == local(2025, 3, 3, 13)
    assert week.due_at(local(2025, 3, 3, 16), 3, PeriodUnit.HOURS) == local(2025, 3, 3, 18)


def test_an_hourly_loan_made_after_closing_is_due_at_the_next_closing() -> None:
    week = Calendar(hours=WEEKDAYS)
    # Friday evening: the next open day is Monday.
    assert week.due_at(local(2025, 3, 7, 19), 3, PeriodUnit.HOURS) == local(2025, 3, 10, 18)


def test_overdue_days_count_only_open_days() -> None:
    week = Calendar(hours=WEEKDAYS, closures=frozenset({date(2025, 3, 4)}))
    due = local(2025, 3, 3, 0) + END  # Monday
    # Tue (closed holiday), Wed, Thu, Fri, Sat, Sun, Mon: open days are Wed, Thu, Fri, Mon.
    assert week.overdue_days(due, local(2025, 3, 10, 11)) == 4
    assert week.overdue_days(due, local(2025, 3, 3, 22)) == 0


def test_an_hourly_loan_returned_late_the_same_day_is_one_day_late() -> None:
    week = Calendar(hours=WEEKDAYS)
    assert week.overdue_days(local(2025, 3, 3, 13), local(2025, 3, 3, 15)) == 1
    assert week.overdue_days(local(2025, 3, 3, 13), local(2025, 3, 4, 10)) == 2


def _rule(**fields: object) -> LoanRule:
    defaults: dict[str, object] = {
        "fine_per_day": Decimal(1000),
        "max_fine": Decimal(5000),
        "grace_days": 0,
    }
    return LoanRule(**{**defaults, **fields})


def test_a_fine_is_days_late_times_the_daily_fine_and_stops_at_the_cap() -> None:
    every_day = Calendar()
    due = local(2025, 3, 3, 0) + END
    assert rules.overdue_fine(_rule(), every_day, due, local(2025, 3, 6), already=Decimal(0)) == (
        Decimal(3000)
    )
    assert rules.overdue_fine(_rule(), every_day, due, local(2025, 4, 6), already=Decimal(0)) == (
        Decimal(5000)
    )
    # 2000 already charged (at a renewal): the loan's total still stops at the cap.
    assert rules.overdue_fine(
        _rule(), every_day, due, local(2025, 4, 6), already=Decimal(2000)
    ) == Decimal(3000)


def test_no_fine_within_the_grace_days() -> None:
    every_day = Calendar()
    due = local(2025, 3, 3, 0) + END
    rule = _rule(grace_days=2)
    assert rules.overdue_fine(rule, every_day, due, local(2025, 3, 5), already=Decimal(0)) == 0
    assert rules.overdue_fine(rule, every_day, due, local(2025, 3, 6), already=Decimal(0)) == (
        Decimal(3000)
    )


@pytest.mark.django_db
def test_the_calendar_of_a_branch_reads_its_hours_and_closures(desk: Branch, nukus: Branch) -> None:
    open_hours(desk, range(6), "09:00", "18:00")
    closed_on("2025-03-21", "Navroʻz")
    closed_on("2025-03-04", "Taʼmirlash", branch=nukus)
    toshkent = terms.calendar_for(desk)
    assert not toshkent.is_open(date(2025, 3, 9))  # Sunday
    assert not toshkent.is_open(date(2025, 3, 21))  # library-wide holiday
    assert toshkent.is_open(date(2025, 3, 4))  # only Nukus is closed that day
    assert not terms.calendar_for(nukus).is_open(date(2025, 3, 4))


@pytest.mark.django_db
def test_a_late_return_is_fined_for_open_days_only(
    desk: Branch, patron: User, make_copy: Callable[..., Item]
) -> None:
    open_hours(desk, range(6), "09:00", "18:00")  # closed on Sundays
    closed_on("2025-03-21", "Navroʻz")
    copy = make_copy()
    loan = services.check_out(copy, patron, by=None, at=MONDAY)
    assert loan.due_at == local(2025, 3, 17, 0) + END
    # Back on Monday 24 March: Tue 18 … Mon 24 is 7 days, less Friday 21 (Navroʻz) and
    # Sunday 23 = 5 open days, minus nothing for grace (1 day grace, exceeded) at 1000 so'm.
    result = services.check_in(copy, by=None, branch=desk, at=local(2025, 3, 24, 11))
    assert result.fine == Decimal(5000)
    assert queries.balance(patron) == Decimal(5000)
    assert Charge.objects.get(patron=patron).kind == ChargeKind.OVERDUE


@pytest.mark.django_db
def test_an_hourly_loan_at_the_desk_is_due_by_closing(
    desk: Branch, patron: User, make_copy: Callable[..., Item]
) -> None:
    open_hours(desk, range(6), "09:00", "18:00")
    loan = services.check_out(
        make_copy(loan_type=LoanType.SHORT_LOAN), patron, by=None, at=local(2025, 3, 3, 16)
    )
    assert loan.due_at == local(2025, 3, 3, 18)
