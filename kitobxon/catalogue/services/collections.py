"""Writes to collections and faculties, and to the records they gather.

A record's collections are part of what harvesters see (OAI-PMH sets), so changing them
changes the record's datestamp, as any other change to its description does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kitobxon.accounts.models import User
from kitobxon.catalogue.errors import CatalogueError
from kitobxon.catalogue.models import Collection, Record
from kitobxon.core.audit import record as audit
from kitobxon.search import indexing


class CollectionCodeTaken(CatalogueError):
    default_message = gettext_lazy("Another collection or faculty already has this code.")


class CollectionNotEmpty(CatalogueError):
    default_message = gettext_lazy(
        "Records still belong to this collection: take them out first, or delete it with "
        "“take the records out”."
    )


class InvalidCollection(CatalogueError):
    default_message = gettext_lazy("The collection is not valid.")


_FIELDS = ("code", "kind", "name", "names", "description")


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields cleaned, or a clear refusal."""
    code = str(fields.get("code", "")).strip()
    if not code or slugify(code) != code or len(code) > 64:
        raise InvalidCollection(
            _("The code must be lower-case letters, digits and hyphens, up to 64 characters.")
        )
    if fields.get("kind") not in Collection.Kind.values:
        raise InvalidCollection(_("A collection is either a collection or a faculty."))
    name = str(fields.get("name", "")).strip()
    if not name or len(name) > 300:
        raise InvalidCollection(_("The name is empty or longer than 300 characters."))
    names = {
        str(language): str(value).strip()
        for language, value in (fields.get("names") or {}).items()
        if str(value).strip()
    }
    if any(len(value) > 300 for value in names.values()):
        raise InvalidCollection(_("The name is empty or longer than 300 characters."))
    return {
        "code": code,
        "kind": fields["kind"],
        "name": name,
        "names": names,
        "description": str(fields.get("description", "")).strip(),
    }


def create_collection(
    *,
    code: str,
    kind: str,
    name: str,
    names: dict[str, str] | None = None,
    description: str = "",
    by: User | None,
) -> Collection:
    """Create a collection or a faculty; its code must be free."""
    fields = _checked(
        {"code": code, "kind": kind, "name": name, "names": names, "description": description}
    )
    try:
        with transaction.atomic():
            collection = Collection.objects.create(**fields)
            audit("collection.created", collection, by=by, changes=fields)
    except IntegrityError as error:
        raise CollectionCodeTaken() from error
    return collection


def update_collection(collection: Collection, *, by: User | None, **changes: Any) -> Collection:
    """Change a collection's code, kind, names or description.

    A new code or kind moves its records to another OAI-PMH set, so they get a new datestamp.
    """
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise TypeError(f"not collection fields: {sorted(unknown)}")
    fields = _checked({**{f: getattr(collection, f) for f in _FIELDS}, **changes})
    changed = {
        f: [getattr(collection, f), value]
        for f, value in fields.items()
        if getattr(collection, f) != value
    }
    if not changed:
        return collection
    try:
        with transaction.atomic():
            for name, value in fields.items():
                setattr(collection, name, value)
            collection.save()
            audit("collection.changed", collection, by=by, changes=changed)
            if "code" in changed or "kind" in changed:
                _touch(list(collection.records.values_list("pk", flat=True)))
    except IntegrityError as error:
        raise CollectionCodeTaken() from error
    return collection


def delete_collection(collection: Collection, *, by: User | None, detach: bool = False) -> None:
    """Delete a collection. One that still gathers records is refused, unless ``detach``
    takes its records out of it first (they get a new datestamp: their sets changed)."""
    with transaction.atomic():
        # The member records first, in order, as set_record_collections locks a record before
        # its links: the other way round, the two deadlock on PostgreSQL.
        members = list(
            Record.objects.select_for_update(of=("self",))
            .filter(collections=collection)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if members and not detach:
            raise CollectionNotEmpty()
        audit(
            "collection.deleted",
            collection,
            by=by,
            changes={"code": collection.code, "name": collection.name, "records": len(members)},
        )
        if members:
            _touch(members)
        collection.delete()


def set_record_collections(
    record: Record, collections: Iterable[Collection], *, by: User | None
) -> bool:
    """Put a record in exactly these collections and faculties; return whether that changed
    anything. A change gives the record a new datestamp, so harvesters fetch it again."""
    wanted = {c.pk: c for c in collections}
    with transaction.atomic():
        # One change of a record's collections at a time: the second sees what the first did.
        Record.objects.select_for_update().filter(pk=record.pk).values_list("pk").first()
        through = Record.collections.through
        current = set(through.objects.filter(record=record).values_list("collection_id", flat=True))
        added, removed = set(wanted) - current, current - set(wanted)
        if not added and not removed:
            return False
        through.objects.filter(record=record, collection_id__in=removed).delete()
        through.objects.bulk_create(
            [through(record_id=record.pk, collection_id=pk) for pk in sorted(added)],
            ignore_conflicts=True,  # SQLite has no row locks; the link's unique pair decides
        )
        record.modified_at = timezone.now()
        record.save(update_fields=["modified_at"])
        codes = dict(Collection.objects.filter(pk__in=added | removed).values_list("pk", "code"))
        audit(
            "record.collections_changed",
            record,
            by=by,
            changes={
                "added": sorted(codes[pk] for pk in added),
                "removed": sorted(codes[pk] for pk in removed),
            },
        )
        indexing.enqueue("record", [record.pk])
    return True


def _touch(record_ids: list[int]) -> None:
    """New datestamps for records whose sets changed."""
    if record_ids:
        Record.objects.filter(pk__in=record_ids).update(modified_at=timezone.now())
        indexing.enqueue("record", record_ids)
