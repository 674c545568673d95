"""How the catalogue appears in search: one `SearchDocument` per record.

Registered from CatalogueConfig.ready(). Loading reads plain values in a few queries per batch
(records, names, subjects, identifiers, copies, collections) so a rebuild of a million records
stays fast.
Availability comes from the copies: a record is "available" when a copy is on the shelf now.
Apps above the catalogue add to a record's document without the catalogue importing them
(``extend_documents``): the digital library adds its files' full text and "online".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet, Subquery
from django.urls import reverse

from kitobxon.catalogue.languages import language_name
from kitobxon.catalogue.models import (
    Agent,
    Audience,
    Collection,
    Contribution,
    Identifier,
    Item,
    ItemStatus,
    Record,
    RecordStatus,
    ResourceType,
    Subject,
)
from kitobxon.catalogue.queries import readable_collections
from kitobxon.search import analysis, registry
from kitobxon.search.documents import PUBLIC, STAFF, SearchDocument

KIND = "record"
RECORD_FIELDS = (
    "id",
    "title",
    "subtitle",
    "parallel_titles",
    "title_variants",
    "responsibility",
    "publisher",
    "place",
    "year",
    "edition",
    "languages",
    "resource_type",
    "audience",
    "series",
    "abstract",
    "contents",
    "notes",
    "status",
    "work_key",
)
AVAILABILITY: dict[str, str] = {
    ItemStatus.AVAILABLE: "available",
    ItemStatus.ON_LOAN: "on_loan",
}
AUTHOR_FACET_LIMIT = 3
ABSTRACT_SHOWN = 400

#: Called with {record id: document} for every loaded batch; adds to the documents in place.
DocumentExtension = Callable[[dict[int, SearchDocument]], None]
_extensions: list[DocumentExtension] = []


def extend_documents(extension: DocumentExtension) -> None:
    """Let an app add to records' search documents (registered from its AppConfig.ready())."""
    if extension not in _extensions:
        _extensions.append(extension)


def load(ids: Sequence[str]) -> list[SearchDocument]:
    pks = [int(i) for i in ids if str(i).isdigit()]
    return _documents(Record.objects.filter(pk__in=pks), whole_range=False)


def load_all(batch: int) -> Iterator[list[SearchDocument]]:
    """Every record's document, for a rebuild: keyset pages of `batch` records.

    A page holds every record between its lowest and highest id, so the rows of its names,
    subjects, copies … are read by that id range rather than by a list of a thousand ids, which
    Django prepares value by value (~40 µs a record over the six queries). Within a page the
    documents come in the records' usual order, as `load` gives them.
    """
    last = 0
    while True:
        page = Record.objects.filter(pk__gt=last).order_by("pk").values("pk")[:batch]
        documents = _documents(Record.objects.filter(pk__in=Subquery(page)), whole_range=True)
        if not documents:
            return
        last = max(int(d.id) for d in documents)
        yield documents


