"""The lending terms — the rules matrix and the branch calendars — read once per process.

Every check-out, renewal, fine and hold asks which rule applies and what a branch's calendar
says; librarians change them now and then. So each process keeps the whole of them (a few
dozen rules, a few hundred dates) as one snapshot and asks the database only for a version
token, a single-row read, before using it.

The token (``TermsVersion``) is replaced with a random value by database triggers on the
rule, hours and closure tables (migration 0004), so every write changes it: the services,
the admin, ``QuerySet.update`` and raw SQL alike, in the same transaction as the change. A
random token, not a counter, because a rolled-back change must never hand its number to a
later, different change. A snapshot is kept only when the token read before loading it is
still the token afterwards, so it never mixes two versions; without the token row (a
flushed test database) nothing is kept and every call reads the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from django.db import connection

from kitobxon.catalogue.models import Branch
from kitobxon.circulation.calendar import Calendar
from kitobxon.circulation.models import ANY, ClosureDay, LoanRule, OpeningHours

# Used only when the matrix has no rule at all, not even any/any: lend for 14 days, no fines.
FALLBACK = LoanRule(
    segment=ANY,
    loan_type=ANY,
    loan_period=14,
    max_items=5,
    renewals_allowed=1,
    renewal_period=14,
    holds_allowed=True,
)


def specificity(rule: LoanRule) -> int:
    return (
        (4 if rule.branch_id else 0)
        + (2 if rule.segment != ANY else 0)
        + (1 if rule.loan_type != ANY else 0)
    )


@dataclass
class Terms:
    """Every loan rule and every branch's hours and closures, as of one version."""

    rules: tuple[LoanRule, ...]
    hours: dict[int, dict[int, tuple[time, time]]]
    closures: dict[int | None, frozenset[date]]
    _calendars: dict[int, Calendar] = field(default_factory=dict)

    def rule_for(self, segment: str, loan_type: str, branch_id: int | None) -> LoanRule:
        """The most specific rule for a reader segment, a loan type and a (home) branch."""
        candidates = (
            rule
            for rule in self.rules
            if (rule.branch_id is None or rule.branch_id == branch_id)
            and rule.segment in (segment, ANY)
            and rule.loan_type in (loan_type, ANY)
        )
        return max(candidates, key=specificity, default=FALLBACK)

    def calendar(self, branch_id: int) -> Calendar:
        """A branch's weekly hours and its own and library-wide closures."""
        found = self._calendars.get(branch_id)
        if found is None:
            found = Calendar(
                hours=self.hours.get(branch_id, {}),
                closures=self.closures.get(branch_id, frozenset())
                | self.closures.get(None, frozenset()),
            )
            self._calendars[branch_id] = found
        return found


def calendar_for(branch: Branch | int) -> Calendar:
    """The calendar of ``branch``: its weekly hours and its own and library-wide closures."""
    return current().calendar(branch if isinstance(branch, int) else branch.pk)


VERSION_SQL = "SELECT token FROM circulation_termsversion WHERE id = 1"
_kept: tuple[tuple[str, str], Terms] | None = None


def current() -> Terms:
    """The lending terms as the database has them now (seen from this transaction)."""
    global _kept
    before = _token()
    if before is not None and _kept is not None and _kept[0] == before:
        return _kept[1]
    terms = _load()
    if before is not None and _token() == before:
        _kept = (before, terms)
    return terms


def _token() -> tuple[str, str] | None:
    """This database's terms version (its name too: a process may open another library)."""
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        row = cursor.fetchone()
    return (str(connection.settings_dict["NAME"]), row[0]) if row else None


def _load() -> Terms:
    hours: dict[int, dict[int, tuple[time, time]]] = {}
    for branch_id, weekday, opens, closes in OpeningHours.objects.order_by().values_list(
        "branch_id", "weekday", "opens", "closes"
    ):
        hours.setdefault(branch_id, {})[weekday] = (opens, closes)
    dates: dict[int | None, set[date]] = {}
    for branch_id, day in ClosureDay.objects.order_by().values_list("branch_id", "date"):
        dates.setdefault(branch_id, set()).add(day)
    return Terms(
        rules=tuple(LoanRule.objects.order_by("id")),
        hours=hours,
        closures={branch_id: frozenset(days) for branch_id, days in dates.items()},
    )
