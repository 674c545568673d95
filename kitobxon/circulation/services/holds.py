"""Holds: a queue per record, first come first served, and where a returned copy goes next.

Lock order, shared with ``loans`` so that no two services deadlock:
reader → record → item → loan → hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, ItemStatus, LoanType, Record
from kitobxon.circulation import queries, rules, terms
from kitobxon.circulation.errors import (
    AlreadyOnHold,
    AlreadyOnLoan,
    HoldsNotAllowed,
    InvalidDate,
    ItemNotForLoan,
)
from kitobxon.circulation.models import (
    OPEN_HOLD_STATES,
    QUEUED_HOLD_STATES,
    TRAPPED_HOLD_STATES,
    Hold,
    HoldState,
    Loan,
    LoanState,
    Transit,
)
from kitobxon.circulation.notices import NoticeKind, announce
from kitobxon.circulation.services._common import audit, move_item
from kitobxon.circulation.services.readers import ensure_may_borrow
from kitobxon.circulation.states import HoldEvent, next_hold_state


def lock_record(record_id: int) -> None:
    """Serialise the work on one record's queue (a no-op lock on SQLite, which serialises
    every writing transaction anyway). Only the id is read: the lock is the point."""
    Record.objects.select_for_update().filter(pk=record_id).values_list("pk", flat=True).first()


def holds_for(item: Item) -> QuerySet[Hold]:
    """Every hold a copy could serve or is kept for: set aside for it (ready or in transit),
    or queued for its record (for any copy or this one). Nothing here means nobody waits for
    it, which one cheap EXISTS tells before the queue is read and locked."""
    return Hold.objects.filter(
        Q(trapped_item_id=item.pk, state__in=TRAPPED_HOLD_STATES)
        | Q(record_id=item.record_id, state__in=QUEUED_HOLD_STATES)
        & (Q(item__isnull=True) | Q(item_id=item.pk))
    )


def place_hold(
    target: Record | Item,
    patron: User,
    *,
    pickup_branch: Branch,
    by: User | None,
    expires_on: date | None = None,
    at: datetime | None = None,
) -> Hold:
    """Join the queue for a record (its first available copy) or for one specific copy.

    Refused when the reader is blocked, the title has no copy for loan, the rules allow no
    holds, or the reader already holds or has borrowed it.
    """
    at = at or timezone.now()
    today = timezone.localdate(at)
    item = target if isinstance(target, Item) else None
    record_id = target.record_id if isinstance(target, Item) else target.pk
    if expires_on is not None and expires_on <= today:
        raise InvalidDate()
    with transaction.atomic():
        lock_record(record_id)
        ensure_may_borrow(patron, today)
        copies = [item] if item else list(Item.objects.filter(record_id=record_id))
        copies = [
            c for c in copies if c.loan_type != LoanType.REFERENCE and c.status != "withdrawn"
        ]
        if not copies:
            raise ItemNotForLoan()
        if not any(rules.rule_for_item(patron.segment, c).holds_allowed for c in copies):
            raise HoldsNotAllowed()
        if Loan.objects.filter(
            patron=patron, item__record_id=record_id, state=LoanState.ACTIVE
        ).exists():
            raise AlreadyOnLoan()
        if Hold.objects.filter(
            patron=patron, record_id=record_id, state__in=OPEN_HOLD_STATES
        ).exists():
            raise AlreadyOnHold()
        try:
            with transaction.atomic():
                hold = Hold.objects.create(
                    patron=patron,
                    record_id=record_id,
                    item=item,
                    pickup_branch=pickup_branch,
                    placed_at=at,
                    expires_on=expires_on
                    or today + timedelta(days=settings.CIRCULATION_HOLD_EXPIRY_DAYS),
                )
        except IntegrityError as error:
            raise AlreadyOnHold() from error
        audit(
            "hold.placed",
            hold,
            by=by,
            reader_id=patron.pk,
            changes={"record": record_id, "item": item.pk if item else None},
        )
    return hold


def _lock_hold(hold: Hold) -> Hold:
    return Hold.objects.select_for_update().get(pk=hold.pk)


def _close(hold: Hold, event: HoldEvent, *, at: datetime, fields: tuple[str, ...] = ()) -> None:
    """Close a hold; a reader who keeps no history is forgotten by it."""
    hold.state = next_hold_state(hold.state, event)
    hold.closed_at = at
    fields = ("state", "closed_at", *fields)
    if hold.patron_id is not None and not queries.keeps_history(hold.patron_id):
        hold.patron = None
        fields = (*fields, "patron")
    hold.save(update_fields=fields)


def cancel_hold(hold: Hold, *, by: User | None, at: datetime | None = None) -> Hold:
    """The reader (or a librarian) gives up a hold. A copy kept for it serves the next one."""
    at = at or timezone.now()
    with transaction.atomic():
        lock_record(hold.record_id)
        # Under the record's lock nothing else sets a copy aside for this hold.
        item_id = Hold.objects.filter(pk=hold.pk).values_list("trapped_item_id", flat=True)[0]
        item = Item.objects.select_for_update().get(pk=item_id) if item_id else None
        locked = _lock_hold(hold)
        reader_id = locked.patron_id
        was = locked.state
        _close(locked, HoldEvent.CANCEL, at=at)
        audit("hold.cancelled", locked, by=by, reader_id=reader_id)
        if item is not None and was == HoldState.READY:
            route_item(item, branch=locked.pickup_branch, by=by, at=at)
    return locked


def suspend_hold(hold: Hold, *, until: date, by: User | None) -> Hold:
    """Keep the reader's place but skip them until ``until`` (they are away)."""
    if until <= timezone.localdate():
        raise InvalidDate()
    with transaction.atomic():
        locked = _lock_hold(hold)
        locked.state = next_hold_state(locked.state, HoldEvent.SUSPEND)
        locked.suspended_until = until
        locked.save(update_fields=["state", "suspended_until"])
        audit(
            "hold.suspended",
            locked,
            by=by,
            reader_id=locked.patron_id,
            changes={"until": until.isoformat()},
        )
    return locked


