"""The lending desk: check-out, check-in, renewal, lost, damaged and claims-returned.

Each service owns its transaction and locks what it reads before writing, in one order for
all circulation services: reader → record → item → loan → hold. The ledger entry ("loan",
"return", "renewal") is queued in the same transaction, so it exists exactly when the change
commits. Reading history: after the return a loan forgets its reader (``patron`` cleared; the
segment, copy and dates stay for statistics) unless the reader opted in to keep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, ItemStatus, LoanType
from kitobxon.circulation import calendar, queries, rules, terms
from kitobxon.circulation.errors import (
    HoldWaiting,
    InvalidAmount,
    InvalidTransition,
    ItemNotAvailable,
    ItemNotForLoan,
    ItemOnHoldForAnother,
    LoanLimitReached,
    OverdueTooLong,
    RenewalLimitReached,
)
from kitobxon.circulation.models import (
    ANY,
    QUEUED_HOLD_STATES,
    TRAPPED_HOLD_STATES,
    Block,
    Charge,
    ChargeKind,
    Hold,
    HoldState,
    Loan,
    LoanRule,
    LoanState,
    PeriodUnit,
    ReaderPreference,
    Transit,
)
from kitobxon.circulation.services import fines
from kitobxon.circulation.services._common import audit, move_item
from kitobxon.circulation.services.holds import (
    Routed,
    fulfil,
    holds_for,
    lock_record,
    route_item,
)
from kitobxon.circulation.services.readers import ensure_may_borrow
from kitobxon.circulation.states import LoanEvent, next_loan_state
from kitobxon.ledger import services as ledger

CENT = Decimal("0.01")


def _lock_item(item_id: int) -> Item:
    # Only the copy's row: its branch comes along for reading, not locked (every desk of a
    # branch would otherwise queue on the branch's row on PostgreSQL).
    return Item.objects.select_for_update(of=("self",)).select_related("branch").get(pk=item_id)


@dataclass(frozen=True)
class _Terms:
    """The loan rule and the desk's calendar for a (segment, loan type, home branch, desk)."""

    key: tuple[str, str, int | None, int]
    rule: LoanRule
    calendar: calendar.Calendar


def _terms(segment: str, item: Item, desk_id: int, known: _Terms | None = None) -> _Terms:
    """The rule and the calendar that apply, read again only when ``known`` (read before the
    transaction) was for another reader segment, loan type, home branch or desk.

    Rules and calendars are settings a librarian edits now and then, not state another desk
    changes while lending, so check-outs and renewals read them before they take the write
    lock: on SQLite every writer queues for that lock, and these four queries were a third
    of the time each one held it."""
    key = (segment, item.loan_type, item.branch_id, desk_id)
    if known is not None and known.key == key:
        return known
    lending = terms.current()
    rule = lending.rule_for(segment, item.loan_type, item.branch_id)
    return _Terms(key, rule, lending.calendar(desk_id))


_DESK_SQL = f"""
SELECT
    (SELECT COALESCE(SUM(amount), 0) FROM {Charge._meta.db_table} WHERE patron_id = %s),
    EXISTS (SELECT 1 FROM {Block._meta.db_table}
            WHERE patron_id = %s AND lifted_at IS NULL AND (until IS NULL OR until >= %s)),
    (SELECT COUNT(*) FROM {Loan._meta.db_table} WHERE patron_id = %s AND state = %s),
    (SELECT COUNT(*) FROM {Loan._meta.db_table} loan
     JOIN {Item._meta.db_table} item ON item.id = loan.item_id
     WHERE loan.patron_id = %s AND loan.state = %s AND item.loan_type = %s),
    EXISTS (SELECT 1 FROM {Hold._meta.db_table}
            WHERE (trapped_item_id = %s AND state IN (%s, %s))
               OR (record_id = %s AND state IN (%s, %s) AND (item_id IS NULL OR item_id = %s)))
"""  # noqa: S608 (table names from the models; every value is a parameter)


@dataclass(frozen=True)
class _Desk:
    """What the desk reads under the reader's and the copy's locks before it lends."""

    owed: Decimal
    noted: bool
    out_all: int
    out_same: int
    waiting: bool