def _documents(records: QuerySet[Record], *, whole_range: bool) -> list[SearchDocument]:
    """The documents of `records`; `whole_range`: they are every record from the lowest id
    among them to the highest."""
    rows = list(records.values(*RECORD_FIELDS))
    if not rows:
        return []
    found = [r["id"] for r in rows]
    if whole_range:
        of_rows = Q(record_id__gte=min(found), record_id__lte=max(found))
    else:
        of_rows = Q(record_id__in=found)
    # Names and subjects repeat across records: each agent's and subject's row (and its JSON)
    # is read once per batch, not once per record.
    contributions = list(
        Contribution.objects.filter(of_rows)
        .order_by("record_id", "position")
        .values_list("record_id", "agent_id")
    )
    agents = {
        pk: (name, variants or [])
        for pk, name, variants in Agent.objects.filter(
            pk__in={agent for _, agent in contributions}
        ).values_list("pk", "name", "variants")
    }
    names: dict[int, list[tuple[str, list[str]]]] = defaultdict(list)
    for record_id, agent_id in contributions:
        names[record_id].append(agents[agent_id])
    tagged = list(
        Record.subjects.through.objects.filter(of_rows)
        .order_by("record_id", "subject_id")
        .values_list("record_id", "subject_id")
    )
    labelled = {
        pk: (label, labels or {})
        for pk, label, labels in Subject.objects.filter(
            pk__in={subject for _, subject in tagged}
        ).values_list("pk", "label", "labels")
    }
    subjects: dict[int, list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for record_id, subject_id in tagged:
        subjects[record_id].append(labelled[subject_id])
    idents: dict[int, list[str]] = defaultdict(list)
    for record_id, _scheme, normalized in Identifier.objects.filter(
        of_rows, scheme__in=("isbn", "issn")
    ).values_list("record_id", "scheme", "normalized"):
        idents[record_id].append(normalized.replace("-", "").upper())
    copies: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
    for record_id, barcode, call_number, branch, status in (
        Item.objects.filter(of_rows)
        .exclude(status=ItemStatus.WITHDRAWN)
        .values_list("record_id", "barcode", "call_number", "branch__name", "status")
    ):
        copies[record_id].append((barcode, call_number, branch, status))
    groups: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record_id, code, kind in (
        Record.collections.through.objects.filter(of_rows)
        .order_by("collection__code")
        .values_list("record_id", "collection__code", "collection__kind")
    ):
        groups[record_id][kind].append(code)
    record_url = _url_maker()
    documents = [
        document(
            row,
            names[row["id"]],
            subjects[row["id"]],
            idents[row["id"]],
            copies[row["id"]],
            record_url,
            groups[row["id"]],
        )
        for row in rows
    ]
    if _extensions:
        by_id = {int(doc.id): doc for doc in documents}
        for extension in list(_extensions):
            extension(by_id)
    return documents


def document(
    row: dict[str, Any],
    names: list[tuple[str, list[str]]],
    subjects: list[tuple[str, dict[str, str]]],
    identifiers: list[str],
    copies: list[tuple[str, str, str, str]],
    record_url: Callable[[str], str] | None = None,
    collections: dict[str, list[str]] | None = None,
) -> SearchDocument:
    languages = row["languages"] or []
    title = " ".join(
        filter(
            None, [row["title"], row["subtitle"], *row["parallel_titles"], *row["title_variants"]]
        )
    )
    authors = [name for name, _ in names]
    author_text = " ".join([*(n for name, v in names for n in (name, *v)), row["responsibility"]])
    subject_text = " ".join(
        label for main, labels in subjects for label in dict.fromkeys([main, *labels.values()])
    )
    availability = sorted({AVAILABILITY[s] for *_, s in copies if s in AVAILABILITY})
    keys = [*identifiers]
    for barcode, call_number, _branch, _status in copies:
        keys.append(barcode.casefold())
        if call_number:
            keys.append(" ".join(call_number.casefold().split()))
    abstract = row["abstract"] or row["contents"]
    return SearchDocument(
        kind=KIND,
        id=str(row["id"]),
        language=analysis.language_family(languages[0]) if languages else "",
        text={
            "title": title,
            "author": author_text,
            "subject": subject_text,
            "other": " ".join(filter(None, [row["series"], row["publisher"], row["edition"]])),
            "abstract": " ".join(filter(None, [row["abstract"], row["contents"], row["notes"]])),
        },
        filters={
            "type": [row["resource_type"]],
            "lang": list(dict.fromkeys(languages)),
            "subject": list(dict.fromkeys(main for main, _ in subjects)),
            "author": authors[:AUTHOR_FACET_LIMIT],
            "audience": [row["audience"]] if row["audience"] else [],
            "availability": availability,
            "branch": sorted({branch for _b, _c, branch, _s in copies}),
            "faculty": list((collections or {}).get(Collection.Kind.FACULTY, [])),
            "collection": list((collections or {}).get(Collection.Kind.COLLECTION, [])),
        },
        identifiers=list(dict.fromkeys(keys)),
        year=row["year"],
        sort_title=analysis.uzbek_sort_key(row["title"]),
        visible_to=[PUBLIC] if row["status"] == RecordStatus.PUBLISHED else [STAFF],
        display={
            "title": row["title"],
            "subtitle": row["subtitle"],
            "authors": authors,
            "year": row["year"],
            "type": row["resource_type"],
            "languages": languages,
            "publisher": row["publisher"],
            "subjects": [main for main, _ in subjects],
            "abstract": abstract[:ABSTRACT_SHOWN],
            "status": row["status"],
            "copies": len(copies),
            "available": sum(1 for *_, s in copies if s == ItemStatus.AVAILABLE),
            "work_key": row["work_key"],
            "url": (record_url or url)(str(row["id"])),
        },
    )


def all_ids(batch: int) -> Iterator[list[str]]:
    last = 0
    while True:
        ids = list(
            Record.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return
        last = ids[-1]
        yield [str(i) for i in ids]


def url(object_id: str) -> str:
    return reverse("catalogue:record", args=[object_id])


_PLACEHOLDER = 987_654_321


def _url_maker() -> Callable[[str], str]:
    """`url` for a batch: one `reverse` and string joins, not a `reverse` per record (slow)."""
    head, _, tail = url(str(_PLACEHOLDER)).rpartition(str(_PLACEHOLDER))
    return lambda object_id: f"{head}{object_id}{tail}"


def _choice_label(choices: type[ResourceType] | type[Audience]) -> Callable[[str], str]:
    labels = dict(choices.choices)
    return lambda value: str(labels.get(value, value))


def collection_names(wanted: Mapping[str, Sequence[str]]) -> dict[str, dict[str, str]]:
    """Names of faculties and collections by code, in the reader's language: one query for
    every code a results page shows, whichever of the two facets it is in."""
    codes = {code for values in wanted.values() for code in values}
    if not codes:
        return {}
    names = {
        (c.kind, c.code): c.local_name
        for c in readable_collections(AnonymousUser())
        .filter(code__in=codes)
        .only("kind", "code", "name", "names")
    }
    # The facet is the kind: a faculty's code typed as ?collection= is not named as one.
    return {
        facet: {code: names[(facet, code)] for code in values if (facet, code) in names}
        for facet, values in wanted.items()
    }


SOURCE = registry.Source(
    kind=KIND,
    load=load,
    all_ids=all_ids,
    load_all=load_all,
    url=url,
    facet_names={
        "type": registry.each_value(_choice_label(ResourceType)),
        "audience": registry.each_value(_choice_label(Audience)),
        "lang": registry.each_value(language_name),
        "faculty": collection_names,
        "collection": collection_names,
    },
)
