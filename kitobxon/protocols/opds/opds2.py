"""OPDS 2.0: a ``Feed`` written as ``application/opds+json`` (pure, like ``atom.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kitobxon.protocols.opds.feeds import ACQUISITION, IMAGE, THUMBNAIL, Feed, Link, Publication

CONTENT_TYPE = "application/opds+json"
PUBLICATION_TYPE = "application/opds-publication+json"
AUTH_DOCUMENT_REL = "http://opds-spec.org/auth/document"
AUTH_DOCUMENT_TYPE = "application/opds-authentication+json"
#: OPDS 2.0 images must include a raster format for clients that cannot draw SVG.
RASTER = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif")
SCHEMA_TYPES = {
    "book": "http://schema.org/Book",
    "article": "http://schema.org/ScholarlyArticle",
    "thesis": "http://schema.org/Thesis",
    "audio": "http://schema.org/AudioObject",
    "video": "http://schema.org/VideoObject",
    "map": "http://schema.org/Map",
    "score": "http://schema.org/MusicComposition",
    "serial": "http://schema.org/Periodical",
}


def _stamp(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write(feed: Feed, *, start: str, search: str, authentication: str) -> dict[str, Any]:
    """The feed as an OPDS 2.0 document; ``search`` is a URI template with ``{?query}``,
    ``authentication`` the OPDS Authentication document that links needing a reader name."""
    page = feed.page.number if feed.page else 1
    metadata: dict[str, Any] = {"title": feed.title, "modified": _stamp(feed.updated)}
    links: list[dict[str, Any]] = [
        {"rel": "self", "href": feed.url(page), "type": CONTENT_TYPE},
        {"rel": "start", "href": start, "type": CONTENT_TYPE},
        {"rel": "search", "href": search, "type": CONTENT_TYPE, "templated": True},
        {"rel": AUTH_DOCUMENT_REL, "href": authentication, "type": AUTH_DOCUMENT_TYPE},
        *(_link(link, authentication) for link in feed.links),
    ]
    if feed.page is not None:
        last = feed.page.last
        metadata.update(
            numberOfItems=feed.page.total, itemsPerPage=feed.page.size, currentPage=page
        )
        links.append({"rel": "first", "href": feed.url(1), "type": CONTENT_TYPE})
        links.append({"rel": "last", "href": feed.url(last), "type": CONTENT_TYPE})
        if page > 1:
            links.append(
                {"rel": "previous", "href": feed.url(min(page - 1, last)), "type": CONTENT_TYPE}
            )
        if page < last:
            links.append({"rel": "next", "href": feed.url(page + 1), "type": CONTENT_TYPE})
    document: dict[str, Any] = {"metadata": metadata, "links": links}
    if feed.kind == "navigation":
        # An empty facet still needs a navigation collection (minItems 1): back to the start.
        document["navigation"] = [
            {
                "href": entry.href,
                "title": entry.title,
                "type": CONTENT_TYPE,
                "rel": "subsection",
                **({"properties": {"numberOfItems": entry.count}} if entry.count else {}),
            }
            for entry in feed.navigation
        ] or [{"href": start, "title": feed.title, "type": CONTENT_TYPE, "rel": "start"}]
    else:
        publications = [publication(p, authentication) for p in feed.publications if _acquirable(p)]
        if publications:
            document["publications"] = publications
    if not document.get("publications") and feed.kind != "navigation":
        document["navigation"] = [
            {"href": start, "title": feed.title, "type": CONTENT_TYPE, "rel": "start"}
        ]
    return document


def _acquirable(publication: Publication) -> bool:
    """OPDS 2.0 requires an acquisition link; a title this reader cannot reach is left out."""
    return any(link.rel.startswith(ACQUISITION) for link in publication.links)


def _link(link: Link, authentication: str) -> dict[str, Any]:
    value: dict[str, Any] = {"rel": link.rel, "href": link.href, "type": link.type}
    if link.title:
        value["title"] = link.title
    properties: dict[str, Any] = {}
    if link.indirect:
        properties["indirectAcquisition"] = [{"type": link.indirect}]
    if link.authenticate:
        properties["authenticate"] = {"href": authentication, "type": AUTH_DOCUMENT_TYPE}
    state = link.availability
    if state is not None:
        availability = {"state": state.status}
        if state.since:
            availability["since"] = _stamp(state.since)
        if state.until:
            availability["until"] = _stamp(state.until)
        properties["availability"] = availability
        holds = {"total": state.holds_total, "position": state.holds_position}
        properties["holds"] = {k: v for k, v in holds.items() if v is not None}
        copies = {"total": state.copies_total, "available": state.copies_available}
        properties["copies"] = {k: v for k, v in copies.items() if v is not None}
    if properties:
        value["properties"] = properties
    return value


def publication(publication: Publication, authentication: str) -> dict[str, Any]:
    """One publication (a feed's, or alone as ``application/opds-publication+json``)."""
    metadata: dict[str, Any] = {
        "@type": SCHEMA_TYPES.get(publication.resource_type, "http://schema.org/CreativeWork"),
        "identifier": publication.id,
        "title": publication.title,
        "modified": _stamp(publication.updated),
    }
    if publication.subtitle:
        metadata["subtitle"] = publication.subtitle
    if publication.authors:
        metadata["author"] = [{"name": name} for name in publication.authors]
    if publication.languages:
        metadata["language"] = publication.languages
    if publication.publisher:
        metadata["publisher"] = {"name": publication.publisher}
    if publication.summary:
        metadata["description"] = publication.summary
    if publication.subjects:
        metadata["subject"] = [{"name": s} for s in publication.subjects]
    images = [link for link in publication.links if link.rel in (IMAGE, THUMBNAIL)]
    others = [link for link in publication.links if link.rel not in (IMAGE, THUMBNAIL)]
    document: dict[str, Any] = {
        "metadata": metadata,
        "links": [_link(link, authentication) for link in others],
    }
    if any(image.type in RASTER for image in images):
        document["images"] = [{"href": i.href, "type": i.type} for i in images]
    return document