def _desk(reader_id: int, item: Item, today: date) -> _Desk:
    """One statement: what the reader owes and whether a librarian's block is in force (as
    ``queries.standing`` and ``queries.active_blocks`` say), their active loans (all, and
    of the copy's loan type: the rule counts one or the other), and whether a hold wants the
    copy (``holds.holds_for``).

    Plain SQL: built with the ORM's subqueries this one read cost more CPU than all the
    other statements of a check-out together, on the busiest path of the lending desk."""
    active = LoanState.ACTIVE.value
    with connection.cursor() as cursor:
        cursor.execute(
            _DESK_SQL,
            [
                reader_id,
                reader_id,
                connection.ops.adapt_datefield_value(today),
                reader_id,
                active,
                reader_id,
                active,
                item.loan_type,
                item.pk,
                *(str(state) for state in TRAPPED_HOLD_STATES),
                item.record_id,
                *(str(state) for state in QUEUED_HOLD_STATES),
                item.pk,
            ],
        )
        owed, noted, out_all, out_same, waiting = cursor.fetchone()
    return _Desk(
        owed=Decimal(owed or 0).quantize(CENT),
        noted=bool(noted),
        out_all=int(out_all),
        out_same=int(out_same),
        waiting=bool(waiting),
    )


def _hold_to_fulfil(item: Item, patron: User, *, waiting: bool = True) -> Hold | None:
    """The reader's own hold this copy meets, if any; refused when the copy is kept for, or
    needed by, readers ahead of them in the queue. ``waiting=False``: the caller found no
    hold for the copy (``holds_for``) under the copy's lock."""
    if not waiting:
        return None
    trapped = (
        Hold.objects.select_for_update()
        .filter(trapped_item=item, state__in=TRAPPED_HOLD_STATES)
        .first()
    )
    if trapped is not None:
        if trapped.patron_id != patron.pk:
            raise ItemOnHoldForAnother()
        if trapped.state != HoldState.READY:
            raise ItemNotAvailable()
        return trapped
    if item.status != ItemStatus.AVAILABLE:
        return None
    queue = list(
        Hold.objects.filter(record_id=item.record_id, state=HoldState.WAITING)
        .filter(Q(item__isnull=True) | Q(item=item))
        .order_by("id")
    )
    own = next((h for h in queue if h.patron_id == patron.pk), None)
    ahead = [h for h in queue if h.patron_id != patron.pk and (own is None or h.pk < own.pk)]
    if ahead:
        on_shelf = (
            Item.objects.filter(record_id=item.record_id, status=ItemStatus.AVAILABLE)
            .exclude(loan_type=LoanType.REFERENCE)
            .count()
        )
        if len(ahead) >= on_shelf:
            raise ItemOnHoldForAnother()
    if own is None:
        return None
    return Hold.objects.select_for_update().get(pk=own.pk)


def check_out(
    item: Item,
    patron: User,
    *,
    by: User | None,
    at: datetime | None = None,
    branch: Branch | None = None,
) -> Loan:
    """Lend ``item`` to ``patron`` at ``branch`` (the copy's own branch by default).

    Refused, in this order: the reader is blocked (inactive, expired card, fines, a
    librarian's note); the copy is for reference only; it is kept for another reader's hold;
    it is not available; the reader has reached the rule's limit.
    """
    at = at or timezone.now()
    today = timezone.localdate(at)
    inserting = False
    desk_id = branch.pk if branch is not None else item.branch_id
    known = _terms(patron.segment, item, desk_id)
    try:
        with transaction.atomic():
            reader = User.objects.select_for_update().get(pk=patron.pk)
            locked = _lock_item(item.pk)
            # One read under both locks (no other desk lends to this reader meanwhile).
            row = _desk(reader.pk, locked, today)
            ensure_may_borrow(reader, today, owed=row.owed, noted=row.noted)
            if not rules.is_lendable(locked):
                raise ItemNotForLoan()
            hold = _hold_to_fulfil(locked, reader, waiting=row.waiting)
            if hold is None and locked.status != ItemStatus.AVAILABLE:
                raise ItemNotAvailable()
            desk = branch or locked.branch
            agreed = _terms(reader.segment, locked, desk.pk, known)
            rule = agreed.rule
            if rule.loan_type == ANY:
                lent = row.out_all
            elif rule.loan_type == locked.loan_type:
                lent = row.out_same
            else:  # a rule matches the copy's own loan type or any; kept for safety
                lent = Loan.objects.filter(
                    patron=reader, state=LoanState.ACTIVE, item__loan_type=rule.loan_type
                ).count()
            if lent >= rule.max_items:
                raise LoanLimitReached(
                    _("The reader already has %(limit)d items on loan, the most allowed.")
                    % {"limit": rule.max_items}
                )
            due_at = agreed.calendar.due_at(at, rule.loan_period, rule.period_unit)
            # No savepoint of its own: nothing is written before it, so a refused insert
            # (another desk lent the copy first) rolls back the whole check-out below.
            inserting = True
            loan = Loan.objects.create(
                item=locked,
                patron=reader,
                segment=reader.segment,
                branch=desk,
                loaned_at=at,
                due_at=due_at,
            )
            inserting = False
            _lent(loan, locked, reader, hold, by=by, at=at)
    except IntegrityError as error:
        if inserting:  # another desk lent it first
            raise ItemNotAvailable() from error
        raise
    return loan


