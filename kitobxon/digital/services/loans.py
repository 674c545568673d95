"""Digital loans and the waiting list: borrow, return early, expire, wait, leave.

The library rule: a licence lends at most ``copies`` readers at once, each for ``loan_days``,
and never after ``valid_until``. A copy that frees up is kept for the first reader waiting (first
come, first served) for ``DIGITAL_OFFER_HOURS``; after that it passes to the next one.

The licence row is the lock for everything under it: every service here locks it
(``select_for_update``; SQLite's IMMEDIATE transactions serialise writers anyway) before it
reads loans or waits, so "count the loans out, then lend" cannot be raced. Under the lock each
service first *settles* the licence (``settle_licence``): loans past their due time end, offers
past their deadline pass on, free copies go to readers waiting. What settling did is kept even
when the service then refuses, so a refusal never rolls back what time already decided.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from kitobxon.catalogue.models import Record
from kitobxon.core import audit as core_audit
from kitobxon.digital import notices
from kitobxon.digital.errors import (
    AlreadyBorrowed,
    AlreadyWaiting,
    CopyFree,
    DigitalError,
    LicenceExpired,
    NoCopyFree,
    NoLicence,
    NotWaiting,
    ReaderMayNotBorrow,
)
from kitobxon.digital.models import (
    DigitalLoan,
    DigitalLoanState,
    Licence,
    WaitlistEntry,
    WaitState,
)
from kitobxon.digital.states import (
    OPEN_WAIT_STATES,
    LoanEvent,
    WaitEvent,
    next_loan_state,
    next_wait_state,
)
from kitobxon.ledger import services as ledger

#: An ended loan keeps its reader this long (the "your loan has ended" notice needs it).
FORGET_AFTER = timedelta(hours=1)


def _audit(action: str, obj: Any, *, by: Any, changes: dict[str, Any] | None = None) -> None:
    """Audit without turning the audit trail into a reading history: when readers act for
    themselves the event names no actor, only that it was the reader (as circulation does)."""
    changes = dict(changes or {})
    reader_id = getattr(obj, "reader_id", None)
    if by is not None and reader_id is not None and getattr(by, "pk", None) == reader_id:
        changes["by"] = "reader"
        by = None
    core_audit.record(action, obj, by=by, changes=changes)


def forget_ended(now: datetime | None = None) -> int:
    """Ended loans forget their reader and ended waits go, an hour after they ended.

    Digital loan history is not kept (patron privacy by default); the reader's pseudonym in the
    ledger still lets them, and only them, prove a loan happened.
    """
    cutoff = (now or timezone.now()) - FORGET_AFTER
    forgotten = (
        DigitalLoan.objects.filter(reader__isnull=False, ended_at__lte=cutoff)
        .exclude(state=DigitalLoanState.ACTIVE)
        .update(reader=None)
    )
    WaitlistEntry.objects.filter(
        state__in=[WaitState.FULFILLED, WaitState.CANCELLED, WaitState.EXPIRED],
        created_at__lte=cutoff,
    ).delete()
    return forgotten


def offer_hours() -> int:
    """How long a freed copy is kept for the reader whose turn it is."""
    return int(getattr(settings, "DIGITAL_OFFER_HOURS", 48))


def licence_ended(licence: Licence, at: datetime) -> bool:
    """The licence is valid through its last day, in the library's time zone."""
    return licence.valid_until is not None and timezone.localdate(at) > licence.valid_until


def _licence_end(valid_until: date) -> datetime:
    """The moment a licence valid through ``valid_until`` ends: the next local midnight."""
    zone = timezone.get_current_timezone()
    return datetime.combine(valid_until + timedelta(days=1), time.min, tzinfo=zone)


def _ensure_reader(reader: Any) -> None:
    if not getattr(reader, "is_authenticated", False) or not getattr(reader, "is_active", False):
        raise ReaderMayNotBorrow()


# --- Settling a licence -------------------------------------------------------------------


