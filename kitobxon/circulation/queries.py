"""Reads, and the one door through which loans, holds and money lines are fetched.

A reader sees their own loans, holds and charges; staff holding the model's view permission
(librarians, see ``CirculationConfig.ready``) see everyone's. Anyone else gets a 404, never a
403, so ids do not reveal what exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, ItemStatus, LoanType
from kitobxon.circulation import errors, rules, terms
from kitobxon.circulation.models import (
    QUEUED_HOLD_STATES,
    Block,
    Charge,
    ChargeKind,
    Hold,
    HoldState,
    Loan,
    LoanState,
    ReaderPreference,
    Transit,
)

AnyUser = User | AnonymousUser
CENT = Decimal("0.01")


def _sees_everyone(user: AnyUser, model: str) -> bool:
    return bool(
        user.is_authenticated and user.is_active and user.has_perm(f"circulation.view_{model}")
    )


def readable_loans(user: AnyUser) -> QuerySet[Loan]:
    loans = Loan.objects.select_related("item", "item__record", "branch")
    if _sees_everyone(user, "loan"):
        return loans
    if not user.is_authenticated:
        return loans.none()
    return loans.filter(patron_id=user.pk)


def access_loan(user: AnyUser, loan_id: int) -> Loan:
    loan = readable_loans(user).filter(pk=loan_id).first()
    if loan is None:
        raise Http404
    return loan


def readable_holds(user: AnyUser) -> QuerySet[Hold]:
    holds = Hold.objects.select_related("record", "item", "pickup_branch")
    if _sees_everyone(user, "hold"):
        return holds
    if not user.is_authenticated:
        return holds.none()
    return holds.filter(patron_id=user.pk)


def access_hold(user: AnyUser, hold_id: int) -> Hold:
    hold = readable_holds(user).filter(pk=hold_id).first()
    if hold is None:
        raise Http404
    return hold


def readable_charges(user: AnyUser) -> QuerySet[Charge]:
    if _sees_everyone(user, "charge"):
        return Charge.objects.all()
    if not user.is_authenticated:
        return Charge.objects.none()
    return Charge.objects.filter(patron_id=user.pk)


def readable_transits(user: AnyUser) -> QuerySet[Transit]:
    """Copies travelling between branches: staff business (a transit names no reader)."""
    if _sees_everyone(user, "transit"):
        return Transit.objects.select_related("from_branch", "to_branch")
    return Transit.objects.none()


def current_loans(patron: User) -> QuerySet[Loan]:
    """What the reader has out now, soonest due first."""
    return (
        Loan.objects.filter(patron=patron, state__in=[LoanState.ACTIVE, LoanState.CLAIMS_RETURNED])
        .select_related("item", "item__record")
        .order_by("due_at", "id")
    )


def hold_position(hold: Hold) -> int | None:
    """1 for the first reader in the record's queue; None once the hold left the queue.

    Suspended holds keep their place (they are skipped while suspended).
    """
    if hold.state not in QUEUED_HOLD_STATES:
        return None
    ahead = Hold.objects.filter(
        record_id=hold.record_id, state__in=QUEUED_HOLD_STATES, id__lt=hold.pk
    ).count()
    return ahead + 1


def hold_positions(holds: list[Hold]) -> dict[int, int]:
    """``hold_position`` for several holds in one query: hold id → place in its queue."""
    records = {h.record_id for h in holds if h.state in QUEUED_HOLD_STATES}
    queues: dict[int, list[int]] = {}
    for record_id, hold_id in (
        Hold.objects.filter(record_id__in=records, state__in=QUEUED_HOLD_STATES)
        .order_by("id")
        .values_list("record_id", "id")
    ):
        queues.setdefault(record_id, []).append(hold_id)
    return {
        h.pk: queues[h.record_id].index(h.pk) + 1
        for h in holds
        if h.state in QUEUED_HOLD_STATES and h.pk in queues.get(h.record_id, [])
    }


def balance(patron: User | int) -> Decimal:
    """What the reader owes in so'm: the sum of their money lines (never a stored number)."""
    patron_id = patron if isinstance(patron, int) else patron.pk
    total = Charge.objects.filter(patron_id=patron_id).aggregate(total=Sum("amount"))["total"]
    return Decimal(total or 0).quantize(CENT)


def loan_fines(loan: Loan) -> Decimal:
    """Overdue fines already charged for one loan."""
    total = Charge.objects.filter(loan=loan, kind=ChargeKind.OVERDUE).aggregate(
        total=Sum("amount")
    )["total"]
    return Decimal(total or 0).quantize(CENT)


def accruing_fine(loan: Loan, at: datetime | None = None) -> Decimal:
    """The fine an overdue loan would add if it came back at ``at`` (for the reader's page)."""
    if loan.state != LoanState.ACTIVE:
        return Decimal(0)
    rule = rules.rule_for(loan.segment, loan.item.loan_type, loan.item.branch_id)
    return rules.overdue_fine(
        rule,
        terms.calendar_for(loan.branch_id),
        loan.due_at,
        at or timezone.now(),
        already=loan_fines(loan),
    ).quantize(CENT)