def _lent(
    loan: Loan,
    locked: Item,
    reader: User,
    hold: Hold | None,
    *,
    by: User | None,
    at: datetime,
) -> None:
    """What follows a new loan in ``check_out``'s transaction: the hold met, the copy's
    status, the audit event and the ledger entry."""
    due_at = loan.due_at
    if hold is not None:
        fulfil(hold, locked, at=at)
    move_item(locked, ItemStatus.ON_LOAN, by=by)
    audit(
        "loan.checked_out",
        loan,
        by=by,
        reader_id=reader.pk,
        changes={"item": locked.barcode, "due": due_at.isoformat()},
    )
    ledger.record(
        "loan",
        subject=f"loan:{loan.pk}",
        data={"item": locked.barcode, "due": due_at.isoformat()},
        reader=reader,
        at=at,
    )


@dataclass(frozen=True)
class CheckIn:
    """What a check-in did: the loan it closed, the fine charged, and where the copy went."""

    loan: Loan | None
    fine: Decimal
    routed: Routed


def check_in(item: Item, *, by: User | None, branch: Branch, at: datetime | None = None) -> CheckIn:
    """Take a copy back at ``branch``: close its loan (charging any overdue fine), then send
    it to the next reader waiting, home in transit, or back on the shelf. Checking in a copy
    with no loan (from the pick list, in transit, repaired) only routes it."""
    at = at or timezone.now()
    with transaction.atomic():
        lock_record(item.record_id)
        locked = _lock_item(item.pk)
        loan = (
            Loan.objects.select_for_update()
            .filter(item=locked)
            .exclude(state=LoanState.RETURNED)
            .order_by("-id")
            .first()
        )
        # One read under the locks: does the reader keep their history, does a hold want
        # the copy, is it in transit?
        reader_id = loan.patron_id if loan is not None else None
        flags = (
            Item.objects.filter(pk=locked.pk)
            .annotate(
                keeps=Exists(
                    ReaderPreference.objects.filter(patron_id=reader_id, keep_history=True)
                )
                if reader_id is not None
                else Value(False),
                waiting=Exists(holds_for(locked)),
                travelling=Exists(Transit.objects.filter(item=locked, received_at__isnull=True)),
            )
            .values("keeps", "waiting", "travelling")
            .get()
        )
        fine = Decimal(0)
        if loan is not None:
            loan.item = locked
            fine = _close_loan(loan, by=by, at=at, keeps=bool(flags["keeps"]))
        if flags["travelling"]:
            Transit.objects.filter(item=locked, received_at__isnull=True).update(received_at=at)
        routed = route_item(locked, branch=branch, by=by, at=at, waiting=flags["waiting"])
    return CheckIn(loan, fine, routed)


def _close_loan(loan: Loan, *, by: User | None, at: datetime, keeps: bool | None = None) -> Decimal:
    """Close ``loan``; ``keeps``: whether its reader keeps their history, when known."""
    state = loan.state
    loan.state = next_loan_state(state, LoanEvent.CHECK_IN)
    fine = Decimal(0)
    if state == LoanState.ACTIVE:
        fine = fines.charge_overdue(loan, until=at, by=by)
    elif state == LoanState.CLAIMS_RETURNED and loan.claimed_at:
        fine = fines.charge_overdue(loan, until=loan.claimed_at, by=by)
    reader = loan.patron_id
    loan.returned_at = at
    fields = ["state", "returned_at"]
    if reader is not None and not (queries.keeps_history(reader) if keeps is None else keeps):
        loan.patron = None
        fields.append("patron")
    loan.save(update_fields=fields)
    audit("loan.returned", loan, by=by, reader_id=None, changes={"fine": str(fine)})
    ledger.record(
        "return",
        subject=f"loan:{loan.pk}",
        data={"item": loan.item.barcode, "returned": at.isoformat()},
        reader=reader,
        at=at,
    )
    return fine


