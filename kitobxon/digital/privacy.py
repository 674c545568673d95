"""A reader's digital library for the privacy page: what they can download, what erasure does.

Positions are the reader's own data (where they stopped in each file), digital loans and waits
their borrowing: the export lists them all; erasure deletes the positions, returns running loans
and leaves waiting lists (through the loan services, so copies pass to the next reader), then
deletes the loan and wait rows. Watermarked downloads are exported but kept: a leaked copy must
stay traceable to the (then emptied) account it was made for. The ledger never named the reader.
"""

from __future__ import annotations

from typing import Any

from kitobxon.accounts.models import User
from kitobxon.accounts.privacy import Section
from kitobxon.digital.models import (
    DigitalLoan,
    DigitalLoanState,
    ReadingPosition,
    WaitlistEntry,
    Watermark,
)
from kitobxon.digital.services import loans, reading
from kitobxon.digital.states import OPEN_WAIT_STATES


def export(user: User) -> dict[str, Any]:
    return {**_export_positions(user), **_export_loans(user)}


def _export_loans(user: User) -> dict[str, Any]:
    loans = DigitalLoan.objects.filter(reader=user).select_related("licence__record")
    waits = WaitlistEntry.objects.filter(reader=user).select_related("licence__record")
    downloads = Watermark.objects.filter(reader=user).select_related("file__record")
    return {
        "digital_loans": [
            {
                "title": loan.licence.record.title,
                "state": loan.state,
                "started_at": loan.started_at.isoformat(),
                "due_at": loan.due_at.isoformat(),
                "ended_at": loan.ended_at.isoformat() if loan.ended_at else None,
            }
            for loan in loans.order_by("-started_at", "id")
        ],
        "digital_waits": [
            {
                "title": wait.licence.record.title,
                "state": wait.state,
                "created_at": wait.created_at.isoformat(),
            }
            for wait in waits.order_by("-created_at", "id")
        ],
        "downloads": [
            {
                "title": mark.file.record.title,
                "file": str(mark.file),
                "fingerprint": mark.fingerprint,
                "created_at": mark.created_at.isoformat(),
            }
            for mark in downloads.order_by("-created_at", "id")
        ],
    }


def _export_positions(user: User) -> dict[str, Any]:
    positions = (
        ReadingPosition.objects.filter(reader=user)
        .select_related("file__record")
        .order_by("-updated_at", "id")
    )
    return {
        "reading_positions": [
            {
                "title": row.file.record.title,
                "file": str(row.file),
                "position": row.position,
                "progress": row.progress,
                "updated_at": row.updated_at.isoformat(),
            }
            for row in positions
        ]
    }


def erase(user: User) -> None:
    reading.forget_positions(user)
    for loan in DigitalLoan.objects.filter(reader=user, state=DigitalLoanState.ACTIVE):
        loans.return_loan(loan, by=user)
    for wait in WaitlistEntry.objects.filter(reader=user, state__in=OPEN_WAIT_STATES):
        loans.leave_waitlist(wait.licence.record, user, by=user)
    DigitalLoan.objects.filter(reader=user).delete()
    WaitlistEntry.objects.filter(reader=user).delete()


SECTION = Section("digital_library", export, erase)
