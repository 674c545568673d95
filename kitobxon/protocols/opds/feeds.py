"""What an OPDS catalogue says, as plain data: navigation feeds, acquisition feeds, publications.

Built from the search backend (lists, sorting, facets; the caller's principals decide what is
found) and the digital library's doors (files and their access decisions), then written as
OPDS 1.2 Atom (``atom.py``) or OPDS 2.0 JSON (``opds2.py``). Nothing here knows either format.

OPDS is for acquiring digital publications, so its lists hold the records with a file online
(the "online" availability facet); print-only records have nothing to acquire.

Library rule: a reader is offered a file the way the access policy allows it to them now: an open
file as open access, a file they may open for another reason (registered, reader group, campus, a
digital loan they hold) as a plain acquisition, a licensed title they do not hold as a borrow
link (to ``loans.borrow``, which apps follow with the reader's credentials); a file that needs a
signed-in reader as an acquisition the client authenticates for; a file they may not reach at
all is not mentioned. Links to licensed titles say where the reader stands (``standing.py``:
borrowing until, waiting at a place, a copy kept for them, copies free) and, when they borrow or
wait, how to give it back (the ``revoke`` link).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kitobxon.catalogue.queries import readable_records, with_details
from kitobxon.digital import policy
from kitobxon.digital import queries as digital
from kitobxon.digital.links import url_name
from kitobxon.digital.models import Access, DigitalFile, DigitalLoanState
from kitobxon.digital.states import OPEN_WAIT_STATES
from kitobxon.protocols.opds.standing import Availability, Standing, standings
from kitobxon.search.queries import principals
from kitobxon.search.registry import facet_label
from kitobxon.search.searching import SearchRequest, SearchResponse, search

PAGE_SIZE = 20
FACET_LIMIT = 100
#: Navigation facets: URL segment -> search facet.
FACETS: dict[str, str] = {"subjects": "subject", "languages": "lang", "types": "type"}
#: Acquisition lists: URL segment -> search sort.
LISTS: dict[str, str] = {"new": "newest", "popular": "popularity"}
ONLINE: dict[str, list[str]] = {"availability": ["online"]}

OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
ACQUISITION = "http://opds-spec.org/acquisition"
BORROW = "http://opds-spec.org/acquisition/borrow"
IMAGE = "http://opds-spec.org/image"
THUMBNAIL = "http://opds-spec.org/image/thumbnail"
SHELF = "http://opds-spec.org/shelf"
#: Library Simplified's relation for giving a loan back or leaving a waiting list.
REVOKE = "http://librarysimplified.org/terms/rel/revoke"
HTML = "text/html"
#: The web reader beside a direct acquisition: ``alternate`` in OPDS 2.0; in Atom ``related``,
#: as RFC 4287 (4.1.1) allows one ``alternate`` per type and the record page is that one.
READER = {1: "related", 2: "alternate"}
ATOM_ENTRY = "application/atom+xml;type=entry;profile=opds-catalog"
ATOM_ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPDS2_PUBLICATION = "application/opds-publication+json"
OPDS2_FEED = "application/opds+json"
#: As much of an abstract as the search index keeps for lists.
ABSTRACT_SHOWN = 400


#: ISO 639-2/B (the catalogue's codes) -> the shortest BCP 47 tag, which OPDS asks for.
BCP47 = {
    "uzb": "uz",
    "rus": "ru",
    "eng": "en",
    "kaz": "kk",
    "kir": "ky",
    "tgk": "tg",
    "tuk": "tk",
    "tur": "tr",
    "per": "fa",
    "ara": "ar",
    "ger": "de",
    "fre": "fr",
    "spa": "es",
    "chi": "zh",
    "jpn": "ja",
    "kor": "ko",
    "lat": "la",
    "ita": "it",
}


def bcp47(code: str) -> str:
    """A language tag for ``code``; codes without a two-letter form stay as they are."""
    return BCP47.get(code, code)


@dataclass(frozen=True, slots=True)
class Link:
    rel: str
    href: str
    type: str
    title: str = ""
    #: The media type the reader ends up with behind a borrow or reader page.
    indirect: str = ""
    #: Library Simplified availability of what is behind the link (licensed titles).
    availability: Availability | None = None
    #: The link needs the reader's credentials (OPDS 2.0 ``authenticate``).
    authenticate: bool = False


@dataclass(frozen=True, slots=True)
class Navigation:
    """One entry of a navigation feed: a titled link to another feed."""

    key: str
    title: str
    href: str
    kind: str  # "navigation" or "acquisition"
    summary: str = ""
    count: int | None = None


@dataclass(slots=True)
class Publication:
    id: str
    title: str
    url: str
    updated: datetime
    subtitle: str = ""
    authors: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    year: int | None = None
    publisher: str = ""
    summary: str = ""
    subjects: list[str] = field(default_factory=list)
    resource_type: str = ""
    links: list[Link] = field(default_factory=list)


@dataclass(slots=True)
class Page:
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(slots=True)
class Feed:
    """A navigation feed (``navigation``) or an acquisition feed (``publications``)."""

    key: str
    title: str
    kind: str  # "navigation" or "acquisition"
    updated: datetime
    #: Builds this feed's URL for a page (and format); the writers add self/first/next links.
    url: Callable[[int], str]
    navigation: list[Navigation] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    page: Page | None = None
    query: str = ""
    #: Further feed-level links (the shelf, from the root).
    links: list[Link] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, from where, and in which of the two formats links should point."""

    request: HttpRequest
    user: Any
    version: int  # 1 (Atom) or 2 (JSON)
    #: When set, files the reader may open are linked to their bytes (signed links it issues)
    #: instead of the reader page: for apps, after a borrow and on the shelf.
    fulfil: Callable[[DigitalFile], str] | None = None

    @property
    def entry_type(self) -> str:
        """The media type of one publication in this format (what borrow and revoke answer)."""
        return OPDS2_PUBLICATION if self.version == 2 else ATOM_ENTRY

    @property
    def acquisition_type(self) -> str:
        return OPDS2_FEED if self.version == 2 else ATOM_ACQUISITION

    def url(self, name: str, *args: Any, query: Mapping[str, Any] | None = None) -> str:
        prefix = "protocols:opds2-" if self.version == 2 else "protocols:opds-"
        path = reverse(prefix + name, args=args)
        params = {k: v for k, v in (query or {}).items() if v not in (None, "", 1) or k == "q"}
        if params:
            path = f"{path}?{urlencode(params)}"
        return self.request.build_absolute_uri(path)

    def absolute(self, path: str) -> str:
        return self.request.build_absolute_uri(path)


