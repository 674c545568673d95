"""Writes to name and subject authorities edited in the back office."""

from __future__ import annotations

from django.db import transaction

from kitobxon.accounts.models import User
from kitobxon.catalogue import keys
from kitobxon.catalogue.models import (
    Agent,
    Contribution,
    Record,
    Subject,
)
from kitobxon.core.audit import record as audit
from kitobxon.search import indexing


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
        indexing.enqueue("record", _records_of(authority))


def delete_authority(authority: Agent | Subject, *, by: User | None) -> None:
    with transaction.atomic():
        audit("authority.deleted", authority, by=by, changes={"name": str(authority)})
        indexing.enqueue("record", _records_of(authority))
        authority.delete()


def _records_of(authority: Agent | Subject) -> list[int]:
    """Records whose index entries show this name or subject."""
    if authority.pk is None:
        return []
    if isinstance(authority, Agent):
        return list(
            Contribution.objects.filter(agent=authority).values_list("record_id", flat=True)
        )
    return list(Record.objects.filter(subjects=authority).values_list("pk", flat=True))
