"""Every write to records goes through here, and leaves an audit trail.

Records are saved in batches (an import saves hundreds per transaction) by the same code that
saves the one record a cataloguer edits, so both follow the same rules (ADR 0012).
"""

from __future__ import annotations

import hashlib
import operator
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kitobxon.accounts.models import User
from kitobxon.catalogue import identifiers, keys
from kitobxon.catalogue.data import RecordData, plain_values
from kitobxon.catalogue.errors import InvalidRecord, RecordHasItems
from kitobxon.catalogue.models import (
    Agent,
    Audience,
    Classification,
    Collection,
    Contribution,
    ContributorRole,
    Identifier,
    ImportJob,
    Item,
    Record,
    RecordStatus,
    ResourceType,
    Subject,
    Tombstone,
)
from kitobxon.catalogue.services.collections import set_record_collections
from kitobxon.core import bulk
from kitobxon.core.audit import record as audit
from kitobxon.core.models import AuditEvent
from kitobxon.ledger import services as ledger
from kitobxon.search import indexing

# The descriptive fields a RecordData carries onto a Record, compared for the audit trail.
RECORD_FIELDS = (
    "title",
    "subtitle",
    "parallel_titles",
    "title_variants",
    "responsibility",
    "publisher",
    "place",
    "year",
    "edition",
    "extent",
    "languages",
    "resource_type",
    "audience",
    "series",
    "abstract",
    "contents",
    "notes",
    "work_key",
    "control_number",
    "control_number_source",
)
_MAX_LENGTH: dict[str, int] = {
    f.name: f.max_length for f in Record._meta.concrete_fields if f.max_length is not None
}
_RESOURCE_TYPES = set(ResourceType.values)
_AUDIENCES = set(Audience.values)
_ROLES = set(ContributorRole.values)


@dataclass
class Saved:
    record_id: int
    created: bool
    changed: bool = True  # False when an update brought nothing new
    loaded: Record | None = None

    @property
    def record(self) -> Record:
        """The saved record (read from the database on first use after an import)."""
        if self.loaded is None:
            self.loaded = Record.objects.get(pk=self.record_id)
        return self.loaded


_RECORD_TABLE = Record._meta.db_table
_IDENTIFIER_TABLE = Identifier._meta.db_table
_BOOKKEEPING = ("match_key", "source_format", "source_data", "modified_at", "status", "fingerprint")
_SCHEMES = set(Identifier.Scheme.values)
_CLASSIFICATIONS = set(Classification.Scheme.values)


def fingerprint(data: RecordData) -> str:
    """A digest of everything a record says: equal digests, nothing to update.

    The text of its field values, then its source record's bytes: values, not objects, so
    that a record digests the same in whichever process it was read.
    """
    return fingerprint_values(plain_values(data))


def fingerprint_values(values: list[Any]) -> str:
    """``fingerprint`` of the record whose ``plain_values`` these are."""
    digest = hashlib.sha256(repr(values[:-1]).encode())
    digest.update(b"\0")  # never in a repr(): the source bytes follow unambiguously
    digest.update(values[-1])
    return digest.hexdigest()


def _unchanged(stored: str, print_: str, data: RecordData) -> bool:
    """Whether a record's stored fingerprint says ``data`` brings nothing new. Records saved
    before 2026-12 carry the older digest of the pickled data, which is accepted too, so
    that upgrading does not turn the next re-import into an update of every record."""
    if stored == print_:
        return True
    return stored == hashlib.sha256(pickle.dumps(data, protocol=5)).hexdigest()


def validate(data: RecordData) -> None:
    """Refuse a record the catalogue cannot hold, saying why."""
    if not data.title.strip():
        raise InvalidRecord(_("The record has no title."))
    for name, limit in _MAX_LENGTH.items():
        value = getattr(data, name, None)
        if isinstance(value, str) and len(value) > limit:
            raise InvalidRecord(
                _("%(field)s is longer than %(limit)d characters.")
                % {"field": Record._meta.get_field(name).verbose_name, "limit": limit}  # type: ignore[union-attr]
            )
    if data.resource_type not in _RESOURCE_TYPES:
        raise InvalidRecord(_("Unknown resource type: %(type)s.") % {"type": data.resource_type})
    if data.audience not in _AUDIENCES:
        raise InvalidRecord(_("Unknown audience: %(audience)s.") % {"audience": data.audience})
    if data.year is not None and not 0 < data.year <= timezone.now().year + 5:
        raise InvalidRecord(_("The year %(year)s is not possible.") % {"year": data.year})
    for contributor in data.contributors:
        if len(contributor.name) > 500 or not contributor.name.strip():
            raise InvalidRecord(_("A contributor's name is empty or too long."))


