"""Who may borrow: librarians' blocks and the reader's own choices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.circulation import queries
from kitobxon.circulation.errors import InvalidTransition
from kitobxon.circulation.models import Block, Hold, Loan, LoanState, ReaderPreference
from kitobxon.circulation.services._common import audit


def ensure_may_borrow(
    patron: User,
    today: date | None = None,
    *,
    owed: Decimal | None = None,
    noted: bool | None = None,
) -> None:
    """Refuse with the first reason the reader is blocked (inactive, card, fines, a note).

    ``owed`` and ``noted`` are the reader's ``queries.standing`` when the caller read it."""
    reasons = queries.reader_blocks(patron, today, owed=owed, noted=noted)
    if reasons:
        raise reasons[0]


def add_block(patron: User, *, reason: str, by: User | None, until: date | None = None) -> Block:
    """Stop a reader borrowing, until ``until`` (included) or until a librarian lifts it."""
    with transaction.atomic():
        block = Block.objects.create(
            patron=patron, reason=reason.strip(), created_by=by, until=until
        )
        audit(
            "block.added",
            block,
            by=by,
            reader_id=None,
            changes={"patron": patron.pk, "until": until.isoformat() if until else None},
        )
    return block


def lift_block(block: Block, *, by: User | None) -> Block:
    with transaction.atomic():
        locked = Block.objects.select_for_update().get(pk=block.pk)
        if locked.lifted_at is not None:
            raise InvalidTransition()
        locked.lifted_at = timezone.now()
        locked.lifted_by = by
        locked.save(update_fields=["lifted_at", "lifted_by"])
        audit("block.lifted", locked, by=by, reader_id=None)
    return locked


def set_keep_history(patron: User, keep: bool, *, by: User | None) -> ReaderPreference:
    """The reader's choice to keep their reading history. Turning it off forgets the loans
    and holds kept so far."""
    with transaction.atomic():
        preference, _created = ReaderPreference.objects.select_for_update().get_or_create(
            patron=patron
        )
        if preference.keep_history != keep:
            preference.keep_history = keep
            preference.save(update_fields=["keep_history"])
            audit(
                "reader.history_preference",
                preference,
                by=by,
                reader_id=patron.pk,
                changes={"keep_history": keep},
            )
        if not keep:
            forget_history(patron)
    return preference


def forget_history(patron: User) -> int:
    """Clear the reader from their returned loans and closed holds; returns how many."""
    loans = Loan.objects.filter(patron=patron, state=LoanState.RETURNED).update(patron=None)
    holds = Hold.objects.filter(patron=patron, closed_at__isnull=False).update(patron=None)
    return loans + holds
