"""What the OAI-PMH provider exposes of the catalogue: published records, the deleted ones as
tombstones, sets by resource type, language, collection and faculty, identifiers and
datestamps.

Reads go through ``readable_records`` as an anonymous visitor, so only published records are
disseminated. Withdrawn and deleted records, and published ones returned to draft, are known
from their ``Tombstone`` and are reported as deleted, persistently. Lists are paged by the
keyset (datestamp, record number): no OFFSET, so the millionth record costs what the first does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Min, Q, QuerySet
from django.utils.translation import gettext as _

from kitobxon.catalogue.data import RecordData
from kitobxon.catalogue.models import Collection, Record, RecordStatus, ResourceType, Tombstone
from kitobxon.catalogue.queries import readable_collections, readable_records, to_data, with_details

PAGE_SIZE = 100
"""Records or headers per response; the rest follows by resumption token."""

FALLBACK_REPOSITORY = "kitobxon.localhost"
_DOMAIN = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")
_LANGUAGE = re.compile(r"^[a-z]{3}$")


def repository_identifier() -> str:
    """The repository's domain name in OAI identifiers: the host of ``LEDGER_ORIGIN`` (the
    library's public name), or ``kitobxon.localhost`` where that is not a domain name."""
    origin = str(getattr(settings, "LEDGER_ORIGIN", ""))
    host = urlsplit(origin if "//" in origin else f"//{origin}").hostname or ""
    return host if _DOMAIN.match(host) else FALLBACK_REPOSITORY


def oai_identifier(record_id: int) -> str:
    return f"oai:{repository_identifier()}:record:{record_id}"


def record_id_of(identifier: str) -> int | None:
    """The record number an OAI identifier of this repository names, or None."""
    prefix = f"oai:{repository_identifier()}:record:"
    number = identifier[len(prefix) :] if identifier.startswith(prefix) else ""
    if not number.isdigit() or len(number) > 18:
        return None
    return int(number)


# --- Sets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAISet:
    spec: str
    name: str
    description: str = ""  # a collection's or faculty's own words, given as Dublin Core


_GROUPS = tuple(Collection.Kind.values)  # "collection", "faculty": set specs use the kind


def sets() -> list[OAISet]:
    """Sets by resource type (``type:book``), language (``lang:uzb``), collection
    (``collection:rare-books``) and faculty (``faculty:philology``), under the parent sets
    ``type``, ``lang``, ``collection`` and ``faculty``. Languages are those the published
    catalogue uses; collections and faculties are all those the library has defined, named in
    the language the repository answers in."""
    found = [OAISet("type", _("Resource types"))]
    found += [OAISet(f"type:{value}", str(label)) for value, label in ResourceType.choices]
    found.append(OAISet("lang", _("Languages")))
    languages: set[str] = set()
    for codes in _published().values_list("languages", flat=True).distinct():
        languages.update(code for code in codes or [] if _LANGUAGE.match(code))
    found += [OAISet(f"lang:{code}", code) for code in sorted(languages)]
    groups: dict[str, list[Collection]] = {kind: [] for kind in _GROUPS}
    for collection in readable_collections(AnonymousUser()).order_by("code"):
        groups[collection.kind].append(collection)
    parents = {"collection": _("Collections"), "faculty": _("Faculties and departments")}
    for kind in _GROUPS:
        found.append(OAISet(kind, parents[kind]))
        found += [OAISet(c.set_spec, c.local_name, c.description) for c in groups[kind]]
    return found


def is_set(spec: str) -> bool:
    if spec in ("type", "lang", *_GROUPS):
        return True
    kind, _colon, value = spec.partition(":")
    if kind == "type":
        return value in ResourceType.values
    if kind in _GROUPS:
        return readable_collections(AnonymousUser()).filter(kind=kind, code=value).exists()
    return kind == "lang" and bool(_LANGUAGE.match(value))


def set_specs(resource_type: str, languages: list[str]) -> list[str]:
    return [f"type:{resource_type}"] + [f"lang:{code}" for code in languages if code]


def _in_set(records: QuerySet[Record], spec: str) -> QuerySet[Record]:
    kind, _colon, value = spec.partition(":")
    if kind == "type" and value:
        return records.filter(resource_type=value)
    if kind == "lang" and value:
        return records.filter(languages__icontains=f'"{value}"')
    if kind == "lang":
        return records.exclude(languages=[])
    if kind in _GROUPS:
        # A semi-join on the link table: the keyset order and LIMIT stay on the records.
        members = Record.collections.through.objects.filter(collection__kind=kind)
        if value:
            members = members.filter(collection__code=value)
        return records.filter(pk__in=members.values("record_id"))
    return records


# --- Lists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The arguments of a list request: a set and a half-open datestamp window."""

    set_spec: str = ""
    since: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive


@dataclass
class Entry:
    """One record of a list: its header, and its data unless it is deleted."""

    record_id: int
    stamp: datetime  # exact, for the keyset
    deleted: bool
    specs: list[str] = field(default_factory=list)
    data: RecordData | None = None

    @property
    def identifier(self) -> str:
        return oai_identifier(self.record_id)

    @property
    def datestamp(self) -> str:
        return datestamp(self.stamp)