def reader_blocks(
    patron: User,
    today: date | None = None,
    *,
    owed: Decimal | None = None,
    noted: bool | None = None,
) -> list[errors.ReaderBlocked]:
    """Every reason the reader may not borrow or renew today, each with its sentence.

    ``owed`` (the balance) and ``noted`` (whether a librarian's block is in force) may come
    from the caller's own query (``standing``); the notes themselves are read only when
    there is one, for their sentences.
    """
    today = today or timezone.localdate()
    reasons: list[errors.ReaderBlocked] = []
    if not patron.is_active or patron.erased_at is not None:
        reasons.append(errors.AccountInactive())
    if patron.card_expires_on is not None and patron.card_expires_on < today:
        reasons.append(errors.CardExpired())
    if owed is None:
        owed = balance(patron)
    if owed > Decimal(settings.CIRCULATION_FINE_BLOCK_THRESHOLD):
        reasons.append(errors.FinesOverLimit())
    if noted is None or noted:
        for block in active_blocks(patron, today):
            reasons.append(errors.BlockedByLibrarian(block.reason or None))
    return reasons


def standing(today: date) -> dict[str, Any]:
    """Annotations for a query on readers (``User``): what they owe (``owed``) and whether a
    librarian's block is in force (``noted``), so that a service reads both, and the reader,
    in one statement (see ``reader_blocks``)."""
    owed = (
        Charge.objects.filter(patron_id=OuterRef("pk"))
        .order_by()
        .values("patron_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return {
        "owed": Coalesce(
            Subquery(owed, output_field=Charge._meta.get_field("amount")),
            Value(Decimal(0)),
            output_field=Charge._meta.get_field("amount"),
        ),
        "noted": Exists(
            Block.objects.filter(patron_id=OuterRef("pk"), lifted_at__isnull=True).filter(
                Q(until__isnull=True) | Q(until__gte=today)
            )
        ),
    }


def owed_of(row: Any) -> Decimal:
    """The ``owed`` annotation of ``standing`` as the balance ``balance`` would give."""
    return Decimal(row.owed or 0).quantize(CENT)


def active_blocks(patron: User, today: date | None = None) -> QuerySet[Block]:
    today = today or timezone.localdate()
    return Block.objects.filter(patron=patron, lifted_at__isnull=True).filter(
        Q(until__isnull=True) | Q(until__gte=today)
    )


def keeps_history(patron_id: int) -> bool:
    return ReaderPreference.objects.filter(patron_id=patron_id, keep_history=True).exists()


def overdue_loans(at: datetime | None = None) -> QuerySet[Loan]:
    """Loans past their due time, oldest first: the overdue list and the overdue notices."""
    return (
        Loan.objects.filter(state=LoanState.ACTIVE, due_at__lt=at or timezone.now())
        .select_related("item", "item__record", "patron")
        .order_by("due_at", "id")
    )


def due_soon(days: int = 2, at: datetime | None = None) -> QuerySet[Loan]:
    """Active loans falling due within ``days``: the due-soon notices."""
    now = at or timezone.now()
    return Loan.objects.filter(
        state=LoanState.ACTIVE, due_at__gte=now, due_at__lt=now + timedelta(days=days)
    ).select_related("item", "item__record", "patron")


@dataclass(frozen=True)
class PickListRow:
    hold: Hold
    items: list[Item]


def pick_list(branch: Branch) -> list[PickListRow]:
    """Waiting holds that an available copy on this branch's shelves could fill, oldest first.

    The librarian pulls one of the copies and checks it in, which sets it aside for the hold.
    """
    items = list(
        Item.objects.filter(branch=branch, status=ItemStatus.AVAILABLE)
        .exclude(loan_type=LoanType.REFERENCE)
        .select_related("record")
    )
    by_record: dict[int, list[Item]] = {}
    for item in items:
        by_record.setdefault(item.record_id, []).append(item)
    rows = []
    for hold in Hold.objects.filter(
        state=HoldState.WAITING, record_id__in=list(by_record)
    ).select_related("record", "pickup_branch", "patron"):
        fits = [i for i in by_record[hold.record_id] if hold.item_id in (None, i.pk)]
        if fits:
            rows.append(PickListRow(hold, fits))
    return rows


def transit_list(branch: Branch, *, outgoing: bool = True) -> QuerySet[Transit]:
    """Copies on their way from (or, with ``outgoing=False``, to) this branch."""
    transits = Transit.objects.filter(received_at__isnull=True).select_related(
        "item", "item__record", "from_branch", "to_branch", "hold"
    )
    if outgoing:
        return transits.filter(from_branch=branch)
    return transits.filter(to_branch=branch)