def resume_hold(hold: Hold, *, by: User | None) -> Hold:
    with transaction.atomic():
        locked = _lock_hold(hold)
        _resume(locked)
        audit("hold.resumed", locked, by=by, reader_id=locked.patron_id)
    return locked


def _resume(hold: Hold) -> None:
    hold.state = next_hold_state(hold.state, HoldEvent.RESUME)
    hold.suspended_until = None
    hold.save(update_fields=["state", "suspended_until"])


def next_hold_for(item: Item, today: date) -> Hold | None:
    """The first reader in the record's queue this copy can serve (holds on another specific
    copy and suspended holds are skipped; a suspension that has ended is lifted)."""
    queue = (
        Hold.objects.select_for_update()
        .filter(record_id=item.record_id, state__in=QUEUED_HOLD_STATES)
        .filter(Q(item__isnull=True) | Q(item=item))
        .order_by("id")
    )
    for hold in queue:
        if hold.state == HoldState.SUSPENDED:
            if hold.suspended_until is None or hold.suspended_until > today:
                continue
            _resume(hold)
        return hold
    return None


@dataclass(frozen=True)
class Routed:
    """Where a checked-in copy went: set aside for a hold, in transit, or back on the shelf."""

    status: str
    hold: Hold | None = None
    transit: Transit | None = None


