"""Writes to copies and branches."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from kitobxon.accounts.models import User
from kitobxon.catalogue.errors import BarcodeTaken
from kitobxon.catalogue.models import (
    Branch,
    Item,
    ItemStatus,
    LoanType,
    Record,
)
from kitobxon.core.audit import record as audit
from kitobxon.search import indexing


# The descriptive fields a RecordData carries onto a Record, compared for the audit trail.
def new_barcode() -> str:
    """A fresh 14-digit item barcode: prefix, random body, Luhn check digit."""
    from kitobxon.accounts.models import luhn_check_digit

    prefix = settings.ITEM_BARCODE_PREFIX
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(13 - len(prefix)))
    return body + luhn_check_digit(body)


def add_item(
    record: Record,
    *,
    by: User | None,
    branch: Branch,
    barcode: str = "",
    call_number: str = "",
    shelf_location: str = "",
    acquired_on: date | None = None,
    price: Decimal | None = None,
    notes: str = "",
    loan_type: str = LoanType.STANDARD,
) -> Item:
    """Add a copy; without a barcode, one is generated. ``loan_type`` decides which loan
    rules apply (reference copies are never lent)."""
    for _attempt in range(5):
        code = barcode.strip() or new_barcode()
        try:
            with transaction.atomic():
                item = Item.objects.create(
                    record=record,
                    barcode=code,
                    call_number=call_number.strip(),
                    branch=branch,
                    shelf_location=shelf_location.strip(),
                    acquired_on=acquired_on,
                    price=price,
                    notes=notes,
                    loan_type=loan_type,
                )
                audit("item.created", item, by=by, changes={"record": record.pk, "barcode": code})
                indexing.enqueue("record", [record.pk])
                return item
        except IntegrityError as error:
            if barcode.strip():
                raise BarcodeTaken() from error
    raise BarcodeTaken()


ITEM_FIELDS = (
    "call_number",
    "branch",
    "shelf_location",
    "acquired_on",
    "price",
    "notes",
    "loan_type",
)


def update_item(item: Item, *, by: User | None, **fields: Any) -> Item:
    changes: dict[str, list[Any]] = {}
    for name, value in fields.items():
        if name not in ITEM_FIELDS:
            raise TypeError(f"update_item cannot change {name}")
        before = getattr(item, name)
        if before != value:
            changes[name] = [str(before), str(value)]
            setattr(item, name, value)
    if changes:
        with transaction.atomic():
            item.save(update_fields=[*changes, "modified_at"])
            audit("item.changed", item, by=by, changes=changes)
            indexing.enqueue("record", [item.record_id])
    return item


def set_item_status(
    item: Item, status: ItemStatus, *, by: User | None, locked: bool = False
) -> Item:
    """Change a copy's status. Circulation moves copies through loans with its own rules.

    ``locked``: the caller has read ``item`` under its row lock in the transaction it is in
    (circulation locks the copy before deciding anything), so it is not read again."""
    if locked:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("set_item_status(locked=True) outside the caller's transaction")
        _change_status(item, status, by=by)
        return item
    with transaction.atomic():
        current = Item.objects.select_for_update().get(pk=item.pk)
        _change_status(current, status, by=by)
    item.status = status
    return current


def _change_status(item: Item, status: ItemStatus, *, by: User | None) -> None:
    before = item.status
    item.status = status
    item.save(update_fields=["status", "modified_at"])
    audit("item.status_changed", item, by=by, changes={"status": [before, status]})
    indexing.enqueue("record", [item.record_id])


def ensure_branch(code: str, name: str, address: str = "") -> Branch:
    branch, _created = Branch.objects.get_or_create(
        code=code, defaults={"name": name, "address": address}
    )
    return branch
