"""The audit trail every service writes to, inside its own transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from kitobxon.core.models import AuditEvent


def record(
    action: str,
    obj: models.Model,
    *,
    by: Any | None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event for ``obj``. ``by`` is the acting user, or None for the system."""
    actor = by if getattr(by, "pk", None) else None
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        changes=changes or {},
    )