def root(caller: Caller) -> Feed:
    entries = [
        Navigation(
            "new",
            _("New titles"),
            caller.url("list", "new"),
            "acquisition",
            _("The newest titles of the catalogue."),
        ),
        Navigation(
            "popular",
            _("Popular titles"),
            caller.url("list", "popular"),
            "acquisition",
            _("The titles readers borrow and open most."),
        ),
        Navigation(
            "subjects",
            _("By subject"),
            caller.url("facet", "subjects"),
            "navigation",
            _("Titles grouped by subject."),
        ),
        Navigation(
            "languages",
            _("By language"),
            caller.url("facet", "languages"),
            "navigation",
            _("Titles grouped by the language they are written in."),
        ),
        Navigation(
            "types",
            _("By resource type"),
            caller.url("facet", "types"),
            "navigation",
            _("Books, articles, theses, recordings and more."),
        ),
    ]
    return Feed(
        key="root",
        title=_("Kitobxon catalogue"),
        kind="navigation",
        updated=timezone.now(),
        url=lambda page: caller.url("root"),
        navigation=entries,
        links=[Link(SHELF, caller.url("shelf"), caller.acquisition_type, _("My digital loans"))],
    )


def facet(caller: Caller, segment: str) -> Feed:
    """A navigation feed of the values of one facet, each linking to its acquisition feed."""
    name = FACETS[segment]
    found = search(
        SearchRequest(
            filters=ONLINE,
            principals=principals(caller.user),
            size=1,
            facets=(name,),
            count_zero=False,
        )
    )
    titles = {"subjects": _("By subject"), "languages": _("By language"), "types": _("By type")}
    entries = [
        Navigation(
            key=f"{segment}:{value}",
            title=facet_label(name, value),
            href=caller.url("list", "all", query={name: value}),
            kind="acquisition",
            count=count,
        )
        for value, count in found.facets.get(name, [])[:FACET_LIMIT]
    ]
    return Feed(
        key=segment,
        title=titles[segment],
        kind="navigation",
        updated=timezone.now(),
        url=lambda page: caller.url("facet", segment),
        navigation=entries,
    )


