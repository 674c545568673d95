"""A reader's circulation data for the privacy page: what they can download, what erasure does.

Erasure forgets the reader on returned loans and closed holds (as returning does for readers
who keep no history), cancels their waiting holds and drops their preference. Loans still
open and the money lines stay: the copy must come back and the account must balance.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.accounts.privacy import Section
from kitobxon.circulation.models import (
    QUEUED_HOLD_STATES,
    Charge,
    Hold,
    HoldState,
    Loan,
    ReaderPreference,
)


def export(user: User) -> dict[str, Any]:
    return {
        "loans": [
            {
                "item": loan.item.barcode,
                "title": loan.item.record.title,
                "state": loan.state,
                "loaned_at": loan.loaned_at.isoformat(),
                "due_at": loan.due_at.isoformat(),
                "returned_at": loan.returned_at.isoformat() if loan.returned_at else None,
                "renewals": loan.renewals,
            }
            for loan in Loan.objects.filter(patron=user).select_related("item__record")
        ],
        "holds": [
            {
                "title": hold.record.title,
                "state": hold.state,
                "placed_at": hold.placed_at.isoformat(),
                "pickup_branch": hold.pickup_branch.code,
            }
            for hold in Hold.objects.filter(patron=user).select_related("record", "pickup_branch")
        ],
        "charges": [
            {
                "kind": line.kind,
                "amount": str(line.amount),
                "note": line.note,
                "at": line.created_at.isoformat(),
            }
            for line in Charge.objects.filter(patron=user)
        ],
        "keep_history": ReaderPreference.objects.filter(patron=user, keep_history=True).exists(),
    }


def erase(user: User) -> None:
    Hold.objects.filter(patron=user, state__in=QUEUED_HOLD_STATES).update(
        state=HoldState.CANCELLED, closed_at=timezone.now()
    )
    Hold.objects.filter(patron=user, closed_at__isnull=False).update(patron=None)
    Loan.objects.filter(patron=user, returned_at__isnull=False).update(patron=None)
    ReaderPreference.objects.filter(patron=user).delete()


SECTION = Section("circulation", export, erase)