@dataclass
class Settled:
    """What settling one or more licences did."""

    loans_expired: int = 0
    offers_expired: int = 0
    waits_expired: int = 0
    offered: int = 0

    def __iadd__(self, other: Settled) -> Settled:
        self.loans_expired += other.loans_expired
        self.offers_expired += other.offers_expired
        self.waits_expired += other.waits_expired
        self.offered += other.offered
        return self


def _loans_out(licence: Licence, at: datetime) -> QuerySet[DigitalLoan]:
    return DigitalLoan.objects.filter(licence=licence, state=DigitalLoanState.ACTIVE, due_at__gt=at)


def _live_offers(licence: Licence, at: datetime) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.filter(
        licence=licence, state=WaitState.OFFERED, offered_until__gt=at
    )


WAIT_ACTIONS = {
    WaitEvent.OFFER: "digital.wait_offered",
    WaitEvent.BORROW: "digital.wait_fulfilled",
    WaitEvent.LEAVE: "digital.wait_left",
    WaitEvent.EXPIRE: "digital.wait_expired",
}


def _move_wait(entry: WaitlistEntry, event: WaitEvent, *, by: Any, at: datetime) -> None:
    """Move a wait along its table; an offer keeps the copy for ``DIGITAL_OFFER_HOURS``."""
    state = entry.state
    entry.state = next_wait_state(state, event)
    fields = ["state"]
    changes: dict[str, Any] = {"state": [state, entry.state]}
    if event == WaitEvent.OFFER:
        entry.offered_until = at + timedelta(hours=offer_hours())
        fields.append("offered_until")
        changes["until"] = entry.offered_until.isoformat()
    entry.save(update_fields=fields)
    _audit(WAIT_ACTIONS[event], entry, by=by, changes=changes)
    if event == WaitEvent.OFFER:
        notices.announce(
            notices.NoticeKind.COPY_OFFERED,
            reader_id=entry.reader_id,
            subject=notices.wait_subject(entry),
        )


def _end_loan(loan: DigitalLoan, event: LoanEvent, *, by: Any, at: datetime) -> None:
    """Close a digital loan (returned early or expired): audit, and the ledger's return."""
    state = loan.state
    loan.state = next_loan_state(state, event)
    loan.ended_at = at
    loan.save(update_fields=["state", "ended_at"])
    how = "returned" if event == LoanEvent.RETURN else "expired"
    _audit(f"digital.loan_{how}", loan, by=by, changes={"state": [state, loan.state]})
    ledger.record(
        "digital-loan.returned",
        subject=notices.loan_subject(loan),
        data={"how": how},
        reader=loan.reader_id,
        at=at,
    )
    if event == LoanEvent.EXPIRE:
        notices.announce(
            notices.NoticeKind.LOAN_ENDED,
            reader_id=loan.reader_id,
            subject=notices.loan_subject(loan),
        )


def offer_free_copies(licence: Licence, at: datetime) -> int:
    """Keep each free copy for the next reader waiting (first come, first served).

    The caller holds the licence lock. A free copy is one neither lent nor kept for someone.
    """
    free = licence.copies - _loans_out(licence, at).count() - _live_offers(licence, at).count()
    if free <= 0:
        return 0
    queue = WaitlistEntry.objects.filter(licence=licence, state=WaitState.WAITING).order_by(
        "created_at", "id"
    )
    offered = 0
    for entry in queue[:free]:
        _move_wait(entry, WaitEvent.OFFER, by=None, at=at)
        offered += 1
    return offered


