"""Evergreen's circulations against our fine rules: what a library moving from Evergreen gets.

Reads the PostgreSQL dump of an Evergreen circulation history (the Concerto test library in
``shared/data/evergreen-concerto-circulation``: ``action.circulation``, the branches' weekly
``actor.hours_of_operation`` and ``actor.org_unit_closed`` dates), streaming its ``COPY``
blocks; no PostgreSQL and no import of Evergreen's schema are needed.

Each circulation carries the fine rule Evergreen copied onto it at check-out (fine per
interval, maximum fine, grace period), as a Kitobxon loan keeps its reader's segment. That rule
becomes a ``LoanRule`` (fine per day, maximum fine, grace days) and the branch's hours and
closures a ``Calendar``; the fine is then computed by **our** code, ``rules.overdue_fine``,
and compared with Evergreen's:

* ``stop_fines = MAXFINES``: Evergreen recorded that the maximum fine was reached;
* ``stop_fines = LOST`` / ``CLAIMSRETURNED`` / ``CHECKIN`` / ``RENEW``: the fine up to the
  recorded ``stop_fines_time``, as Evergreen's fine generator bills it;
* no ``stop_fines`` (still out, still accruing): the fine Evergreen's generator had billed
  at the data's last fine run (the latest ``stop_fines_time`` in the file).

Evergreen's generator is transcribed in ``evergreen_fine`` (``generate_fines`` in
``OpenILS/Application/Circ/CircCommon.pm``, with the stock settings: no fines on closed days,
no truncation to the maximum, no grace extension). It is the yardstick, not our code.

Every disagreement is explained by re-running both sides with one difference removed (closure
dates, closed weekdays, grace, cap); the one that makes them agree names the reason. What no
such change explains must be the remaining known difference, counting 24-hour intervals from
the due moment against counting calendar days; anything else is ``unexplained``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from kitobxon.circulation import rules
from kitobxon.circulation.calendar import END_OF_DAY, Calendar
from kitobxon.circulation.models import LoanRule

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "evergreen-concerto-circulation"
# Evergreen set every daily due date to 23:59:59 of the server's zone, and the dump writes
# them as 02:59:59-04 / 01:59:59-05: the Concerto server kept Pacific time, which is also the
# zone its fine generator judged weekdays in. (The dump itself was written at -04/-05.)
TIME_ZONE = "America/Los_Angeles"
CENT = Decimal("0.01")
ZERO = Decimal(0)

# Reasons Evergreen stops a circulation's fines (OpenILS::Const OILS_STOP_FINES_*).
MAXFINES = "MAXFINES"
ENDS_ACCRUAL = {
    "LOST",
    "CLAIMSRETURNED",
    "CHECKIN",
    "RENEW",
    "LONGOVERDUE",
    "CLAIMSNEVERCHECKEDOUT",
}

# Why our fine differs from Evergreen's, in the order they are tried.
CLOSURE_DATE = "closure_date"
CLOSED_WEEKDAY = "closed_weekday"
GRACE = "grace"
MAX_FINE = "max_fine"
INTERVAL_VS_DAY = "interval_vs_day"
NOT_DAILY = "fine_interval_not_daily"
UNEXPLAINED = "unexplained"

REASONS = {
    CLOSURE_DATE: "a closure date: Evergreen skips an interval when the moment it ends falls "
    "inside a closure, we skip the closed calendar dates after the due date",
    CLOSED_WEEKDAY: "a closed weekday: Evergreen looks at the weekday on which each 24-hour "
    "interval ends, we at the calendar days after the due date",
    GRACE: "the grace period: Evergreen's is 24 wall-clock hours from the due moment, ours "
    "counts open days",
    MAX_FINE: "the cap: Evergreen lets the bill that crosses the maximum stand in full, we "
    "stop exactly at the maximum",
    INTERVAL_VS_DAY: "the counting unit: Evergreen charges every started 24-hour interval from "
    "the due moment, we charge calendar days (the due date itself when due before its end)",
    NOT_DAILY: "Evergreen fines this circulation per interval other than a day; our rules "
    "fine per day",
    UNEXPLAINED: "no known reason",
}


# --- Reading the dump ----------------------------------------------------------------------

_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_ESCAPE = re.compile(r"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)")


def _unescape(value: str) -> str | None:
    """One field of PostgreSQL's COPY text format (``\\N`` is NULL)."""
    if value == "\\N":
        return None
    if "\\" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "01234567":
            return chr(int(code, 8))
        if code[0] == "x" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, code)

    return _ESCAPE.sub(one, value)


