"""schema.org JSON-LD for a record page, so that search engines and Zotero understand it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kitobxon.catalogue.models import Record, ResourceType

SCHEMA_TYPES = {
    ResourceType.BOOK: "Book",
    ResourceType.TEXTBOOK: "Book",
    ResourceType.ARTICLE: "ScholarlyArticle",
    ResourceType.JOURNAL: "Periodical",
    ResourceType.ISSUE: "PublicationIssue",
    ResourceType.DISSERTATION: "Thesis",
    ResourceType.AUDIO: "AudioObject",
    ResourceType.VIDEO: "VideoObject",
    ResourceType.MAP: "Map",
    ResourceType.MODEL_3D: "3DModel",
    ResourceType.DATASET: "Dataset",
}
ROLE_PROPERTIES = {
    "author": "author",
    "editor": "editor",
    "translator": "translator",
    "illustrator": "illustrator",
}


def json_ld(record: Record, request: HttpRequest) -> dict[str, Any]:
    """The record as schema.org. Expects the record's details prefetched."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(ResourceType(record.resource_type), "CreativeWork"),
        "@id": request.build_absolute_uri(record.get_absolute_url()),
        "name": record.full_title,
        "url": request.build_absolute_uri(record.get_absolute_url()),
    }
    for contribution in record.contributions.all():
        prop = ROLE_PROPERTIES.get(contribution.role, "contributor")
        kind = "Organization" if contribution.agent.kind == "organisation" else "Person"
        data.setdefault(prop, []).append({"@type": kind, "name": contribution.agent.name})
    if record.year:
        data["datePublished"] = str(record.year)
    if record.publisher:
        data["publisher"] = {"@type": "Organization", "name": record.publisher}
    if record.languages:
        data["inLanguage"] = record.languages
    if record.abstract:
        data["description"] = record.abstract
    isbns = [i.normalized for i in record.identifiers.all() if i.scheme == "isbn" and i.is_valid]
    if isbns and data["@type"] == "Book":
        data["isbn"] = isbns
    subjects = [s.label for s in record.subjects.all()]
    if subjects:
        data["about"] = subjects
    if record.edition:
        data["bookEdition"] = record.edition
    if record.extent:
        data["numberOfPages" if record.extent[:1].isdigit() else "size"] = record.extent
    return data
