"""Reads, and the one door through which records and copies are fetched.

Patrons and visitors see published records only; librarians see drafts and withdrawn ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from kitobxon.accounts.models import User
from kitobxon.accounts.queries import is_librarian
from kitobxon.catalogue import keys
from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.models import (
    Agent,
    Collection,
    Contribution,
    ImportJob,
    Item,
    ItemStatus,
    Record,
    RecordStatus,
)
from kitobxon.ledger.subjects import Described

AnyUser = User | AnonymousUser


def readable_records(user: AnyUser) -> QuerySet[Record]:
    records = Record.objects.all()
    if not is_librarian(user):
        records = records.filter(status=RecordStatus.PUBLISHED)
    return records


def matching_words(records: QuerySet[Record], query: str) -> QuerySet[Record]:
    """Records whose title, subtitle or a contributor's name contains every word of ``query``."""
    for word in query.split()[:8]:
        matching = Record.objects.filter(
            Q(title__icontains=word)
            | Q(subtitle__icontains=word)
            | Q(contributions__agent__name__icontains=word)
        ).values("pk")
        records = records.filter(pk__in=matching)
    return records


def with_details(records: QuerySet[Record]) -> QuerySet[Record]:
    """Everything a record page or an export needs, in a fixed number of queries."""
    return records.prefetch_related(
        Prefetch("contributions", queryset=Contribution.objects.select_related("agent")),
        "identifiers",
        "classifications",
        "subjects",
    )


def access_record(user: AnyUser, record_id: int) -> Record:
    record = with_details(readable_records(user)).filter(pk=record_id).first()
    if record is None:
        raise Http404
    return record


def editable_record(user: AnyUser, record_id: int) -> Record:
    """Only librarians change the catalogue."""
    if not is_librarian(user):
        raise Http404
    return access_record(user, record_id)


def readable_items(user: AnyUser) -> QuerySet[Item]:
    items = Item.objects.select_related("branch", "record")
    if not is_librarian(user):
        items = items.filter(record__status=RecordStatus.PUBLISHED).exclude(
            status=ItemStatus.WITHDRAWN
        )
    return items


def access_item(user: AnyUser, item_id: int) -> Item:
    item = readable_items(user).filter(pk=item_id).first()
    if item is None:
        raise Http404
    return item


def readable_import_jobs(user: AnyUser) -> QuerySet[ImportJob]:
    """Imports are the librarians' business."""
    if not is_librarian(user):
        return ImportJob.objects.none()
    return ImportJob.objects.all()


def access_import_job(user: AnyUser, job_id: int) -> ImportJob:
    job = readable_import_jobs(user).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


def editions_of(user: AnyUser, record: Record) -> QuerySet[Record]:
    """Other editions and translations of the same work."""
    if not record.work_key:
        return Record.objects.none()
    return (
        readable_records(user)
        .filter(work_key=record.work_key)
        .exclude(pk=record.pk)
        .order_by("year", "title")
    )


def readable_collections(user: AnyUser) -> QuerySet[Collection]:
    """Collections and faculties are public: their names label records every reader sees."""
    return Collection.objects.all()


def editable_collection(user: AnyUser, collection_id: int) -> Collection:
    """Only librarians change collections and faculties."""
    if not is_librarian(user):
        raise Http404
    collection = readable_collections(user).filter(pk=collection_id).first()
    if collection is None:
        raise Http404
    return collection


@dataclass(frozen=True)
class BranchAvailability:
    branch: str
    total: int
    available: int
    on_loan: int


def availability(record: Record) -> list[BranchAvailability]:
    """Copies per branch: how many there are and how many are on the shelf now."""
    counts: dict[str, Counter[str]] = {}
    for branch, status in (
        Item.objects.filter(record=record)
        .exclude(status=ItemStatus.WITHDRAWN)
        .values_list("branch__name", "status")
    ):
        counts.setdefault(branch, Counter())[status] += 1
    return [
        BranchAvailability(
            branch=branch,
            total=sum(c.values()),
            available=c[ItemStatus.AVAILABLE],
            on_loan=c[ItemStatus.ON_LOAN],
        )
        for branch, c in sorted(counts.items())
    ]


def possible_duplicates(data: RecordData, *, exclude: int | None) -> list[Record]:
    """Records that share an ISBN, or title + first author + year, with ``data``."""
    condition = Q(identifiers__scheme="isbn", identifiers__normalized__in=keys.valid_isbns(data))
    if key := keys.record_match_key(data):
        condition |= Q(match_key=key)
    matches = Record.objects.filter(condition)
    if exclude is not None:
        matches = matches.exclude(pk=exclude)
    return list(matches.distinct()[:10])


def to_data(record: Record) -> RecordData:
    """The record as plain data, for export. Expects ``with_details`` prefetching."""
    return RecordData(
        title=record.title,
        subtitle=record.subtitle,
        parallel_titles=list(record.parallel_titles),
        title_variants=list(record.title_variants),
        responsibility=record.responsibility,
        contributors=[
            ContributorData(
                name=c.agent.name,
                role=c.role,
                variants=list(c.agent.variants),
                is_organisation=c.agent.kind == Agent.Kind.ORGANISATION,
            )
            for c in record.contributions.all()
        ],
        publisher=record.publisher,
        place=record.place,
        year=record.year,
        edition=record.edition,
        extent=record.extent,
        languages=list(record.languages),
        resource_type=record.resource_type,
        audience=record.audience,
        subjects=[
            SubjectData(label=s.label, labels=dict(s.labels), scheme=s.scheme)
            for s in record.subjects.all()
        ],
        classifications=[
            ClassificationData(scheme=c.scheme, number=c.number)
            for c in record.classifications.all()
        ],
        identifiers=[
            IdentifierData(scheme=i.scheme, value=i.normalized if i.is_valid else i.value)
            for i in record.identifiers.all()
        ],
        series=record.series,
        abstract=record.abstract,
        contents=record.contents,
        notes=record.notes,
        work_key=record.work_key,
        control_number=record.control_number,
        control_number_source=record.control_number_source,
        source_format=record.source_format,
        source_data=bytes(record.source_data or b""),
    )


def describe_for_ledger(record_id: str) -> Described | None:
    """A published record's title and page, for ledger entries about ``record:<id>``.

    The ledger is public, so it names only what every reader may see.
    """
    if not record_id.isdigit():
        return None
    title = (
        Record.objects.filter(pk=int(record_id), status=RecordStatus.PUBLISHED)
        .values_list("title", flat=True)
        .first()
    )
    if title is None:
        return None
    return Described(title, reverse("catalogue:record", args=[int(record_id)]))
