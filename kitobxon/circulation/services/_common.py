"""What every circulation service shares: the actor in the audit trail, item status moves."""

from __future__ import annotations

from typing import Any

from django.db import models

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Item, ItemStatus
from kitobxon.catalogue.services import set_item_status
from kitobxon.core.audit import record as audit_record


def audit(
    action: str,
    obj: models.Model,
    *,
    by: User | None,
    reader_id: int | None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Audit a circulation change without turning the audit trail into a reading history.

    When readers act for themselves (renewing online, placing a hold), the event names no
    actor, only that it was the reader: audit events are never deleted, and a reader's
    history must be forgettable (see ``loans.check_in``).
    """
    changes = dict(changes or {})
    if by is not None and reader_id is not None and by.pk == reader_id:
        changes["by"] = "reader"
        by = None
    audit_record(action, obj, by=by, changes=changes)


def move_item(item: Item, status: ItemStatus, *, by: User | None) -> None:
    """Set a copy's status through the catalogue (audit, search), only when it changes.
    ``item`` was read under its row lock in the caller's transaction (every service locks
    the copy first), so the catalogue does not read it again."""
    if item.status != status:
        set_item_status(item, status, by=by, locked=True)
