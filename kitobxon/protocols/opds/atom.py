"""OPDS 1.2: a ``Feed`` written as an Atom document (RFC 4287 with the OPDS catalog extensions).

Pure over its input: the same feed always gives the same bytes. Entries carry Dublin Core terms
(dc:language, dc:issued, dc:publisher) and OpenSearch counts on paged feeds.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from kitobxon.protocols.opds.feeds import Feed, Link, Navigation, Publication

ATOM = "http://www.w3.org/2005/Atom"
OPDS = "http://opds-spec.org/2010/catalog"
DC = "http://purl.org/dc/terms/"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
THR = "http://purl.org/syndication/thread/1.0"
NSMAP = {None: ATOM, "opds": OPDS, "dc": DC, "opensearch": OPENSEARCH, "thr": THR}
SORT_RELS = {"new": "http://opds-spec.org/sort/new", "popular": "http://opds-spec.org/sort/popular"}

NAVIGATION_TYPE = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION_TYPE = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ENTRY_TYPE = "application/atom+xml;type=entry;profile=opds-catalog"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
AUTH_DOCUMENT_REL = "http://opds-spec.org/auth/document"
AUTH_DOCUMENT_TYPE = "application/opds-authentication+json"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"


def _stamp(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def _link(parent: etree._Element, rel: str, href: str, type: str, title: str = "") -> None:
    _sub(parent, f"{{{ATOM}}}link", rel=rel, href=href, type=type, title=title)


def feed_type(kind: str) -> str:
    return NAVIGATION_TYPE if kind == "navigation" else ACQUISITION_TYPE


def write(feed: Feed, *, root: str, start: str, search: str, authentication: str) -> bytes:
    """The feed as Atom; ``root``, ``start``, ``search`` and ``authentication`` (the OPDS
    Authentication document) are the catalogue's own addresses."""
    element = etree.Element(f"{{{ATOM}}}feed", nsmap=NSMAP)
    own_type = feed_type(feed.kind)
    page = feed.page.number if feed.page else 1
    _sub(element, f"{{{ATOM}}}id", feed.url(1))
    _sub(element, f"{{{ATOM}}}title", feed.title)
    _sub(element, f"{{{ATOM}}}updated", _stamp(feed.updated))
    author = _sub(element, f"{{{ATOM}}}author")
    _sub(author, f"{{{ATOM}}}name", "Kitobxon")
    _sub(author, f"{{{ATOM}}}uri", root)
    _link(element, "self", feed.url(page), own_type)
    _link(element, "start", start, NAVIGATION_TYPE)
    if feed.key != "root":
        _link(element, "up", start, NAVIGATION_TYPE)
    _link(element, "search", search, OPENSEARCH_TYPE)
    _link(element, AUTH_DOCUMENT_REL, authentication, AUTH_DOCUMENT_TYPE)
    for link in feed.links:
        _link(element, link.rel, link.href, link.type, link.title)
    if feed.page is not None:
        last = feed.page.last
        _link(element, "first", feed.url(1), own_type)
        _link(element, "last", feed.url(last), own_type)
        if page > 1:
            _link(element, "previous", feed.url(min(page - 1, last)), own_type)
        if page < last:
            _link(element, "next", feed.url(page + 1), own_type)
        _sub(element, f"{{{OPENSEARCH}}}totalResults", str(feed.page.total))
        _sub(element, f"{{{OPENSEARCH}}}itemsPerPage", str(feed.page.size))
        _sub(element, f"{{{OPENSEARCH}}}startIndex", str((page - 1) * feed.page.size + 1))
        if feed.query:
            _sub(element, f"{{{OPENSEARCH}}}Query", role="request", searchTerms=feed.query)
    for entry in feed.navigation:
        _navigation_entry(element, entry, feed.updated)
    for publication in feed.publications:
        _publication_entry(element, publication)
    return bytes(etree.tostring(element, xml_declaration=True, encoding="utf-8"))


def _navigation_entry(parent: etree._Element, entry: Navigation, updated: datetime) -> None:
    element = _sub(parent, f"{{{ATOM}}}entry")
    _sub(element, f"{{{ATOM}}}title", entry.title)
    _sub(element, f"{{{ATOM}}}id", entry.href)
    _sub(element, f"{{{ATOM}}}updated", _stamp(updated))
    rel = SORT_RELS.get(entry.key, "subsection")
    link = _sub(element, f"{{{ATOM}}}link", rel=rel, href=entry.href, type=feed_type(entry.kind))
    if entry.count is not None:
        link.set(f"{{{THR}}}count", str(entry.count))
    if entry.summary:
        _sub(element, f"{{{ATOM}}}content", entry.summary, type="text")


def write_entry(publication: Publication) -> bytes:
    """One publication as an OPDS entry document: what borrowing and returning answer."""
    document = etree.Element(f"{{{ATOM}}}entry", nsmap=NSMAP)
    _fill_entry(document, publication)
    return bytes(etree.tostring(document, xml_declaration=True, encoding="utf-8"))


def _publication_entry(parent: etree._Element, publication: Publication) -> None:
    _fill_entry(_sub(parent, f"{{{ATOM}}}entry"), publication)


def _fill_entry(element: etree._Element, publication: Publication) -> None:
    _sub(element, f"{{{ATOM}}}title", publication.title)
    _sub(element, f"{{{ATOM}}}id", publication.id)
    _sub(element, f"{{{ATOM}}}updated", _stamp(publication.updated))
    for name in publication.authors:
        author = _sub(element, f"{{{ATOM}}}author")
        _sub(author, f"{{{ATOM}}}name", name)
    for language in publication.languages:
        _sub(element, f"{{{DC}}}language", language)
    if publication.year:
        _sub(element, f"{{{DC}}}issued", str(publication.year))
    if publication.publisher:
        _sub(element, f"{{{DC}}}publisher", publication.publisher)
    for subject in publication.subjects:
        _sub(element, f"{{{ATOM}}}category", term=subject, label=subject)
    if publication.resource_type:
        _sub(element, f"{{{ATOM}}}category", term=publication.resource_type)
    if publication.summary:
        _sub(element, f"{{{ATOM}}}summary", publication.summary, type="text")
    for link in publication.links:
        item = _sub(
            element,
            f"{{{ATOM}}}link",
            rel=link.rel,
            href=link.href,
            type=link.type,
            title=link.title,
        )
        if link.indirect:
            _sub(item, f"{{{OPDS}}}indirectAcquisition", type=link.indirect)
        if link.availability is not None:
            _availability(item, link)


def _availability(item: etree._Element, link: Link) -> None:
    """The Library Simplified extension, inside the link it describes."""
    state = link.availability
    assert state is not None
    _sub(
        item,
        f"{{{OPDS}}}availability",
        status=state.status,
        since=_stamp(state.since) if state.since else "",
        until=_stamp(state.until) if state.until else "",
    )
    holds = {"total": state.holds_total, "position": state.holds_position}
    _sub(item, f"{{{OPDS}}}holds", **{k: str(v) for k, v in holds.items() if v is not None})
    copies = {"total": state.copies_total, "available": state.copies_available}
    _sub(item, f"{{{OPDS}}}copies", **{k: str(v) for k, v in copies.items() if v is not None})