def settle_licence(licence: Licence, at: datetime) -> Settled:
    """Bring a locked licence up to ``at``: loans past due expire, offers past their deadline
    expire and pass on, free copies are offered; on an ended licence every wait expires."""
    done = Settled()
    for loan in DigitalLoan.objects.filter(
        licence=licence, state=DigitalLoanState.ACTIVE, due_at__lte=at
    ).order_by("due_at", "id"):
        _end_loan(loan, LoanEvent.EXPIRE, by=None, at=at)
        done.loans_expired += 1
    for entry in WaitlistEntry.objects.filter(
        licence=licence, state=WaitState.OFFERED, offered_until__lte=at
    ).order_by("created_at", "id"):
        _move_wait(entry, WaitEvent.EXPIRE, by=None, at=at)
        done.offers_expired += 1
    if licence_ended(licence, at):
        for entry in WaitlistEntry.objects.filter(licence=licence, state__in=OPEN_WAIT_STATES):
            _move_wait(entry, WaitEvent.EXPIRE, by=None, at=at)
            done.waits_expired += 1
    else:
        done.offered = offer_free_copies(licence, at)
    return done


def lock_licence(**lookup: Any) -> Licence:
    """Lock and return the licence found by ``lookup`` (``record_id=`` or ``pk=``)."""
    licence = Licence.objects.select_for_update().filter(**lookup).first()
    if licence is None:
        raise NoLicence()
    return licence


@contextmanager
def _settled(at: datetime | None, **lookup: Any) -> Iterator[tuple[Licence, datetime]]:
    """One transaction: lock the licence, settle it, then run the body in a savepoint.

    A refusal in the body rolls back only the body; the settling commits, then the refusal
    is raised. The moment is read after the lock, so waits are stamped in the lock's order.
    """
    refusal: DigitalError | None = None
    with transaction.atomic():
        licence = lock_licence(**lookup)
        moment = at or timezone.now()
        settle_licence(licence, moment)
        try:
            with transaction.atomic():
                yield licence, moment
        except DigitalError as error:
            refusal = error
    if refusal is not None:
        raise refusal


# --- Borrowing and returning --------------------------------------------------------------


def _own_wait(licence: Licence, reader: Any) -> WaitlistEntry | None:
    return WaitlistEntry.objects.filter(
        licence=licence, reader_id=reader.pk, state__in=OPEN_WAIT_STATES
    ).first()


def _copy_for(licence: Licence, own: WaitlistEntry | None, at: datetime) -> bool:
    """Whether a reader (with their wait ``own``, if any) may take a copy now.

    A copy offered to them is theirs; otherwise a copy must be free (neither lent nor kept for
    another reader) and not needed by readers ahead of them on the waiting list.
    """
    out = _loans_out(licence, at).count()
    if own is not None and own.state == WaitState.OFFERED:
        return out < licence.copies
    free = licence.copies - out - _live_offers(licence, at).count()
    ahead = WaitlistEntry.objects.filter(licence=licence, state=WaitState.WAITING)
    if own is not None:
        ahead = ahead.filter(
            Q(created_at__lt=own.created_at) | Q(created_at=own.created_at, pk__lt=own.pk)
        )
    return free > ahead.count()


def borrow(record: Record, reader: Any, *, by: Any, at: datetime | None = None) -> DigitalLoan:
    """Lend the licensed title to ``reader`` for the licence's loan period.

    The loan ends after ``loan_days``, never after the licence's last day. Refused when the
    reader is not signed in or not active, the title has no licence or it has ended, the reader
    borrows it already, or no copy is free for them (they may join the waiting list).
    """
    _ensure_reader(reader)
    with _settled(at, record_id=record.pk) as (licence, moment):
        if licence_ended(licence, moment):
            raise LicenceExpired()
        if _loans_out(licence, moment).filter(reader_id=reader.pk).exists():
            raise AlreadyBorrowed()
        own = _own_wait(licence, reader)
        if not _copy_for(licence, own, moment):
            raise NoCopyFree()
        due_at = moment + timedelta(days=licence.loan_days)
        if licence.valid_until is not None:
            due_at = min(due_at, _licence_end(licence.valid_until))
        try:
            loan = DigitalLoan.objects.create(
                licence=licence, reader_id=reader.pk, started_at=moment, due_at=due_at
            )
        except IntegrityError as error:  # only if a write bypassed the licence lock
            raise AlreadyBorrowed() from error
        if own is not None:
            _move_wait(own, WaitEvent.BORROW, by=by, at=moment)
        _audit(
            "digital.loan_borrowed",
            loan,
            by=by,
            changes={"record": record.pk, "due": due_at.isoformat()},
        )
        ledger.record(
            "digital-loan",
            subject=notices.loan_subject(loan),
            data={"record": f"record:{record.pk}", "due": due_at.isoformat()},
            reader=reader,
            at=moment,
        )
    loan.licence = licence
    return loan