def renew(loan: Loan, *, by: User | None, at: datetime | None = None) -> Loan:
    """Extend a loan by the rule's renewal period, by the reader online or at the desk.

    Refused when the loan is not active, the reader is blocked, the renewal limit is
    reached, another reader waits for the title, or it is overdue by more than the rule
    allows. Renewing an overdue loan charges the fine so far.
    """
    at = at or timezone.now()
    known = _terms(loan.segment, loan.item, loan.branch_id)
    with transaction.atomic():
        lock_record(loan.item.record_id)
        item = _lock_item(loan.item_id)
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        locked.item = item
        state = next_loan_state(locked.state, LoanEvent.RENEW)
        if locked.patron_id is None:  # only a returned loan has forgotten its reader
            raise InvalidTransition()
        today = timezone.localdate(at)
        waiting = (
            Hold.objects.filter(record_id=item.record_id, state=HoldState.WAITING)
            .filter(Q(item__isnull=True) | Q(item=item))
            .exclude(patron_id=locked.patron_id)
        )
        # The reader, what they owe, a librarian's block and anyone else waiting: one read.
        reader = User.objects.annotate(**queries.standing(today), waiting=Exists(waiting)).get(
            pk=locked.patron_id
        )
        noted: bool = reader.noted  # type: ignore[attr-defined]  # queries.standing
        ensure_may_borrow(reader, today, owed=queries.owed_of(reader), noted=noted)
        agreed = _terms(locked.segment, item, locked.branch_id, known)
        rule = agreed.rule
        if locked.renewals >= rule.renewals_allowed:
            raise RenewalLimitReached()
        if reader.waiting:
            raise HoldWaiting()
        if at - locked.due_at > timedelta(days=rule.renew_overdue_days):
            raise OverdueTooLong()
        branch_calendar = agreed.calendar
        fines.charge_overdue(locked, until=at, by=by, rule=rule, branch_calendar=branch_calendar)
        start = at if rule.period_unit == PeriodUnit.HOURS else max(at, locked.due_at)
        locked.due_at = branch_calendar.due_at(start, rule.renewal_period, rule.period_unit)
        locked.state = state
        locked.renewals += 1
        locked.renewed_at = at
        locked.save(update_fields=["state", "due_at", "renewals", "renewed_at"])
        audit(
            "loan.renewed",
            locked,
            by=by,
            reader_id=reader.pk,
            changes={"due": locked.due_at.isoformat(), "renewals": locked.renewals},
        )
        ledger.record(
            "renewal",
            subject=f"loan:{locked.pk}",
            data={
                "item": item.barcode,
                "due": locked.due_at.isoformat(),
                "renewals": locked.renewals,
            },
            reader=reader,
            at=at,
        )
    return locked


def mark_lost(loan: Loan, *, by: User | None, at: datetime | None = None) -> Loan:
    """The reader (or the library) declares the copy lost: the overdue fine so far and the
    copy's price (or the library's lost-copy fee) are charged, and the copy is marked lost."""
    at = at or timezone.now()
    with transaction.atomic():
        item = _lock_item(loan.item_id)
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        locked.item = item
        state = locked.state
        locked.state = next_loan_state(state, LoanEvent.DECLARE_LOST)
        if state == LoanState.ACTIVE:
            fines.charge_overdue(locked, until=at, by=by)
        locked.lost_at = at
        locked.save(update_fields=["state", "lost_at"])
        if locked.patron_id is not None:
            fee = item.price or Decimal(settings.CIRCULATION_LOST_ITEM_FEE)
            fines.charge(
                locked.patron_id, ChargeKind.LOST, fee, by=by, loan=locked, note=item.barcode
            )
        move_item(item, ItemStatus.LOST, by=by)
        audit("loan.lost", locked, by=by, reader_id=None)
    return locked


def claims_returned(loan: Loan, *, by: User | None, at: datetime | None = None) -> Loan:
    """The reader says they returned the copy and the library cannot find it. The loan stops
    counting against the reader's limit and stops accruing fines while the copy is sought."""
    at = at or timezone.now()
    with transaction.atomic():
        item = _lock_item(loan.item_id)
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        locked.item = item
        locked.state = next_loan_state(locked.state, LoanEvent.CLAIM_RETURNED)
        locked.claimed_at = at
        locked.save(update_fields=["state", "claimed_at"])
        audit("loan.claims_returned", locked, by=by, reader_id=None)
    return locked


def mark_damaged(
    item: Item,
    *,
    by: User | None,
    note: str,
    amount: Decimal | None = None,
    charge_to: User | None = None,
) -> Charge | None:
    """Record damage to a copy. A copy on the shelf goes for repair (checking it in later
    returns it to circulation); ``amount`` is charged to ``charge_to`` or else to the reader
    who has the copy on loan."""
    with transaction.atomic():
        locked = _lock_item(item.pk)
        loan = Loan.objects.filter(item=locked, state=LoanState.ACTIVE).first()
        reader_id = charge_to.pk if charge_to else (loan.patron_id if loan else None)
        line = None
        if amount is not None:
            if reader_id is None:
                raise InvalidAmount(_("Choose the reader to charge for the damage."))
            line = fines.charge(
                reader_id,
                ChargeKind.DAMAGE,
                amount,
                by=by,
                loan=loan,
                note=f"{locked.barcode}: {note}",
            )
        if locked.status == ItemStatus.AVAILABLE:
            move_item(locked, ItemStatus.IN_REPAIR, by=by)
        audit("item.damaged", locked, by=by, reader_id=None, changes={"note": note})
    return line
