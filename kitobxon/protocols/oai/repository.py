"""What the OAI-PMH provider exposes of the catalogue: published records, the deleted ones as
tombstones, sets by resource type and language, identifiers and datestamps.

Reads go through ``readable_records`` as an anonymous visitor, so only published records are
disseminated. Withdrawn and deleted records are known from their ``Tombstone`` and are
reported as deleted, persistently. Lists are paged by the keyset (datestamp, record number):
no OFFSET, so the millionth record costs what the first does.
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
from kitobxon.catalogue.models import Record, RecordStatus, ResourceType, Tombstone
from kitobxon.catalogue.queries import readable_records, to_data, with_details

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


def sets() -> list[OAISet]:
    """Sets by resource type (``type:book``) and language (``lang:uzb``), under the parent
    sets ``type`` and ``lang``. Languages are those the published catalogue uses."""
    found = [OAISet("type", _("Resource types"))]
    found += [OAISet(f"type:{value}", str(label)) for value, label in ResourceType.choices]
    found.append(OAISet("lang", _("Languages")))
    languages: set[str] = set()
    for codes in _published().values_list("languages", flat=True).distinct():
        languages.update(code for code in codes or [] if _LANGUAGE.match(code))
    found += [OAISet(f"lang:{code}", code) for code in sorted(languages)]
    return found


def is_set(spec: str) -> bool:
    if spec in ("type", "lang"):
        return True
    kind, _colon, value = spec.partition(":")
    if kind == "type":
        return value in ResourceType.values
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
    """Deleted records. In a set, only those whose withdrawn record still says what it was."""
    tombstones = Tombstone.objects.all()
    if selection.set_spec:
        withdrawn = _in_set(
            Record.objects.filter(status=RecordStatus.WITHDRAWN), selection.set_spec
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
        records = records.filter(Q(modified_at__gt=stamp) | Q(modified_at=stamp, pk__gt=number))
        tombstones = tombstones.filter(
            Q(deleted_at__gt=stamp) | Q(deleted_at=stamp, record_id__gt=number)
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


def entry(record_id: int, *, with_metadata: bool) -> Entry | None:
    """One record for GetRecord: published, or deleted with a tombstone, or None."""
    records = _published().filter(pk=record_id)
    record = (with_details(records) if with_metadata else records).first()
    if record is not None:
        return _entry(record, with_metadata)
    tombstone = Tombstone.objects.filter(record_id=record_id).first()
    if tombstone is None:
        return None
    found = Entry(record_id=record_id, stamp=tombstone.deleted_at, deleted=True)
    _add_withdrawn_specs([found])
    return found


def exists(record_id: int) -> bool:
    return entry(record_id, with_metadata=False) is not None


def earliest_datestamp() -> datetime:
    """The oldest datestamp the repository holds, deleted records included."""
    candidates = [
        _published().aggregate(at=Min("modified_at"))["at"],
        Tombstone.objects.aggregate(at=Min("deleted_at"))["at"],
    ]
    found = [moment for moment in candidates if moment is not None]
    return min(found) if found else datetime(1970, 1, 1, tzinfo=UTC)
