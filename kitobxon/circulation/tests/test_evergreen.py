"""Our fine rules against the fines Evergreen recorded for the Concerto library (issue 6).

The comparison runs on the real dump in ``shared/data/evergreen-concerto-circulation``; it
needs no database (our rule and calendar are built in memory and ``rules.overdue_fine`` does
the arithmetic). A change to our fine code that moves the agreement below what was measured,
or produces a difference none of the known reasons explains, fails here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kitobxon.circulation import evergreen
from kitobxon.circulation.calendar import Calendar

# Measured with the default zone (America/Los_Angeles): 486 circulations, 484 exact
# (99.59 %), all within one day's fine. A small margin for deliberate rule changes.
MEASURED_EXACT_PERCENT = 99.59
MARGIN = 1.0
KNOWN_REASONS = set(evergreen.REASONS) - {evergreen.UNEXPLAINED}
PACIFIC = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def dataset() -> evergreen.Dataset:
    if not (evergreen.DATA / "action.circulation.sql").exists():
        pytest.skip(f"the Evergreen Concerto data set is absent ({evergreen.DATA} not found)")
    return evergreen.load(evergreen.DATA)


@pytest.fixture(scope="module")
def figures(dataset: evergreen.Dataset) -> dict[str, Any]:
    results = evergreen.compare(dataset)
    return evergreen.summary(dataset, results, zone_name=evergreen.TIME_ZONE)


def test_every_circulation_of_the_dump_is_read(dataset: evergreen.Dataset) -> None:
    assert len(dataset.circulations) == 486
    assert {c.circ_lib for c in dataset.circulations} == {4, 5, 6, 7, 9}
    assert dataset.last_fine_run == datetime.fromisoformat("2021-08-06 04:00:01.880444-04")
    west_emnet = dataset.libraries[4]
    assert west_emnet.closed_weekdays == {6}  # Sunday: 00:00-00:00
    assert len(west_emnet.closures) == 44
    calendar = evergreen.library_calendar(west_emnet, PACIFIC)
    assert not calendar.is_open(date(2021, 11, 11))  # Veterans Day, 00:00-23:59:59 Eastern
    assert calendar.is_open(date(2021, 11, 12))
    assert not calendar.is_open(date(2021, 11, 14))  # a Sunday


def test_daily_due_dates_become_the_end_of_the_day_they_name(
    dataset: evergreen.Dataset,
) -> None:
    """Evergreen wrote every daily due date at 06:59:59 UTC: 23:59:59 Pacific in summer,
    22:59:59 in winter. Both name a date, and in our terms a loan is due at its end."""
    daily = [c for c in dataset.circulations if c.duration >= timedelta(days=1)]
    assert {c.due_date.astimezone(PACIFIC).time() for c in daily} <= {
        time(23, 59, 59),
        time(22, 59, 59),
    }
    for circ in daily:
        ours = evergreen.due_at(circ, PACIFIC).astimezone(PACIFIC)
        assert ours.time() == time(23, 59, 59)
        assert ours.date() == circ.due_date.astimezone(PACIFIC).date()


def test_our_fines_agree_with_evergreens_at_or_above_the_measured_rate(
    figures: dict[str, Any],
) -> None:
    assert figures["all"]["compared"] == 486
    assert figures["all"]["exact_percent"] >= MEASURED_EXACT_PERCENT - MARGIN
    assert figures["all"]["within_one_day_fine_percent"] == 100.0
    assert figures["by_kind"]["recorded maximum"]["exact_percent"] == 100.0


def test_every_disagreement_has_a_known_reason(figures: dict[str, Any]) -> None:
    assert evergreen.UNEXPLAINED not in figures["reasons"]
    assert set(figures["reasons"]) <= KNOWN_REASONS


def test_a_regression_in_our_fine_code_is_caught(
    dataset: evergreen.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting one late day too many must fail the comparison, not hide in a reason."""
    counted = Calendar.overdue_days
    monkeypatch.setattr(
        Calendar, "overdue_days", lambda self, due, at: counted(self, due, at) + (at > due)
    )
    results = evergreen.compare(dataset)
    figures = evergreen.summary(dataset, results, zone_name=evergreen.TIME_ZONE)
    assert (
        figures["all"]["exact_percent"] < MEASURED_EXACT_PERCENT - MARGIN
        or evergreen.UNEXPLAINED in figures["reasons"]
    )


# --- the pieces, on small hand-made cases ---------------------------------------------------


def circulation(due: str, **changes: Any) -> evergreen.Circulation:
    base = evergreen.Circulation(
        id=1,
        circ_lib=4,
        xact_start=datetime.fromisoformat("2020-10-01 10:00:00-07"),
        due_date=datetime.fromisoformat(due),
        duration=timedelta(days=14),
        fine_interval=timedelta(days=1),
        recurring_fine=Decimal("0.10"),
        max_fine=Decimal("5.00"),
        grace_period=timedelta(days=1),
        stop_fines=None,
        stop_fines_time=None,
        checkin_time=None,
        parent_circ=None,
        renewal_remaining=2,
    )
    return replace(base, **changes)


OPEN_WEEK = evergreen.Library(hours={d: (time(9), time(18)) for d in range(7)})
NO_SUNDAYS = evergreen.Library(
    hours={d: (time(9), time(18)) for d in range(6)}, closed_weekdays=frozenset({6})
)


