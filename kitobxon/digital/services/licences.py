"""A title's licence: how many readers may borrow it at once, for how long, until when.

One licence per record. Librarians may lower ``copies`` below the loans out: nobody is
lent anything taken away, and nobody new borrows until the loans fall below the new number.
Raising it offers the new copies to readers waiting at once; moving ``valid_until`` into the
past closes the waiting list. A licence is removed only when no digital loan is running; its
past loans go with it (the ledger keeps their entries).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kitobxon.catalogue.models import Record
from kitobxon.core import audit
from kitobxon.digital.errors import DigitalError, LicenceInUse
from kitobxon.digital.models import DigitalLoan, DigitalLoanState, Licence
from kitobxon.digital.services import loans

FIELDS = ("copies", "loan_days", "valid_until", "supplier", "note")


def _lock_record(record_id: int) -> None:
    """Serialise creating a record's licence (the record row is the lock; only its id is read)."""
    Record.objects.select_for_update().filter(pk=record_id).values_list("pk", flat=True).first()


def save_licence(
    record: Record,
    *,
    copies: int,
    loan_days: int,
    valid_until: date | None = None,
    supplier: str = "",
    note: str = "",
    by: Any,
    at: datetime | None = None,
) -> Licence:
    """Create the record's licence, or change it; then settle it (new copies are offered)."""
    if copies < 0:
        raise DigitalError(_("A licence lends zero or more copies at once."))
    if loan_days < 1:
        raise DigitalError(_("A digital loan lasts at least one day."))
    values: dict[str, Any] = {
        "copies": copies,
        "loan_days": loan_days,
        "valid_until": valid_until,
        "supplier": supplier.strip()[:200],
        "note": note.strip(),
    }
    with transaction.atomic():
        _lock_record(record.pk)
        licence = Licence.objects.select_for_update().filter(record_id=record.pk).first()
        if licence is None:
            licence = Licence.objects.create(record=record, **values)
            audit.record(
                "digital.licence_added",
                licence,
                by=by,
                changes={name: _plain(value) for name, value in values.items()},
            )
        else:
            changes = {
                name: [_plain(getattr(licence, name)), _plain(value)]
                for name, value in values.items()
                if getattr(licence, name) != value
            }
            if changes:
                for name, value in values.items():
                    setattr(licence, name, value)
                licence.save(update_fields=list(FIELDS))
                audit.record("digital.licence_changed", licence, by=by, changes=changes)
        loans.settle_licence(licence, at or timezone.now())
    return licence


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def remove_licence(licence: Licence, *, by: Any, at: datetime | None = None) -> None:
    """Remove a licence nobody borrows any more; its waiting list and past loans go with it."""
    moment = at or timezone.now()
    with transaction.atomic():
        locked = loans.lock_licence(pk=licence.pk)
        if DigitalLoan.objects.filter(
            licence=locked, state=DigitalLoanState.ACTIVE, due_at__gt=moment
        ).exists():
            raise LicenceInUse()
        loans.settle_licence(locked, moment)  # loans past due end, with their ledger entries
        audit.record(
            "digital.licence_removed",
            locked,
            by=by,
            changes={"record": locked.record_id, "copies": locked.copies},
        )
        DigitalLoan.objects.filter(licence=locked).delete()
        locked.delete()
