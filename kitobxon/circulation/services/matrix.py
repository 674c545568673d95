"""Librarians' settings of the desk: the rules matrix and the branch calendars, audited."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.db import IntegrityError, transaction

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch
from kitobxon.circulation.errors import InvalidHours, RuleExists
from kitobxon.circulation.models import ClosureDay, LoanRule, OpeningHours
from kitobxon.core.audit import record as audit

RULE_FIELDS = (
    "segment",
    "loan_type",
    "branch",
    "loan_period",
    "period_unit",
    "max_items",
    "renewals_allowed",
    "renewal_period",
    "renew_overdue_days",
    "holds_allowed",
    "fine_per_day",
    "max_fine",
    "grace_days",
)


def save_rule(rule: LoanRule, *, by: User | None) -> LoanRule:
    """Add a rule or save the changes made to one (``rule`` as the form left it; the form
    validates the fields, the database refuses a second rule for the same cell)."""
    before: dict[str, Any] = {}
    if rule.pk:
        old = LoanRule.objects.get(pk=rule.pk)
        before = {f: getattr(old, f) for f in RULE_FIELDS}
    changes = {
        f: [str(before.get(f, "")), str(getattr(rule, f))]
        for f in RULE_FIELDS
        if before.get(f) != getattr(rule, f)
    }
    try:
        with transaction.atomic():
            rule.save()
            audit("loan_rule.saved", rule, by=by, changes=changes)
    except IntegrityError as error:
        raise RuleExists() from error
    return rule


def delete_rule(rule: LoanRule, *, by: User | None) -> None:
    with transaction.atomic():
        audit("loan_rule.deleted", rule, by=by, changes={"rule": str(rule)})
        rule.delete()


def set_opening_hours(
    branch: Branch, weekday: int, *, opens: time | None, closes: time | None, by: User | None
) -> OpeningHours | None:
    """Set a branch's hours on one weekday (0 = Monday); no hours closes it that day."""
    with transaction.atomic():
        OpeningHours.objects.filter(branch=branch, weekday=weekday).delete()
        row = None
        if opens is not None and closes is not None:
            if closes <= opens:
                raise InvalidHours()
            row = OpeningHours.objects.create(
                branch=branch, weekday=weekday, opens=opens, closes=closes
            )
        audit(
            "branch.hours_set",
            branch,
            by=by,
            changes={"weekday": weekday, "opens": str(opens), "closes": str(closes)},
        )
    return row


def add_closure_day(
    day: date, reason: str, *, by: User | None, branch: Branch | None = None
) -> ClosureDay:
    """Close a branch (or, without one, every branch) on ``day``. Loans already out keep
    their due dates; new due dates and fines follow the new calendar."""
    with transaction.atomic():
        closure, _created = ClosureDay.objects.update_or_create(
            branch=branch, date=day, defaults={"reason": reason.strip()}
        )
        audit("closure_day.added", closure, by=by, changes={"date": day.isoformat()})
    return closure


def remove_closure_day(closure: ClosureDay, *, by: User | None) -> None:
    with transaction.atomic():
        audit("closure_day.removed", closure, by=by, changes={"date": closure.date.isoformat()})
        closure.delete()
