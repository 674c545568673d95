"""Money owed: overdue fines, lost and damaged copies, payments and waivers.

Each is a new line in the reader's account (``Charge``); nothing is ever edited, and what a
reader owes is always the sum of their lines.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from kitobxon.accounts.models import User
from kitobxon.circulation import queries, rules, terms
from kitobxon.circulation.calendar import Calendar
from kitobxon.circulation.errors import AmountExceedsBalance, InvalidAmount
from kitobxon.circulation.models import Charge, ChargeKind, Loan, LoanRule
from kitobxon.circulation.services._common import audit

CENT = Decimal("0.01")


def charge(
    patron_id: int,
    kind: ChargeKind,
    amount: Decimal,
    *,
    by: User | None,
    loan: Loan | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Charge:
    """Add one debit line (call inside the caller's transaction)."""
    amount = amount.quantize(CENT)
    if amount <= 0:
        raise InvalidAmount()
    line = Charge(
        patron_id=patron_id, loan=loan, kind=kind, amount=amount, note=note[:300], created_by=by
    )
    if at is not None:
        line.created_at = at
    line.save(force_insert=True)
    audit(
        f"charge.{kind}",
        line,
        by=by,
        reader_id=None,
        changes={"patron": patron_id, "amount": str(amount)},
    )
    return line


def charge_overdue(
    loan: Loan,
    *,
    until: datetime,
    by: User | None,
    rule: LoanRule | None = None,
    branch_calendar: Calendar | None = None,
) -> Decimal:
    """Charge what an overdue loan has cost up to ``until`` and not been charged yet.

    ``rule`` (the loan's rule) and ``branch_calendar`` (its branch's) when the caller has
    them already; a loan not yet due costs nothing and reads neither.
    """
    if loan.patron_id is None or until <= loan.due_at:
        return Decimal(0)
    item = loan.item
    rule = rule or rules.rule_for(loan.segment, item.loan_type, item.branch_id)
    amount = rules.overdue_fine(
        rule,
        branch_calendar or terms.calendar_for(loan.branch_id),
        loan.due_at,
        until,
        already=queries.loan_fines(loan),
    ).quantize(CENT)
    if amount > 0:
        charge(loan.patron_id, ChargeKind.OVERDUE, amount, by=by, loan=loan, note=item.barcode)
    return amount


def _credit(
    patron: User, kind: ChargeKind, amount: Decimal, *, by: User | None, note: str
) -> Charge:
    amount = Decimal(amount).quantize(CENT)
    if amount <= 0:
        raise InvalidAmount()
    with transaction.atomic():
        # One payment or waiver at a time per reader, so two desks cannot both take the
        # last so'm owed.
        User.objects.select_for_update().filter(pk=patron.pk).first()
        if amount > queries.balance(patron):
            raise AmountExceedsBalance()
        line = Charge.objects.create(
            patron=patron, kind=kind, amount=-amount, note=note[:300], created_by=by
        )
        audit(
            f"charge.{kind}",
            line,
            by=by,
            reader_id=None,
            changes={"patron": patron.pk, "amount": str(-amount)},
        )
    return line


def record_payment(patron: User, amount: Decimal, *, by: User | None, note: str = "") -> Charge:
    """A librarian takes ``amount`` so'm from the reader; refused above what they owe."""
    return _credit(patron, ChargeKind.PAYMENT, amount, by=by, note=note)


def waive(patron: User, amount: Decimal, *, by: User | None, reason: str) -> Charge:
    """A librarian forgives ``amount`` so'm of what the reader owes, with the reason."""
    return _credit(patron, ChargeKind.WAIVER, amount, by=by, note=reason)
