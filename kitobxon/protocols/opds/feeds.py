"""What an OPDS catalogue says, as plain data: navigation feeds, acquisition feeds, publications.

Built from the search backend (lists, sorting, facets; the caller's principals decide what is
found) and the digital library's doors (files and their access decisions), then written as
OPDS 1.2 Atom (``atom.py``) or OPDS 2.0 JSON (``opds2.py``). Nothing here knows either format.

OPDS is for acquiring digital publications, so its lists hold the records with a file online
(the "online" availability facet); print-only records have nothing to acquire.

Library rule: a reader is offered a file the way the access policy allows it to them now: an open
file as open access, a file they may open for another reason (registered, reader group, campus, a
digital loan they hold) as a plain acquisition, a licensed title they do not hold as a borrow
link; a file that needs a signed-in reader as an acquisition the client authenticates for; a
file they may not reach at all is not mentioned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kitobxon.catalogue.languages import language_name
from kitobxon.catalogue.models import ResourceType
from kitobxon.catalogue.queries import readable_records
from kitobxon.digital import policy
from kitobxon.digital import queries as digital
from kitobxon.digital.models import Access, DigitalFile, DigitalLoanState
from kitobxon.search.queries import principals
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
HTML = "text/html"


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


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, from where, and in which of the two formats links should point."""

    request: HttpRequest
    user: Any
    version: int  # 1 (Atom) or 2 (JSON)

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
    )


def _facet_label(facet: str, value: str) -> str:
    if facet == "lang":
        return language_name(value)
    if facet == "type":
        return str(dict(ResourceType.choices).get(value, value))
    return value


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
            title=_facet_label(name, value),
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
    labels = [_facet_label(name, values[0]) for name, values in filters.items() if values]
    return ", ".join(labels) or _("All titles")


def _publications(caller: Caller, found: SearchResponse) -> list[Publication]:
    """The page's hits, checked again against ``readable_records`` and given their files."""
    ids = [int(hit["id"]) for hit in found.hits if str(hit.get("id", "")).isdigit()]
    modified = dict(
        readable_records(caller.user).filter(pk__in=ids).values_list("pk", "modified_at")
    )
    files: dict[int, list[DigitalFile]] = {}
    for file in (
        digital.readable_files(caller.user)
        .filter(record_id__in=list(modified), caption_for__isnull=True)
        .order_by("record_id", "position", "id")
    ):
        files.setdefault(file.record_id, []).append(file)
    loans = _loans(caller.user, list(files))
    result = []
    for hit in found.hits:
        record_id = int(hit["id"]) if str(hit.get("id", "")).isdigit() else 0
        if record_id not in modified:
            continue
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
            *_file_links(caller, files.get(record_id, []), record_id in loans),
        ]
        result.append(publication)
    return result


def _loans(user: Any, record_ids: list[int]) -> set[int]:
    """Records the reader holds an active digital loan of (one query for the page)."""
    if not record_ids or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        digital.readable_digital_loans(user)
        .filter(
            reader_id=user.pk,
            licence__record_id__in=record_ids,
            state=DigitalLoanState.ACTIVE,
            due_at__gt=timezone.now(),
        )
        .values_list("licence__record_id", flat=True)
    )


def _file_links(caller: Caller, files: list[DigitalFile], has_loan: bool) -> list[Link]:
    links: list[Link] = []
    borrow_offered = False
    ip = digital.client_ip(caller.request)
    for file in files:
        decision = policy.decide(file, caller.user, ip=ip, has_loan=has_loan)
        reader = caller.absolute(reverse("digital:reader", args=[file.pk]))
        title = file.label or file.original_name
        if decision.allowed:
            rel = OPEN_ACCESS if decision.reason == "open" else ACQUISITION
            links.append(Link(rel, reader, HTML, title, indirect=file.content_type))
            if file.thumbnail:
                thumb = caller.absolute(reverse("digital:thumbnail", args=[file.pk]))
                links.append(Link(THUMBNAIL, thumb, "image/jpeg"))
        elif file.access == Access.LICENSED and decision.reason in ("borrow", "sign_in"):
            if not borrow_offered:
                # The record page, where the reader presses "Borrow" (a POST with CSRF).
                borrow = caller.absolute(reverse("catalogue:record", args=[file.record_id]))
                links.append(Link(BORROW, borrow, HTML, _("Borrow"), indirect=file.content_type))
                borrow_offered = True
        elif decision.reason == "sign_in":
            links.append(Link(ACQUISITION, reader, HTML, title, indirect=file.content_type))
    return links
