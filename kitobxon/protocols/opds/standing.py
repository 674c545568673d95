"""Where a reader stands with licensed titles: borrowing, waiting, offered a copy, or not yet.

Plain data for the feeds (``feeds.py``) and the lending endpoints (``loans.py``), in the terms of
the Library Simplified availability extension that reading apps understand: ``available`` (the
reader borrows it until a date, or anyone may borrow it now), ``ready`` (a copy is kept for the
reader until a date), ``reserved`` (the reader waits, at a position) and ``unavailable`` (every
copy is out: borrowing puts the reader on the waiting list).

Library rule: a copy counts as free for a reader only when it is neither lent nor kept for the
reader first in the queue, as ``digital.services.loans`` decides when they press "Borrow".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

from kitobxon.digital import queries as digital
from kitobxon.digital.models import (
    DigitalLoan,
    DigitalLoanState,
    Licence,
    WaitlistEntry,
    WaitState,
)
from kitobxon.digital.states import OPEN_WAIT_STATES

AVAILABLE = "available"
UNAVAILABLE = "unavailable"
RESERVED = "reserved"
READY = "ready"


@dataclass(frozen=True, slots=True)
class Availability:
    """``opds:availability`` with ``opds:copies`` and ``opds:holds`` (OPDS 2.0: properties)."""

    status: str
    since: datetime | None = None
    until: datetime | None = None
    copies_total: int | None = None
    copies_available: int | None = None
    holds_total: int | None = None
    holds_position: int | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """A licensed title as one reader sees it: its availability, and what they hold of it."""

    availability: Availability
    loan: bool = False
    wait: bool = False

    @property
    def held(self) -> bool:
        """The reader borrows or waits: they may give it back (the revoke link)."""
        return self.loan or self.wait


def _counts(queryset: Any) -> dict[int, int]:
    return {
        licence_id: count
        for licence_id, count in queryset.values_list("licence_id").annotate(n=Count("id"))
    }


def standings(user: Any, record_ids: Sequence[int]) -> dict[int, Standing]:
    """Record id -> the caller's standing, for the licensed ones among ``record_ids``.

    A fixed number of queries for a page, whatever its length (plus one per title the reader
    waits for, to count their place in the queue).
    """
    if not record_ids:
        return {}
    licences = {licence.pk: licence for licence in Licence.objects.filter(record_id__in=record_ids)}
    if not licences:
        return {}
    now = timezone.now()
    # Counts of everyone's loans and waits, as the record page shows them; the caller's own
    # rows come through the digital library's doors below.
    out = _counts(
        DigitalLoan.objects.filter(
            licence_id__in=licences, state=DigitalLoanState.ACTIVE, due_at__gt=now
        )
    )
    waits = WaitlistEntry.objects.filter(licence_id__in=licences)
    waiting = _counts(waits.filter(state=WaitState.WAITING))
    kept = _counts(waits.filter(state=WaitState.OFFERED, offered_until__gt=now))
    my_loans: dict[int, DigitalLoan] = {}
    my_waits: dict[int, WaitlistEntry] = {}
    if getattr(user, "is_authenticated", False):
        my_loans = {
            loan.licence_id: loan
            for loan in digital.readable_digital_loans(user).filter(
                reader_id=user.pk,
                licence_id__in=licences,
                state=DigitalLoanState.ACTIVE,
                due_at__gt=now,
            )
        }
        my_waits = {
            entry.licence_id: entry
            for entry in digital.readable_waits(user).filter(
                reader_id=user.pk, licence_id__in=licences, state__in=OPEN_WAIT_STATES
            )
        }
    result: dict[int, Standing] = {}
    for licence in licences.values():
        valid = licence.valid_until is None or timezone.localdate(now) <= licence.valid_until
        free = max(0, licence.copies - out.get(licence.pk, 0) - kept.get(licence.pk, 0))
        loan = my_loans.get(licence.pk)
        wait = my_waits.get(licence.pk)
        since: datetime | None = None
        until: datetime | None = None
        position: int | None = None
        if loan is not None:
            status, since, until = AVAILABLE, loan.started_at, loan.due_at
        elif wait is not None and wait.state == WaitState.OFFERED:
            status, until = READY, wait.offered_until
        elif wait is not None:
            status, since = RESERVED, wait.created_at
            position = digital.waiting_position(wait)
        else:
            status = AVAILABLE if valid and free > 0 else UNAVAILABLE
        availability = Availability(
            status,
            since,
            until,
            copies_total=licence.copies,
            copies_available=free if valid else 0,
            holds_total=waiting.get(licence.pk, 0),
            holds_position=position,
        )
        result[licence.record_id] = Standing(
            availability, loan=loan is not None, wait=wait is not None
        )
    return result