def datestamp(moment: datetime) -> str:
    """UTC, second granularity: ``YYYY-MM-DDThh:mm:ssZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _published() -> QuerySet[Record]:
    return readable_records(AnonymousUser())


def _records(selection: Selection) -> QuerySet[Record]:
    records = _published()
    if selection.set_spec:
        records = _in_set(records, selection.set_spec)
    if selection.since is not None:
        records = records.filter(modified_at__gte=selection.since)
    if selection.before is not None:
        records = records.filter(modified_at__lt=selection.before)
    return records


def _tombstones(selection: Selection) -> QuerySet[Tombstone]:
    """Deleted records. In a set, only those whose withdrawn (or draft) record still says
    what it was."""
    tombstones = Tombstone.objects.all()
    if selection.set_spec:
        withdrawn = _in_set(
            Record.objects.exclude(status=RecordStatus.PUBLISHED), selection.set_spec
        )
        tombstones = tombstones.filter(record_id__in=withdrawn.values("pk"))
    if selection.since is not None:
        tombstones = tombstones.filter(deleted_at__gte=selection.since)
    if selection.before is not None:
        tombstones = tombstones.filter(deleted_at__lt=selection.before)
    return tombstones


def list_size(selection: Selection) -> int:
    return _records(selection).count() + _tombstones(selection).count()


def page(
    selection: Selection,
    after: tuple[datetime, int] | None,
    *,
    with_metadata: bool,
    size: int | None = None,
) -> tuple[list[Entry], bool]:
    """The next ``size`` entries after the keyset cursor ``after``, in (datestamp, record
    number) order, and whether more follow."""
    size = size or PAGE_SIZE
    records = _records(selection).order_by("modified_at", "pk")
    tombstones = _tombstones(selection).order_by("deleted_at", "record_id")
    if after is not None:
        stamp, number = after
        # "stamp >= s AND (stamp > s OR number > n)" rather than the OR alone: the first term
        # is a range the (stamp, number) index starts from, so a page reads its own rows
        # instead of filtering every row before it (PostgreSQL took the OR as a filter).
        records = records.filter(modified_at__gte=stamp).filter(
            Q(modified_at__gt=stamp) | Q(pk__gt=number)
        )
        tombstones = tombstones.filter(deleted_at__gte=stamp).filter(
            Q(deleted_at__gt=stamp) | Q(record_id__gt=number)
        )
    if with_metadata:
        records = with_details(records)
    else:
        records = records.only("pk", "modified_at", "resource_type", "languages")
    live = [_entry(record, with_metadata) for record in records[: size + 1]]
    gone = [
        Entry(record_id=record_id, stamp=stamp, deleted=True)
        for record_id, stamp in tombstones.values_list("record_id", "deleted_at")[: size + 1]
    ]
    merged = sorted(live + gone, key=lambda entry: (entry.stamp, entry.record_id))
    entries = merged[:size]
    _add_withdrawn_specs([e for e in entries if e.deleted])
    _add_collection_specs(entries)
    return entries, len(merged) > size


def _entry(record: Record, with_metadata: bool) -> Entry:
    return Entry(
        record_id=record.pk,
        stamp=record.modified_at,
        deleted=False,
        specs=set_specs(record.resource_type, list(record.languages)),
        data=to_data(record) if with_metadata else None,
    )


def _add_withdrawn_specs(entries: list[Entry]) -> None:
    """A withdrawn record is still in the sets it was in; a deleted one is in none we know."""
    if not entries:
        return
    by_id = {entry.record_id: entry for entry in entries}
    for pk, resource_type, languages in Record.objects.filter(pk__in=by_id).values_list(
        "pk", "resource_type", "languages"
    ):
        by_id[pk].specs = set_specs(resource_type, list(languages or []))


def _add_collection_specs(entries: list[Entry]) -> None:
    """The collection and faculty sets of a page of entries, in one query for the page.

    A withdrawn record stays in its collections; a deleted one has none left."""
    if not entries:
        return
    by_id = {entry.record_id: entry for entry in entries}
    for record_id, kind, code in (
        Record.collections.through.objects.filter(record_id__in=by_id)
        .order_by("collection__kind", "collection__code")
        .values_list("record_id", "collection__kind", "collection__code")
    ):
        by_id[record_id].specs.append(f"{kind}:{code}")


def entry(record_id: int, *, with_metadata: bool) -> Entry | None:
    """One record for GetRecord: published, or deleted with a tombstone, or None."""
    records = _published().filter(pk=record_id)
    record = (with_details(records) if with_metadata else records).first()
    if record is not None:
        found = _entry(record, with_metadata)
    else:
        tombstone = Tombstone.objects.filter(record_id=record_id).first()
        if tombstone is None:
            return None
        found = Entry(record_id=record_id, stamp=tombstone.deleted_at, deleted=True)
        _add_withdrawn_specs([found])
    _add_collection_specs([found])
    return found


def exists(record_id: int) -> bool:
    """Whether GetRecord would answer: the record is published, or deleted with a tombstone."""
    return (
        _published().filter(pk=record_id).exists()
        or Tombstone.objects.filter(record_id=record_id).exists()
    )


def earliest_datestamp() -> datetime:
    """The oldest datestamp the repository holds, deleted records included."""
    candidates = [
        _published().aggregate(at=Min("modified_at"))["at"],
        Tombstone.objects.aggregate(at=Min("deleted_at"))["at"],
    ]
    found = [moment for moment in candidates if moment is not None]
    return min(found) if found else datetime(1970, 1, 1, tzinfo=UTC)