def publications(
    caller: Caller,
    segment: str,
    *,
    filters: Mapping[str, Sequence[str]],
    page: int,
    q: str = "",
) -> Feed:
    """An acquisition feed: a list (new, popular, all with filters) or a search, one page."""
    sort = LISTS.get(segment, "newest" if not q else "relevance")
    found = search(
        SearchRequest(
            q=q,
            filters={**filters, **ONLINE},
            sort=sort,
            page=page,
            size=PAGE_SIZE,
            principals=principals(caller.user),
            facets=(),
            count_zero=bool(q),
        )
    )
    if segment == "search":
        title = _("Search: %(query)s") % {"query": q}
        url: Callable[[int], str] = lambda n: caller.url("search", query={"q": q, "page": n})  # noqa: E731
    else:
        title = _list_title(segment, filters)
        single = {k: v[0] for k, v in filters.items() if v}
        url = lambda n: caller.url("list", segment, query={**single, "page": n})  # noqa: E731
    return Feed(
        key=segment,
        title=title,
        kind="acquisition",
        updated=timezone.now(),
        url=url,
        publications=_publications(caller, found),
        page=Page(found.page, found.size, min(found.total, found.pages * found.size)),
        query=q,
    )


def _list_title(segment: str, filters: Mapping[str, Sequence[str]]) -> str:
    if segment == "new":
        return _("New titles")
    if segment == "popular":
        return _("Popular titles")
    labels = [facet_label(name, values[0]) for name, values in filters.items() if values]
    return ", ".join(labels) or _("All titles")


def _publications(caller: Caller, found: SearchResponse) -> list[Publication]:
    """The page's hits, checked again against ``readable_records`` and given their files."""
    ids = [int(hit["id"]) for hit in found.hits if str(hit.get("id", "")).isdigit()]
    modified = dict(
        readable_records(caller.user).filter(pk__in=ids).values_list("pk", "modified_at")
    )
    hits = [
        (int(hit["id"]), hit)
        for hit in found.hits
        if str(hit.get("id", "")).isdigit() and int(hit["id"]) in modified
    ]
    return _built(caller, hits, modified)


def records(caller: Caller, record_ids: Sequence[int]) -> list[Publication]:
    """Publications read from the catalogue rather than the search index, in the given order:
    the answer to a borrow, the reader's shelf (which must be right the moment after)."""
    found = {
        record.pk: record
        for record in with_details(readable_records(caller.user)).filter(pk__in=record_ids)
    }
    hits: list[tuple[int, Mapping[str, Any]]] = []
    for record_id in record_ids:
        record = found.get(record_id)
        if record is None:
            continue
        contributions = sorted(record.contributions.all(), key=lambda c: c.position)
        hit = {
            "title": record.title,
            "subtitle": record.subtitle,
            "authors": [c.agent.name for c in contributions],
            "languages": record.languages or [],
            "year": record.year,
            "publisher": record.publisher,
            "abstract": (record.abstract or record.contents)[:ABSTRACT_SHOWN],
            "subjects": [subject.label for subject in record.subjects.all()],
            "type": record.resource_type,
        }
        hits.append((record_id, hit))
    modified = {pk: record.modified_at for pk, record in found.items()}
    return _built(caller, hits, modified)


def _built(
    caller: Caller,
    hits: Sequence[tuple[int, Mapping[str, Any]]],
    modified: Mapping[int, datetime],
) -> list[Publication]:
    files: dict[int, list[DigitalFile]] = {}
    for file in (
        digital.readable_files(caller.user)
        .filter(record_id__in=list(modified), caption_for__isnull=True)
        .order_by("record_id", "position", "id")
    ):
        files.setdefault(file.record_id, []).append(file)
    licensed = {
        file.record_id
        for found in files.values()
        for file in found
        if file.access == Access.LICENSED
    }
    held = standings(caller.user, sorted(licensed))
    result = []
    for record_id, hit in hits:
        publication = Publication(
            id=caller.absolute(
                str(hit.get("url") or reverse("catalogue:record", args=[record_id]))
            ),
            title=str(hit.get("title") or ""),
            subtitle=str(hit.get("subtitle") or ""),
            url=caller.absolute(reverse("catalogue:record", args=[record_id])),
            updated=modified[record_id],
            authors=[str(a) for a in hit.get("authors") or []],
            languages=[bcp47(str(lang)) for lang in hit.get("languages") or []],
            year=hit.get("year"),
            publisher=str(hit.get("publisher") or ""),
            summary=str(hit.get("abstract") or ""),
            subjects=[str(s) for s in hit.get("subjects") or []],
            resource_type=str(hit.get("type") or ""),
        )
        publication.links = [
            Link("alternate", publication.url, HTML, _("Record page")),
            Link(
                IMAGE,
                caller.absolute(reverse("catalogue:cover", args=[record_id])),
                "image/svg+xml",
            ),
            *_file_links(caller, record_id, files.get(record_id, []), held.get(record_id)),
        ]
        result.append(publication)
    return result