def route_item(
    item: Item, *, branch: Branch, by: User | None, at: datetime, waiting: bool = True
) -> Routed:
    """Send a copy that is at ``branch`` and free where it is needed next.

    The first reader waiting for it gets it: on the hold shelf when this is their pickup
    branch (with a pickup deadline), otherwise in transit there. With nobody waiting, a copy
    of another branch goes home in transit; one of this branch goes back on the shelf.
    The caller holds the locks on the record and the item; ``waiting=False`` when it has
    found (``holds_for``, under those locks) that no hold wants the copy.
    """
    if item.status == ItemStatus.WITHDRAWN:
        return Routed(item.status)
    today = timezone.localdate(at)
    hold = (
        (
            Hold.objects.select_for_update()
            .filter(trapped_item=item, state__in=TRAPPED_HOLD_STATES)
            .first()
        )
        or next_hold_for(item, today)
        if waiting
        else None
    )
    if hold is None:
        if branch.pk != item.branch_id:
            transit = _send(item, branch, item.branch, hold=None, at=at)
            move_item(item, ItemStatus.IN_TRANSIT, by=by)
            return Routed(item.status, transit=transit)
        move_item(item, ItemStatus.AVAILABLE, by=by)
        return Routed(item.status)
    if branch.pk == hold.pickup_branch_id:
        if hold.state != HoldState.READY:
            event = HoldEvent.ARRIVE if hold.state == HoldState.IN_TRANSIT else HoldEvent.TRAP_HERE
            hold.state = next_hold_state(hold.state, event)
            hold.trapped_item = item
            hold.trapped_at = hold.trapped_at or at
            hold.pickup_by = terms.calendar_for(branch).add_open_days(
                today, settings.CIRCULATION_HOLD_PICKUP_DAYS
            )
            hold.save(update_fields=["state", "trapped_item", "trapped_at", "pickup_by"])
            audit("hold.ready", hold, by=by, reader_id=None, changes={"item": item.pk})
            announce(NoticeKind.HOLD_READY, patron_id=hold.patron_id, subject=f"hold:{hold.pk}")
        move_item(item, ItemStatus.ON_HOLD_SHELF, by=by)
        return Routed(item.status, hold=hold)
    if hold.state != HoldState.IN_TRANSIT:
        hold.state = next_hold_state(hold.state, HoldEvent.TRAP_ELSEWHERE)
        hold.trapped_item = item
        hold.trapped_at = at
        hold.save(update_fields=["state", "trapped_item", "trapped_at"])
        audit("hold.in_transit", hold, by=by, reader_id=None, changes={"item": item.pk})
    transit = _send(item, branch, hold.pickup_branch, hold=hold, at=at)
    move_item(item, ItemStatus.IN_TRANSIT, by=by)
    return Routed(item.status, hold=hold, transit=transit)


def _send(
    item: Item, source: Branch, target: Branch, *, hold: Hold | None, at: datetime
) -> Transit:
    Transit.objects.filter(item=item, received_at__isnull=True).update(received_at=at)
    return Transit.objects.create(
        item=item, from_branch=source, to_branch=target, hold=hold, sent_at=at
    )


@dataclass(frozen=True)
class ExpiryReport:
    resumed: int
    expired: int
    pickup_expired: int


def expire_holds(*, at: datetime | None = None) -> ExpiryReport:
    """The daily hold job: end suspensions that are over, expire holds past their date and
    holds not picked up by their deadline — whose copy then serves the next reader."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    resumed = expired = pickup_expired = 0
    for hold_id in Hold.objects.filter(
        state=HoldState.SUSPENDED, suspended_until__lte=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            hold = Hold.objects.select_for_update().get(pk=hold_id)
            if hold.state == HoldState.SUSPENDED:
                _resume(hold)
                audit("hold.resumed", hold, by=None, reader_id=None)
                resumed += 1
    for hold_id in Hold.objects.filter(
        state__in=QUEUED_HOLD_STATES, expires_on__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            hold = Hold.objects.select_for_update().get(pk=hold_id)
            if hold.state in QUEUED_HOLD_STATES:
                _expire(hold, at=at)
                expired += 1
    for hold_id, record_id, item_id in Hold.objects.filter(
        state=HoldState.READY, pickup_by__lt=today
    ).values_list("pk", "record_id", "trapped_item_id"):
        with transaction.atomic():
            lock_record(record_id)
            item = Item.objects.select_for_update().get(pk=item_id)
            hold = Hold.objects.select_for_update().select_related("pickup_branch").get(pk=hold_id)
            if hold.state != HoldState.READY:
                continue
            _expire(hold, at=at)
            route_item(item, branch=hold.pickup_branch, by=None, at=at)
            pickup_expired += 1
    return ExpiryReport(resumed, expired, pickup_expired)


def _expire(hold: Hold, *, at: datetime) -> None:
    reader_id = hold.patron_id
    _close(hold, HoldEvent.EXPIRE, at=at)
    audit("hold.expired", hold, by=None, reader_id=None)
    announce(NoticeKind.HOLD_EXPIRED, patron_id=reader_id, subject=f"hold:{hold.pk}")


def fulfil(hold: Hold, item: Item, *, at: datetime) -> None:
    """The reader borrows the copy: their hold is met (inside ``check_out``'s transaction)."""
    hold.trapped_item = hold.trapped_item or item
    _close(hold, HoldEvent.FULFIL, at=at, fields=("trapped_item",))