def return_loan(loan: DigitalLoan, *, by: Any, at: datetime | None = None) -> DigitalLoan:
    """The reader gives a digital loan back early; the copy goes to the next reader waiting.

    Refused (``InvalidTransition``) when the loan has already ended, returned or expired.
    """
    with _settled(at, pk=loan.licence_id) as (licence, moment):
        current = DigitalLoan.objects.get(pk=loan.pk)
        _end_loan(current, LoanEvent.RETURN, by=by, at=moment)
        offer_free_copies(licence, moment)
    current.licence = licence
    return current


def expire_loans(now: datetime | None = None) -> Settled:
    """The job (every few minutes): end loans past their due time and offers past their
    deadline, pass each freed copy to the next reader waiting, and close the waiting lists of
    licences that have ended. Each licence is settled in its own transaction."""
    moment = now or timezone.now()
    today = timezone.localdate(moment)
    licence_ids = (
        set(
            DigitalLoan.objects.filter(
                state=DigitalLoanState.ACTIVE, due_at__lte=moment
            ).values_list("licence_id", flat=True)
        )
        | set(
            WaitlistEntry.objects.filter(
                state=WaitState.OFFERED, offered_until__lte=moment
            ).values_list("licence_id", flat=True)
        )
        | set(
            WaitlistEntry.objects.filter(
                state__in=OPEN_WAIT_STATES, licence__valid_until__lt=today
            ).values_list("licence_id", flat=True)
        )
    )
    done = Settled()
    for licence_id in sorted(licence_ids):
        with transaction.atomic():
            licence = Licence.objects.select_for_update().filter(pk=licence_id).first()
            if licence is not None:  # removed meanwhile
                done += settle_licence(licence, moment)
    return done


# --- The waiting list ---------------------------------------------------------------------


def join_waitlist(
    record: Record, reader: Any, *, by: Any, at: datetime | None = None
) -> WaitlistEntry:
    """Put the reader on the title's waiting list (only when no copy is free for them)."""
    _ensure_reader(reader)
    with _settled(at, record_id=record.pk) as (licence, moment):
        if licence_ended(licence, moment):
            raise LicenceExpired()
        if _loans_out(licence, moment).filter(reader_id=reader.pk).exists():
            raise AlreadyBorrowed()
        if _own_wait(licence, reader) is not None:
            raise AlreadyWaiting()
        if _copy_for(licence, None, moment):
            raise CopyFree()
        try:
            entry = WaitlistEntry.objects.create(
                licence=licence, reader_id=reader.pk, created_at=moment
            )
        except IntegrityError as error:  # only if a write bypassed the licence lock
            raise AlreadyWaiting() from error
        _audit("digital.wait_joined", entry, by=by, changes={"record": record.pk})
    entry.licence = licence
    return entry


def leave_waitlist(
    record: Record, reader: Any, *, by: Any, at: datetime | None = None
) -> WaitlistEntry:
    """Take the reader off the title's waiting list; a copy kept for them passes on."""
    with _settled(at, record_id=record.pk) as (licence, moment):
        entry = _own_wait(licence, reader)
        if entry is None:
            raise NotWaiting()
        _move_wait(entry, WaitEvent.LEAVE, by=by, at=moment)
        offer_free_copies(licence, moment)
    entry.licence = licence
    return entry
