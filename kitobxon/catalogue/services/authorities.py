"""Writes to name and subject authorities edited in the back office."""

from __future__ import annotations

from django.db import transaction

from kitobxon.accounts.models import User
from kitobxon.catalogue import keys
from kitobxon.catalogue.models import (
    Agent,
    Subject,
)
from kitobxon.core.audit import record as audit


# The descriptive fields a RecordData carries onto a Record, compared for the audit trail.
def save_authority(authority: Agent | Subject, *, changed: list[str], by: User | None) -> None:
    """Save a name or subject authority edited in the back office, keeping its key in step."""
    with transaction.atomic():
        if isinstance(authority, Agent):
            authority.key = keys.agent_key(authority.name)
        else:
            authority.key = keys.subject_key(authority.label)
        created = authority.pk is None
        authority.save()
        audit(
            "authority.created" if created else "authority.changed",
            authority,
            by=by,
            changes={"fields": changed},
        )


def delete_authority(authority: Agent | Subject, *, by: User | None) -> None:
    with transaction.atomic():
        audit("authority.deleted", authority, by=by, changes={"name": str(authority)})
        authority.delete()