def test_copy_blocks_are_streamed_with_nulls_and_escapes(tmp_path: Path) -> None:
    dump = tmp_path / "t.sql"
    dump.write_text(
        "COPY a.b (id, note, gone) FROM stdin;\n1\tone\\ttab\\\\slash\t\\N\n\\.\n\n"
        "COPY a.c (id) FROM stdin;\n9\n\\.\n"
        "COPY a.b (id, note, gone) FROM stdin;\n2\tline\\nbreak\tx\n\\.\n",
        encoding="utf-8",
    )
    assert list(evergreen.copy_rows(dump, "a.b")) == [
        {"id": "1", "note": "one\ttab\\slash", "gone": None},
        {"id": "2", "note": "line\nbreak", "gone": "x"},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 day", timedelta(days=1)),
        ("14 days", timedelta(days=14)),
        ("01:00:00", timedelta(hours=1)),
        ("1 day 02:30:00", timedelta(days=1, hours=2, minutes=30)),
    ],
)
def test_evergreen_intervals_are_read(text: str, expected: timedelta) -> None:
    assert evergreen.interval(text) == expected


def test_a_copy_due_at_the_end_of_a_day_costs_the_same_in_both_systems() -> None:
    circ = circulation("2020-10-05 23:59:59-07")  # a Monday
    back = datetime.fromisoformat("2020-10-09 12:00:00-07")  # Friday: 4 days late
    how = evergreen.AS_RECORDED
    assert evergreen.evergreen_fine(circ, OPEN_WEEK, back, PACIFIC, how) == Decimal("0.40")
    assert evergreen.our_fine(circ, OPEN_WEEK, back, PACIFIC, how) == Decimal("0.40")


def test_within_the_grace_day_neither_system_fines() -> None:
    circ = circulation("2020-10-05 23:59:59-07")
    back = datetime.fromisoformat("2020-10-06 15:00:00-07")
    how = evergreen.AS_RECORDED
    assert evergreen.evergreen_fine(circ, OPEN_WEEK, back, PACIFIC, how) == 0
    assert evergreen.our_fine(circ, OPEN_WEEK, back, PACIFIC, how) == 0


def test_an_hourly_loan_returned_before_a_full_day_is_an_interval_versus_day_difference() -> None:
    """Due Monday 10:00, back Wednesday 09:00: Evergreen bills two started 24-hour intervals,
    we bill three calendar days (Monday itself, Tuesday, Wednesday)."""
    circ = circulation("2020-10-05 10:00:00-07", duration=timedelta(hours=1))
    back = datetime.fromisoformat("2020-10-07 09:00:00-07")
    how = evergreen.AS_RECORDED
    assert evergreen.evergreen_fine(circ, OPEN_WEEK, back, PACIFIC, how) == Decimal("0.20")
    assert evergreen.our_fine(circ, OPEN_WEEK, back, PACIFIC, how) == Decimal("0.30")
    assert evergreen.explain(circ, OPEN_WEEK, back, PACIFIC) == evergreen.INTERVAL_VS_DAY


def test_a_sunday_an_interval_ends_on_is_a_closed_weekday_difference() -> None:
    """An hourly loan due Monday 02:59:59, back Saturday 10:26: Evergreen's six started
    intervals end Tuesday to Sunday at 02:59:59 and the Sunday one is skipped; our six late
    days are Monday to Saturday, all open."""
    circ = circulation("2020-10-05 02:59:59-07", duration=timedelta(hours=1))
    back = datetime.fromisoformat("2020-10-10 10:26:00-07")
    how = evergreen.AS_RECORDED
    assert evergreen.evergreen_fine(circ, NO_SUNDAYS, back, PACIFIC, how) == Decimal("0.50")
    assert evergreen.our_fine(circ, NO_SUNDAYS, back, PACIFIC, how) == Decimal("0.60")
    assert evergreen.explain(circ, NO_SUNDAYS, back, PACIFIC) == evergreen.CLOSED_WEEKDAY


def test_due_at_the_end_of_a_day_both_skip_the_same_sunday() -> None:
    circ = circulation("2020-10-09 23:59:59-07")  # Friday; back Monday after midnight
    late = datetime.fromisoformat("2020-10-12 00:30:00-07")
    how = evergreen.AS_RECORDED
    assert evergreen.evergreen_fine(circ, NO_SUNDAYS, late, PACIFIC, how) == Decimal("0.20")
    assert evergreen.our_fine(circ, NO_SUNDAYS, late, PACIFIC, how) == Decimal("0.20")


def test_the_maximum_stops_both_and_evergreen_lets_the_crossing_bill_stand() -> None:
    circ = circulation("2020-10-05 23:59:59-07", max_fine=Decimal("0.25"))
    back = datetime.fromisoformat("2020-10-20 12:00:00-07")
    how = evergreen.AS_RECORDED
    assert evergreen.evergreen_fine(circ, OPEN_WEEK, back, PACIFIC, how) == Decimal("0.30")
    assert evergreen.our_fine(circ, OPEN_WEEK, back, PACIFIC, how) == Decimal("0.25")
    assert evergreen.explain(circ, OPEN_WEEK, back, PACIFIC) == evergreen.MAX_FINE


def test_a_zero_maximum_means_no_fines_in_evergreen_and_so_in_our_rule() -> None:
    circ = circulation("2020-10-05 23:59:59-07", max_fine=Decimal("0.00"))
    back = datetime.fromisoformat("2020-10-20 12:00:00-07")
    how = evergreen.AS_RECORDED
    assert evergreen.evergreen_fine(circ, OPEN_WEEK, back, PACIFIC, how) == 0
    assert evergreen.our_fine(circ, OPEN_WEEK, back, PACIFIC, how) == 0