def copy_rows(path: Path, table: str) -> Iterator[dict[str, str | None]]:
    """The rows of every ``COPY table (columns) FROM stdin;`` block in ``path``, streamed."""
    columns: list[str] | None = None
    with path.open(encoding="utf-8") as lines:
        for raw in lines:
            line = raw.rstrip("\n")
            if columns is None:
                if line.startswith(f"COPY {table} (") and line.endswith("FROM stdin;"):
                    columns = [
                        c.strip() for c in line[line.index("(") + 1 : line.index(")")].split(",")
                    ]
                continue
            if line == "\\.":
                columns = None
                continue
            yield dict(zip(columns, (_unescape(v) for v in line.split("\t")), strict=True))


_INTERVAL = re.compile(
    r"^(?:(?P<days>-?\d+) days?)?\s*(?:(?P<h>-?\d+):(?P<m>\d\d):(?P<s>\d\d(?:\.\d+)?))?$"
)


def interval(text: str) -> timedelta:
    """A PostgreSQL interval as Evergreen writes them: ``1 day``, ``14 days``, ``01:00:00``."""
    match = _INTERVAL.match(text.strip())
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"unsupported interval {text!r}")
    days = int(match["days"] or 0)
    clock = timedelta(
        hours=int(match["h"] or 0), minutes=int(match["m"] or 0), seconds=float(match["s"] or 0)
    )
    return timedelta(days=days) + clock


def _timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Circulation:
    """One ``action.circulation`` row: the fields that decide its overdue fine."""

    id: int
    circ_lib: int
    xact_start: datetime
    due_date: datetime
    duration: timedelta
    fine_interval: timedelta
    recurring_fine: Decimal
    max_fine: Decimal
    grace_period: timedelta
    stop_fines: str | None
    stop_fines_time: datetime | None
    checkin_time: datetime | None
    parent_circ: int | None
    renewal_remaining: int

    @classmethod
    def from_row(cls, row: dict[str, str | None]) -> Circulation:
        def text(name: str) -> str:
            value = row[name]
            if value is None:
                raise ValueError(f"circulation {row['id']}: {name} is empty")
            return value

        xact_start = _timestamp(text("xact_start"))
        due_date = _timestamp(text("due_date"))
        assert xact_start is not None and due_date is not None
        return cls(
            id=int(text("id")),
            circ_lib=int(text("circ_lib")),
            xact_start=xact_start,
            due_date=due_date,
            duration=interval(text("duration")),
            fine_interval=interval(text("fine_interval")),
            recurring_fine=Decimal(text("recurring_fine")),
            max_fine=Decimal(text("max_fine")),
            grace_period=interval(text("grace_period")),
            stop_fines=row["stop_fines"],
            stop_fines_time=_timestamp(row["stop_fines_time"]),
            checkin_time=_timestamp(row["checkin_time"]),
            parent_circ=int(row["parent_circ"]) if row["parent_circ"] else None,
            renewal_remaining=int(text("renewal_remaining")),
        )


@dataclass(frozen=True)
class Library:
    """A circulating library's week (weekday → open, close; Evergreen's dow_0 is Monday) and
    its closures (start, end), as Evergreen stores them."""

    hours: dict[int, tuple[time, time]] = field(default_factory=dict)
    closed_weekdays: frozenset[int] = frozenset()
    closures: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Dataset:
    circulations: list[Circulation]
    libraries: dict[int, Library]
    last_fine_run: datetime