def fill_work_key(data: RecordData) -> None:
    """A record that names no work of its own joins its title and first author's work.

    Idempotent; an import calls it while reading, in the parsing process (ADR 0012).
    """
    if not data.work_key.strip():
        data.work_key = keys.derived_work_key(data)[:200]


class Match(NamedTuple):
    """A stored record an incoming one matched: enough to tell whether it changed."""

    pk: int
    status: str
    fingerprint: str


_MATCH_COLUMNS = '"id", "status", "fingerprint"'


def _matches(sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` whose one ``IN ({})`` is filled with a placeholder per value."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(", ".join(["%s"] * len(values))), list(values))
        return cursor.fetchall()


def _find_existing(
    batch: Sequence[RecordData], isbns_of: Sequence[list[str]], match_keys: Sequence[str]
) -> list[Match | None]:
    """The record each incoming one updates: same 001+003, else same ISBN, else same key.

    Plain SQL and plain rows: an import matches a thousand records per batch, and the ORM
    spent more preparing the lookups and building the instances than the database did
    answering. Where several stored records match, the most recently modified wins for
    001+003, the lowest record id for an ISBN and the oldest record for the key."""
    controls = {d.control_number for d in batch if d.control_number}
    by_control: dict[tuple[str, str], Match] = {}
    if controls:
        for pk, status, print_, number, number_source in _matches(
            f"SELECT {_MATCH_COLUMNS}, control_number, control_number_source "  # noqa: S608
            f"FROM {_RECORD_TABLE} WHERE control_number IN ({{}}) "
            "ORDER BY modified_at DESC, id DESC",
            sorted(controls),
        ):
            by_control.setdefault((number, number_source), Match(pk, status, print_))
    isbns = {isbn for found in isbns_of for isbn in found}
    by_isbn: dict[str, int] = {}
    if isbns:
        for record_id, value in _matches(
            f"SELECT record_id, normalized FROM {_IDENTIFIER_TABLE} "  # noqa: S608
            "WHERE scheme = 'isbn' AND is_valid AND normalized IN ({}) ORDER BY record_id, id",
            sorted(isbns),
        ):
            by_isbn.setdefault(value, record_id)
    loose = {k for d, k in zip(batch, match_keys, strict=True) if k and not d.control_number}
    by_key: dict[str, Match] = {}
    if loose:
        for pk, status, print_, key in _matches(
            f"SELECT {_MATCH_COLUMNS}, match_key FROM {_RECORD_TABLE} "  # noqa: S608
            "WHERE match_key IN ({}) ORDER BY id",
            sorted(loose),
        ):
            by_key.setdefault(key, Match(pk, status, print_))
    wanted_ids = set(by_isbn.values())
    by_id: dict[int, Match] = {}
    if wanted_ids:
        for pk, status, print_ in _matches(
            f"SELECT {_MATCH_COLUMNS} FROM {_RECORD_TABLE} WHERE id IN ({{}})",  # noqa: S608
            sorted(wanted_ids),
        ):
            by_id[pk] = Match(pk, status, print_)

    found: list[Match | None] = []
    for data, valid_isbns, key in zip(batch, isbns_of, match_keys, strict=True):
        match = None
        if data.control_number:
            match = by_control.get((data.control_number, data.control_number_source))
        if match is None:
            for isbn in valid_isbns:
                if isbn in by_isbn:
                    match = by_id.get(by_isbn[isbn])
                    break
        # A record with its own control number is new when neither 001+003 nor ISBN matches:
        # the loose key is for sources without identifiers (CSV, BibTeX, RIS, forms).
        if match is None and not data.control_number and key:
            match = by_key.get(key)
        found.append(match)
    return found


def _superseded(
    batch: Sequence[RecordData],
    existing: list[Record | Match | None],
    isbns_of: Sequence[list[str]],
    match_keys: Sequence[str],
) -> set[int]:
    """Positions whose record appears again later in the batch (same target or same key)."""
    last_of: dict[object, int] = {}
    groups: list[list[object]] = []
    for position, (data, record) in enumerate(zip(batch, existing, strict=True)):
        own: list[object] = []
        if record is not None:
            own.append(("id", record.pk))
        if data.control_number:
            own.append(("001", data.control_number, data.control_number_source))
        own.extend(("isbn", isbn) for isbn in isbns_of[position])
        if not data.control_number and match_keys[position]:
            own.append(("key", match_keys[position]))
        groups.append(own)
        for key_ in own:
            last_of[key_] = position
    superseded = set()
    for position, own in enumerate(groups):
        successor = max((last_of[key_] for key_ in own), default=position)
        if successor != position:
            superseded.add(position)
            if existing[successor] is None:  # the later copy updates what this one matched
                existing[successor] = existing[position]
    return superseded


def _agents(batch: Sequence[RecordData]) -> dict[tuple[str, str], int]:
    """The id of every contributor's agent, by (kind, key): found, or created, and given
    the name variants it did not have yet. Plain rows, not model instances: an import meets
    thousands of agents per batch."""
    wanted: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for data in batch:
        for c in data.contributors:
            kind = _ORGANISATION if c.is_organisation else _PERSON
            key = (kind, keys.agent_key(c.name))
            if key not in wanted:
                wanted[key] = (c.name.strip(), c.variants)
    if not wanted:
        return {}
    found: dict[tuple[str, str], tuple[int, list[str]]] = {}

    def look_up(agent_keys: set[str]) -> None:
        for pk, kind, key, variants in Agent.objects.filter(key__in=agent_keys).values_list(
            "pk", "kind", "key", "variants"
        ):
            found[(kind, key)] = (pk, variants)

    look_up({key for _kind, key in wanted})
    missing = [(kind, key, *wanted[kind, key]) for kind, key in wanted if (kind, key) not in found]
    if missing:
        bulk.insert_rows(Agent, ["kind", "key", "name", "variants"], missing, ignore_conflicts=True)
        look_up({key for _kind, key, _name, _variants in missing})
    grown = []
    for key, (_name, variants) in wanted.items():
        pk, known = found[key]
        extra = [v for v in variants if v not in known]
        if extra:
            grown.append(Agent(pk=pk, variants=[*known, *extra]))
    if grown:
        Agent.objects.bulk_update(grown, ["variants"])
    return {key: pk for key, (pk, _variants) in found.items()}


_PERSON = str(Agent.Kind.PERSON)
_ORGANISATION = str(Agent.Kind.ORGANISATION)


def _subjects(batch: Sequence[RecordData]) -> dict[tuple[str, str], int]:
    """The id of every subject heading, by (scheme, key): found, or created."""
    wanted: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for data in batch:
        for s in data.subjects:
            key = (s.scheme, keys.subject_key(s.label))
            if key[1] and key not in wanted:
                wanted[key] = (s.label, s.labels)
    if not wanted:
        return {}
    found: dict[tuple[str, str], int] = {}

    def look_up(subject_keys: set[str]) -> None:
        for pk, scheme, key in Subject.objects.filter(key__in=subject_keys).values_list(
            "pk", "scheme", "key"
        ):
            found[(scheme, key)] = pk

    look_up({key for _scheme, key in wanted})
    missing = [
        (scheme, key, *wanted[scheme, key]) for scheme, key in wanted if (scheme, key) not in found
    ]
    if missing:
        bulk.insert_rows(
            Subject, ["scheme", "key", "label", "labels"], missing, ignore_conflicts=True
        )
        look_up({key for _scheme, key, _label, _labels in missing})
    return found


_NEW_COLUMNS = [*RECORD_FIELDS, *_BOOKKEEPING, "created_at", "created_by"]
_record_fields_of = operator.attrgetter(*RECORD_FIELDS)


def _new_row(
    data: RecordData, match_key: str, status: str, now: datetime, by: User | None, print_: str
) -> list[Any]:
    """The column values of a record to create, in ``_NEW_COLUMNS`` order."""
    row = [v.strip() if isinstance(v, str) else v for v in _record_fields_of(data)]
    row += (
        match_key,
        data.source_format,
        data.source_data,
        now,
        status,
        print_,
        now,
        by.pk if by is not None and by.pk else None,
    )
    return row


def _apply(record: Record, data: RecordData, match_key: str) -> dict[str, list[Any]]:
    """Copy data onto record; return what changed as {field: [before, after]}."""
    changes: dict[str, list[Any]] = {}
    for name in RECORD_FIELDS:
        value = getattr(data, name)
        if isinstance(value, str):
            value = value.strip()
        if getattr(record, name) != value:
            changes[name] = [getattr(record, name), value]
            setattr(record, name, value)
    record.match_key = match_key
    if data.source_data:
        record.source_format = data.source_format
        record.source_data = data.source_data
    return changes


def save_records(
    batch: Sequence[RecordData],
    *,
    by: User | None,
    status: str = RecordStatus.PUBLISHED,
    targets: Sequence[Record | None] | None = None,
    validated: bool = False,
    fingerprints: Sequence[str] | None = None,
) -> list[Saved]:
    """Create or update records; an incoming record updates the one it matches.

    ``targets`` names the record each item of ``batch`` replaces (the cataloguing form edits
    one known record); without it, records are matched on 001+003, then ISBN, then the
    configured key. Every record must pass ``validate`` (callers that checked already say
    ``validated=True``); ``fingerprints``, when given, are the records' ``fingerprint``s
    ("" for one not known), which the import computes in its parsing process.
    """
    if not validated:
        for data in batch:
            validate(data)
    for data in batch:
        fill_work_key(data)
    now = timezone.now()
    with transaction.atomic():
        match_keys = [keys.record_match_key(d) for d in batch]
        isbns_of = [] if targets is not None else [keys.valid_isbns(d) for d in batch]
        if targets is not None:
            existing: list[Record | Match | None] = list(targets)
            superseded: set[int] = set()
        else:
            existing = list(_find_existing(batch, isbns_of, match_keys))
            # A record that appears twice in one batch is saved once: the later copy wins.
            superseded = _superseded(batch, existing, isbns_of, match_keys)
        agents = _agents(batch)
        subjects = _subjects(batch)

        results: list[Saved | None] = [None] * len(batch)
        prints: dict[int, str] = {}
        creates: list[tuple[int, list[Any]]] = []
        changed: list[tuple[int, Record | Match]] = []
        for position, (data, found) in enumerate(zip(batch, existing, strict=True)):
            if position in superseded:
                continue
            known = fingerprints[position] if fingerprints is not None else ""
            print_ = prints[position] = known or fingerprint(data)
            if found is None:
                creates.append(
                    (position, _new_row(data, match_keys[position], status, now, by, print_))
                )
            elif (found.status == status or targets) and _unchanged(
                found.fingerprint, print_, data
            ):
                loaded_ = found if isinstance(found, Record) else None
                results[position] = Saved(found.pk, created=False, changed=False, loaded=loaded_)
            else:
                changed.append((position, found))

        # Only the records an update changes are read whole (without their source record).
        wanted = [found.pk for _p, found in changed if isinstance(found, Match)]
        instances = Record.objects.defer("source_data").in_bulk(wanted) if wanted else {}
        updates: list[tuple[int, Record, dict[str, list[Any]]]] = []
        for position, found in changed:
            data = batch[position]
            record = found if isinstance(found, Record) else instances[found.pk]
            changes = _apply(record, data, match_keys[position])
            record.fingerprint = prints[position]
            record.modified_at = now
            if record.status != status and targets is None:
                changes["status"] = [record.status, status]
                record.status = status
            updates.append((position, record, changes))

        created_ids = bulk.insert_returning_ids(Record, _NEW_COLUMNS, [row for _p, row in creates])
        if updates:
            # source_data is deferred when matching: write it only where the update has one.
            for with_source in (True, False):
                columns = [*RECORD_FIELDS, *_BOOKKEEPING]
                if not with_source:
                    columns = [c for c in columns if c not in ("source_format", "source_data")]
                bulk.update_rows(
                    Record,
                    columns,
                    (
                        (r.pk, [getattr(r, c) for c in columns])
                        for p, r, _c in updates
                        if bool(batch[p].source_data) == with_source
                    ),
                )
            updated_ids = [record.pk for _p, record, _c in updates]
            Contribution.objects.filter(record_id__in=updated_ids).delete()
            Identifier.objects.filter(record_id__in=updated_ids).delete()
            Classification.objects.filter(record_id__in=updated_ids).delete()
            Record.subjects.through.objects.filter(record_id__in=updated_ids).delete()

        saved = [(p, pk, True) for (p, _row), pk in zip(creates, created_ids, strict=True)]
        saved += [(p, r.pk, False) for p, r, _c in updates]
        loaded = {p: r for p, r, _c in updates}
        update_changes = {p: c for p, _r, c in updates}
        contributions: list[tuple[Any, ...]] = []
        idents: list[tuple[Any, ...]] = []
        classes: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        actor = by.pk if by is not None and by.pk else None
        for position, record_id, created in saved:
            data = batch[position]
            for order, c in enumerate(data.contributors):
                kind = _ORGANISATION if c.is_organisation else _PERSON
                role = c.role if c.role in _ROLES else ContributorRole.CONTRIBUTOR
                agent = agents[(kind, keys.agent_key(c.name))]
                contributions.append((record_id, agent, role, order))
            for identifier in data.identifiers:
                result = identifiers.normalize(identifier.scheme, identifier.value)
                scheme = identifier.scheme if identifier.scheme in _SCHEMES else "other"
                idents.append(
                    (
                        record_id,
                        scheme,
                        identifier.value.strip()[:200],
                        result.value[:200],
                        result.is_valid,
                    )
                )
            for classification in data.classifications:
                number = classification.number.strip()
                if classification.scheme in _CLASSIFICATIONS and number:
                    classes.append((record_id, classification.scheme, number[:100]))
            seen_subjects = set()
            for s in data.subjects:
                subject = subjects.get((s.scheme, keys.subject_key(s.label)))
                if subject is not None and subject not in seen_subjects:
                    seen_subjects.add(subject)
                    links.append((record_id, subject))
            audited: dict[str, Any] = {"source": data.source_format}
            audited.update(update_changes.get(position, {}))
            events.append(
                (
                    now,
                    actor,
                    "record.created" if created else "record.updated",
                    "catalogue.record",
                    str(record_id),
                    _jsonable(audited),
                )
            )
            results[position] = Saved(
                record_id, created=created, changed=True, loaded=loaded.get(position)
            )
        bulk.insert_rows(Contribution, ["record", "agent", "role", "position"], contributions)
        bulk.insert_rows(
            Identifier, ["record", "scheme", "value", "normalized", "is_valid"], idents
        )
        bulk.insert_rows(Classification, ["record", "scheme", "number"], classes)
        bulk.insert_rows(Record.subjects.through, ["record", "subject"], links)
        bulk.insert_rows(
            AuditEvent,
            ["at", "actor", "action", "object_type", "object_id", "changes"],
            events,
        )
        published = [
            ledger.Draft(
                "metadata.published",
                subject=f"record:{record_id}",
                data={"fingerprint": prints[position]},
                at=now,
            )
            for position, record_id, created in saved
            if (status if created else loaded[position].status) == RecordStatus.PUBLISHED
        ]
        ledger.record_many(published)
        republished = [r.pk for _p, r, _c in updates if r.status == RecordStatus.PUBLISHED]
        if republished:
            Tombstone.objects.filter(record_id__in=republished).delete()
        indexing.enqueue("record", [r.record_id for r in results if r is not None and r.changed])
    return [r for r in results if r is not None]


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    if all(type(value) is str for value in changes.values()):  # a created record's
        return changes

    def plain(value: Any) -> Any:
        if isinstance(value, (date, Decimal)):
            return str(value)
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {key: plain(value) for key, value in changes.items()}


def create_record(
    data: RecordData,
    *,
    status: str,
    by: User | None,
    collections: Sequence[Collection] | None = None,
) -> Record:
    """Catalogue one new record from the form or the API, in the collections given."""
    with transaction.atomic():
        saved = save_records([data], by=by, status=status, targets=[None])[0].record
        if collections:
            set_record_collections(saved, collections, by=by)
    return saved


def edit_record(
    record: Record,
    data: RecordData,
    *,
    status: str,
    by: User | None,
    collections: Sequence[Collection] | None = None,
) -> Record:
    """Replace a record's description from the cataloguing form.

    A record that came as MARC keeps its source: the fields the form owns are rebuilt and
    every other field (local 9XX, 035, 040...) stays as it was, so export loses nothing.
    ``collections``, when given, replaces the collections and faculties the record is in.
    """
    from kitobxon.catalogue.formats import marc

    if record.source_format in {"marc21", "marcxml"} and record.source_data:
        base = marc.marc_for_export(
            RecordData(
                title=record.title,
                source_format=record.source_format,
                source_data=bytes(record.source_data),
            )
        )
        data.source_data = marc.marc_from_data(data, base).as_marc()
        data.source_format = "marc21"
    with transaction.atomic():
        saved = save_records([data], by=by, targets=[record])[0].record
        if collections is not None:
            set_record_collections(saved, collections, by=by)
        if saved.status != status:
            set_status(saved, status, by=by)
    return saved


def queue_import(*, path: Path, file_name: str, format: str, by: User | None) -> ImportJob:
    """Register an uploaded file for the job worker to import."""
    job = ImportJob.objects.create(
        path=str(path),
        file_name=file_name,
        format=format,
        size=path.stat().st_size,
        created_by=by,
    )
    audit("import.queued", job, by=by, changes={"file": file_name, "format": format})
    return job


# After a bulk load that wrote this many records the catalogue's tables are analysed again.
REFRESH_STATISTICS_FROM = 10_000


def refresh_statistics(written: int) -> bool:
    """After a bulk load (an import, a harvest) that wrote ``written`` records: from
    ``REFRESH_STATISTICS_FROM`` on, the planner learns the sizes of the tables it grew, which
    autovacuum would only tell it later. Returns whether it did."""
    if written < REFRESH_STATISTICS_FROM:
        return False
    bulk.refresh_statistics(
        [
            Record,
            Contribution,
            Identifier,
            Classification,
            Record.subjects.through,
            Agent,
            Subject,
            Tombstone,
        ]
    )
    return True


def import_progress(
    job: ImportJob, *, status: str, processed_bytes: int, counts: dict[str, int], error: str = ""
) -> None:
    """Record how far an import from the pages has come (the page polls it)."""
    fields: dict[str, Any] = {"status": status, "processed_bytes": processed_bytes, **counts}
    if error:
        fields["error"] = error
    if status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        fields["finished_at"] = timezone.now()
        audit(f"import.{status}", job, by=job.created_by, changes={**counts, "error": error})
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def set_status(record: Record, status: str, *, by: User | None, reason: str = "") -> Record:
    """Publish, return to draft or withdraw a record.

    Harvesters must learn when a record they saw disappears: a withdrawn record, and a
    published one returned to draft, leave a tombstone (OAI-PMH reports it deleted, with the
    date it went). A draft that was never published leaves none; publishing removes it.
    """
    with transaction.atomic():
        before = record.status
        record.status = status
        record.modified_at = timezone.now()
        record.save(update_fields=["status", "modified_at"])
        if status == RecordStatus.PUBLISHED:
            Tombstone.objects.filter(record_id=record.pk).delete()
        elif status == RecordStatus.WITHDRAWN or before == RecordStatus.PUBLISHED:
            Tombstone.objects.update_or_create(
                record_id=record.pk,
                defaults={
                    "title": record.title[:1000],
                    "work_key": record.work_key,
                    "deleted_at": record.modified_at,
                    "reason": reason or status,
                },
            )
        audit("record.status_changed", record, by=by, changes={"status": [before, status]})
        indexing.enqueue("record", [record.pk])
        if status == RecordStatus.PUBLISHED and before != status:
            ledger.record(
                "metadata.published",
                subject=f"record:{record.pk}",
                data={"fingerprint": record.fingerprint},
                at=record.modified_at,
            )
        elif before == RecordStatus.PUBLISHED and status != before:
            ledger.record(
                "metadata.withdrawn",
                subject=f"record:{record.pk}",
                data={"status": status, "reason": reason or status},
                at=record.modified_at,
            )
    return record


def delete_record(record: Record, *, by: User | None, reason: str = "") -> Tombstone:
    """Delete a record that has no copies; its tombstone keeps the date for harvesters."""
    with transaction.atomic():
        if Item.objects.filter(record=record).exists():
            raise RecordHasItems()
        now = timezone.now()
        tombstone, _created = Tombstone.objects.update_or_create(
            record_id=record.pk,
            defaults={
                "title": record.title[:1000],
                "work_key": record.work_key,
                "deleted_at": now,
                "reason": reason or "deleted",
            },
        )
        audit("record.deleted", record, by=by, changes={"title": record.title})
        indexing.enqueue("record", [record.pk])
        if record.status == RecordStatus.PUBLISHED:
            ledger.record(
                "metadata.withdrawn",
                subject=f"record:{record.pk}",
                data={"status": "deleted", "reason": reason or "deleted"},
                at=now,
            )
        record.delete()
    return tombstone
