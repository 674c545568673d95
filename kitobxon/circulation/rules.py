"""Which loan rule applies, and what a late return costs.

Matching (Koha's order): among the rules whose branch is the copy's home branch or empty,
whose segment is the reader's or "any" and whose loan type is the copy's or "any", the most
specific wins, judged first by branch, then by segment, then by loan type:

    branch+segment+type > branch+segment > branch+type > branch
    > segment+type > segment > type > any/any (every branch)

So a branch's own rule overrides any rule for all branches, and a segment's rule overrides a
loan type's. Reference copies are never lent, whatever the rules say.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from kitobxon.catalogue.models import Item, LoanType
from kitobxon.circulation import terms
from kitobxon.circulation.calendar import Calendar
from kitobxon.circulation.models import LoanRule


def rule_for(segment: str, loan_type: str, branch_id: int | None) -> LoanRule:
    """The most specific rule for a reader segment, a loan type and a (home) branch."""
    return terms.current().rule_for(segment, loan_type, branch_id)


def rule_for_item(segment: str, item: Item) -> LoanRule:
    return rule_for(segment, item.loan_type, item.branch_id)


def is_lendable(item: Item) -> bool:
    return item.loan_type != LoanType.REFERENCE


def overdue_fine(
    rule: LoanRule, calendar: Calendar, due_at: datetime, at: datetime, *, already: Decimal
) -> Decimal:
    """The fine still to charge for a loan due at ``due_at`` and returned at ``at``.

    Open days late times the daily fine; nothing within the grace days; the loan's fines in
    all (``already`` charged plus this) never exceed the rule's maximum (when one is set).
    """
    days = calendar.overdue_days(due_at, at)
    if days <= rule.grace_days or rule.fine_per_day <= 0:
        return Decimal(0)
    amount = rule.fine_per_day * days
    if rule.max_fine > 0:
        amount = min(amount, rule.max_fine - already)
    return max(amount, Decimal(0))