def load(directory: Path = DATA) -> Dataset:
    """Read the circulations, hours of operation and closed dates of an Evergreen dump."""
    circulations = [
        Circulation.from_row(row)
        for row in copy_rows(directory / "action.circulation.sql", "action.circulation")
    ]
    hours: dict[int, dict[int, tuple[time, time]]] = {}
    closed_days: dict[int, set[int]] = {}
    for row in copy_rows(directory / "actor.hours_of_operation.sql", "actor.hours_of_operation"):
        org = int(row["id"] or 0)
        hours[org], closed_days[org] = {}, set()
        for weekday in range(7):
            opens = time.fromisoformat(row[f"dow_{weekday}_open"] or "00:00:00")
            closes = time.fromisoformat(row[f"dow_{weekday}_close"] or "00:00:00")
            if opens == closes == time(0):
                closed_days[org].add(weekday)
            else:
                hours[org][weekday] = (opens, closes)
    closures: dict[int, list[tuple[datetime, datetime]]] = {}
    for row in copy_rows(directory / "actor.org_unit_closed.sql", "actor.org_unit_closed"):
        start, end = _timestamp(row["close_start"]), _timestamp(row["close_end"])
        if start and end:
            closures.setdefault(int(row["org_unit"] or 0), []).append((start, end))
    libraries = {
        org: Library(
            hours=hours.get(org, {}),
            closed_weekdays=frozenset(closed_days.get(org, set())),
            closures=tuple(closures.get(org, [])),
        )
        for org in {c.circ_lib for c in circulations}
    }
    stops = [c.stop_fines_time for c in circulations if c.stop_fines_time]
    return Dataset(circulations, libraries, max(stops))


# --- The two computations -------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """Both sides computed with one difference removed, to find why they disagree."""

    closure_dates: bool = True
    closed_weekdays: bool = True
    grace: bool = True
    cap: bool = True


AS_RECORDED = Variant()


def evergreen_fine(
    circ: Circulation, library: Library, until: datetime, zone: ZoneInfo, how: Variant
) -> Decimal:
    """The overdue fine Evergreen's fine generator bills up to ``until`` (its ``now``).

    Every started fine interval after the due moment is one bill of ``recurring_fine``,
    unless the moment the interval ends falls on a weekday the library has no hours or
    inside one of its closures; nothing while ``until`` is within the grace period after the
    due moment; no bill once the total has reached ``max_fine`` (the crossing bill stands).
    A zero interval, fine or maximum means no fines at all.
    """
    step = circ.fine_interval
    rate = int(circ.recurring_fine * 100)
    ceiling = int(circ.max_fine * 100) if how.cap else 10**12
    if step <= timedelta(0) or rate == 0 or ceiling == 0:
        return ZERO
    due = circ.due_date
    if until <= due:
        return ZERO
    grace = circ.grace_period if how.grace else timedelta(0)
    if grace and until < due + grace:
        return ZERO
    pending = math.ceil((until - due) / step)
    local_due = due.astimezone(zone).replace(tzinfo=None)
    closures = library.closures if how.closure_dates else ()
    first = min((start for start, _end in closures), default=None)
    last = max((end for _start, end in closures), default=None)
    total = 0
    for count in range(1, pending + 1):
        if total >= ceiling:
            break
        # DateTime->add(days => n) in the server's zone keeps the wall-clock time.
        naive = local_due + step * count
        billed_at = timezone.make_aware(naive, zone) if step.seconds == 0 else due + step * count
        if how.closed_weekdays and billed_at.astimezone(zone).weekday() in library.closed_weekdays:
            continue
        if (
            first is not None
            and last is not None
            and first <= billed_at <= last
            and any(start <= billed_at <= end for start, end in closures)
        ):
            continue
        total += rate
    return (Decimal(total) / 100).quantize(CENT)


def loan_rule(circ: Circulation, how: Variant = AS_RECORDED) -> LoanRule:
    """The circulation's fine rule in our terms. Evergreen's zero maximum means "no fines";
    ours means "no cap", so a zero maximum becomes a zero daily fine."""
    grace_days = math.ceil(circ.grace_period / timedelta(days=1)) if how.grace else 0
    return LoanRule(
        fine_per_day=circ.recurring_fine if circ.max_fine > 0 else ZERO,
        max_fine=circ.max_fine if how.cap else ZERO,
        grace_days=grace_days,
    )