def open_to_visitors(file: DigitalFile) -> bool:
    """Library rule: a file anyone may open without signing in, and may save, is linked to its
    bytes (``loans.open_access``); any other stays behind the reader page or a borrow."""
    decision = policy.decide(file, AnonymousUser())
    return decision.allowed and decision.download


def _file_links(
    caller: Caller, record_id: int, files: list[DigitalFile], standing: Standing | None
) -> list[Link]:
    links: list[Link] = []
    borrow_offered = False
    ip = digital.client_ip(caller.request)
    has_loan = standing is not None and standing.loan
    availability = standing.availability if standing is not None else None
    for file in files:
        decision = policy.decide(file, caller.user, ip=ip, has_loan=has_loan)
        reader = caller.absolute(reverse("digital:reader", args=[file.pk]))
        title = file.label or file.original_name
        if decision.allowed:
            rel = OPEN_ACCESS if decision.reason == "open" else ACQUISITION
            lent = availability if file.access == Access.LICENSED else None
            if caller.fulfil is not None:
                # The bytes themselves, through a signed link issued to this reader.
                href = caller.absolute(caller.fulfil(file))
                links.append(
                    Link(rel, href, file.content_type, title, availability=lent, authenticate=True)
                )
            elif open_to_visitors(file):
                # Apps save what an acquisition link gives: the file itself, its real type.
                door = reverse("protocols:opds-open", args=[file.pk, url_name(file)])
                href = caller.absolute(door)
                links.append(Link(READER[caller.version], reader, HTML, title))
                links.append(Link(rel, href, file.content_type, title, availability=lent))
            else:
                links.append(
                    Link(rel, reader, HTML, title, indirect=file.content_type, availability=lent)
                )
            if file.thumbnail:
                thumb = caller.absolute(reverse("digital:thumbnail", args=[file.pk]))
                links.append(Link(THUMBNAIL, thumb, "image/jpeg"))
        elif file.access == Access.LICENSED and decision.reason in ("borrow", "sign_in"):
            if not borrow_offered:
                # Reading apps borrow here with the reader's credentials (GET or POST).
                links.append(
                    Link(
                        BORROW,
                        caller.url("borrow", record_id),
                        caller.entry_type,
                        _("Borrow"),
                        indirect=file.content_type,
                        availability=availability,
                        authenticate=True,
                    )
                )
                borrow_offered = True
        elif decision.reason == "sign_in":
            links.append(Link(ACQUISITION, reader, HTML, title, indirect=file.content_type))
    if standing is not None and standing.held:
        title = _("Return early") if standing.loan else _("Leave the waiting list")
        revoke = caller.url("revoke", record_id)
        links.append(Link(REVOKE, revoke, caller.entry_type, title, authenticate=True))
    return links


def shelf(caller: Caller) -> Feed:
    """The reader's shelf: the titles they borrow now, then those they wait for."""
    now = timezone.now()
    user = caller.user
    borrowed = (
        digital.readable_digital_loans(user)
        .filter(reader_id=user.pk, state=DigitalLoanState.ACTIVE, due_at__gt=now)
        .order_by("due_at", "id")
        .values_list("licence__record_id", flat=True)
    )
    waiting = (
        digital.readable_waits(user)
        .filter(reader_id=user.pk, state__in=OPEN_WAIT_STATES)
        .order_by("created_at", "id")
        .values_list("licence__record_id", flat=True)
    )
    ids = list(dict.fromkeys([*borrowed, *waiting]))
    return Feed(
        key="shelf",
        title=_("My digital loans"),
        kind="acquisition",
        updated=now,
        url=lambda page: caller.url("shelf"),
        publications=records(caller, ids),
    )