def library_calendar(library: Library, zone: ZoneInfo, how: Variant = AS_RECORDED) -> Calendar:
    """The library's week and closures as our ``Calendar``: a weekday without hours is
    closed, and a closure closes the dates it names, read as the librarian entered them
    (in the offset the timestamps carry: Concerto's closures run 00:00-23:59:59 Eastern)."""
    hours = dict(library.hours)
    if not how.closed_weekdays:
        hours = {weekday: (time(0), END_OF_DAY) for weekday in range(7)}
    dates: set[date] = set()
    if how.closure_dates:
        for start, end in library.closures:
            day, last = start.date(), end.date()
            while day <= last:
                dates.add(day)
                day += timedelta(days=1)
    return Calendar(hours=hours, closures=frozenset(dates))


def due_at(circ: Circulation, zone: ZoneInfo) -> datetime:
    """The circulation's due moment in our terms. A loan in days is due at the end of its due
    date (``Calendar.due_at``), so Evergreen's daily due date becomes 23:59:59 of the local
    date it names (the dump's winter dates sit at 22:59:59 Pacific, an hour early); a loan in
    hours keeps its exact moment."""
    if circ.duration % timedelta(days=1) or not circ.duration:
        return circ.due_date
    day = circ.due_date.astimezone(zone).date()
    return timezone.make_aware(datetime.combine(day, END_OF_DAY), zone)


def our_fine(
    circ: Circulation, library: Library, until: datetime, zone: ZoneInfo, how: Variant
) -> Decimal:
    """What our rules charge: ``rules.overdue_fine`` with the circulation's rule in our
    terms and the library's calendar, in the library's time zone."""
    with timezone.override(zone):
        return rules.overdue_fine(
            loan_rule(circ, how),
            library_calendar(library, zone, how),
            due_at(circ, zone),
            until,
            already=ZERO,
        ).quantize(CENT)


# --- The comparison ------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    circ: Circulation
    kind: str  # "recorded maximum", "stopped", "accruing"
    until: datetime
    theirs: Decimal
    ours: Decimal
    reason: str | None

    @property
    def difference(self) -> Decimal:
        return self.ours - self.theirs

    @property
    def within_one_day(self) -> bool:
        return abs(self.difference) <= self.circ.recurring_fine


def fines_end(circ: Circulation, as_of: datetime) -> tuple[str, datetime]:
    """Until when the circulation's fine runs, and how Evergreen's figure is known.

    A recorded LOST, CLAIMSRETURNED, CHECKIN or RENEW ends the fines at ``stop_fines_time``
    (our ``mark_lost``, ``claims_returned``, ``check_in`` and ``renew`` charge up to the same
    moment). MAXFINES ends nothing in our model: the copy is still out, so our fine runs to
    the data's last fine run, where our own cap has to stop it at the same maximum.
    """
    if circ.stop_fines in ENDS_ACCRUAL and circ.stop_fines_time:
        return "stopped", circ.stop_fines_time
    if circ.checkin_time:
        return "stopped", circ.checkin_time
    if circ.stop_fines == MAXFINES:
        return "recorded maximum", as_of
    return "accruing", as_of


def explain(circ: Circulation, library: Library, until: datetime, zone: ZoneInfo) -> str:
    """Why our fine differs from Evergreen's: the first difference whose removal from both
    computations makes them agree."""
    if circ.fine_interval != timedelta(days=1):
        return NOT_DAILY
    trials = [
        (CLOSURE_DATE, Variant(closure_dates=False)),
        (CLOSED_WEEKDAY, Variant(closed_weekdays=False)),
        (GRACE, Variant(grace=False)),
        (MAX_FINE, Variant(cap=False)),
    ]
    for reason, how in trials:
        if evergreen_fine(circ, library, until, zone, how) == our_fine(
            circ, library, until, zone, how
        ):
            return reason
    everything_open = Variant(closure_dates=False, closed_weekdays=False)
    if evergreen_fine(circ, library, until, zone, everything_open) == our_fine(
        circ, library, until, zone, everything_open
    ):
        return CLOSED_WEEKDAY if library.closed_weekdays else CLOSURE_DATE
    if _intervals(circ, until) != _calendar_days(circ, until, zone):
        return INTERVAL_VS_DAY
    return UNEXPLAINED


def _intervals(circ: Circulation, until: datetime) -> int:
    return max(0, math.ceil((until - circ.due_date) / circ.fine_interval))


def _calendar_days(circ: Circulation, until: datetime, zone: ZoneInfo) -> int:
    with timezone.override(zone):
        return Calendar().overdue_days(due_at(circ, zone), until)


def compare(dataset: Dataset, *, zone_name: str = TIME_ZONE) -> list[Comparison]:
    """Our fine against Evergreen's for every circulation of ``dataset``."""
    zone = ZoneInfo(zone_name)
    results = []
    for circ in dataset.circulations:
        library = dataset.libraries[circ.circ_lib]
        kind, until = fines_end(circ, dataset.last_fine_run)
        if kind == "recorded maximum":
            theirs = circ.max_fine.quantize(CENT)
        else:
            theirs = evergreen_fine(circ, library, until, zone, AS_RECORDED)
        ours = (
            our_fine(circ, library, until, zone, AS_RECORDED)
            if circ.fine_interval == timedelta(days=1)
            else ZERO
        )
        reason = None if ours == theirs else explain(circ, library, until, zone)
        results.append(Comparison(circ, kind, until, theirs, ours, reason))
    return results


def summary(dataset: Dataset, results: list[Comparison], *, zone_name: str) -> dict[str, Any]:
    """The figures of the comparison, as plain data (the command prints it as JSON)."""
    zone = ZoneInfo(zone_name)

    def figures(subset: list[Comparison]) -> dict[str, Any]:
        n = len(subset)
        exact = sum(r.ours == r.theirs for r in subset)
        near = sum(r.within_one_day for r in subset)
        return {
            "compared": n,
            "exact": exact,
            "exact_percent": round(100 * exact / n, 2) if n else None,
            "within_one_day_fine": near,
            "within_one_day_fine_percent": round(100 * near / n, 2) if n else None,
            "ours_total": str(sum((r.ours for r in subset), ZERO)),
            "theirs_total": str(sum((r.theirs for r in subset), ZERO)),
        }

    def in_days(r: Comparison) -> str:
        days = r.difference / r.circ.recurring_fine
        return f"{days:+.0f}" if days == days.to_integral_value() else f"{days:+.2f}"

    disagreements = [r for r in results if r.reason]
    maxed = [r for r in results if r.kind == "recorded maximum"]
    reached_ours = 0
    reached_evergreen = 0
    for r in maxed:
        library = dataset.libraries[r.circ.circ_lib]
        stop = r.circ.stop_fines_time or r.until
        reached_ours += our_fine(r.circ, library, stop, zone, AS_RECORDED) >= r.circ.max_fine
        reached_evergreen += (
            evergreen_fine(r.circ, library, stop, zone, AS_RECORDED) >= r.circ.max_fine
        )
    return {
        "data": "Evergreen Concerto (evergreen-concerto-circulation)",
        "time_zone": zone_name,
        "last_fine_run": dataset.last_fine_run.isoformat(),
        "circulations": len(results),
        "renewal_chains": sum(c.parent_circ is not None for c in dataset.circulations),
        "all": figures(results),
        "by_kind": {
            kind: figures([r for r in results if r.kind == kind])
            for kind in ("recorded maximum", "stopped", "accruing")
        },
        "stop_fines": dict(Counter(c.stop_fines or "none" for c in dataset.circulations)),
        "difference_in_day_fines": dict(sorted(Counter(in_days(r) for r in disagreements).items())),
        "reasons": dict(Counter(r.reason for r in disagreements if r.reason)),
        "reason_text": {
            reason: REASONS[reason] for reason in {r.reason for r in disagreements if r.reason}
        },
        "maximum_reached_by_recorded_stop_time": {
            "recorded": len(maxed),
            "ours": reached_ours,
            "evergreen_generator": reached_evergreen,
        },
        "examples": {
            reason: [
                {
                    "circulation": r.circ.id,
                    "due": r.circ.due_date.isoformat(),
                    "until": r.until.isoformat(),
                    "theirs": str(r.theirs),
                    "ours": str(r.ours),
                }
                for r in disagreements
                if r.reason == reason
            ][:3]
            for reason in sorted({r.reason for r in disagreements if r.reason})
        },
    }


def run(directory: Path = DATA, *, zone_name: str = TIME_ZONE) -> dict[str, Any]:
    dataset = load(directory)
    return summary(dataset, compare(dataset, zone_name=zone_name), zone_name=zone_name)
