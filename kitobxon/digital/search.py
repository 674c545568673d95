"""How the digital library appears in search: a record's files add its full text and "online".

Registered with ``catalogue.search.extend_documents`` from DigitalConfig.ready(), so a record's
one search document carries the pages of its PDFs and EPUBs (page-level snippets) and the
facets "online" (availability) and the files' access policies. Who may find text through a page
(``pages_visible_to``) is what every one of the record's text files allows — the strictest wins,
so a snippet never shows a page its reader may not open (DSpace once leaked exactly that).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

from kitobxon.digital import policy
from kitobxon.digital.models import Access, DigitalFile, PageText
from kitobxon.search.documents import STAFF, Page, SearchDocument

#: Full text kept per record in the index; the rest of a very long book is still in the reader.
MAX_PAGES = 2000
EMBARGOED = "embargoed"


def extend(documents: dict[int, SearchDocument]) -> None:
    files = list(
        DigitalFile.objects.filter(record_id__in=list(documents), caption_for__isnull=True)
        .order_by("record_id", "position", "id")
        .only("id", "record_id", "access", "segments", "embargo_until", "kind", "page_count")
    )
    if not files:
        return
    today = timezone.localdate()
    by_record: dict[int, list[DigitalFile]] = defaultdict(list)
    for file in files:
        by_record[file.record_id].append(file)
    pages: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for file_id, number, text in (
        PageText.objects.filter(file_id__in=[f.pk for f in files])
        .order_by("file_id", "number")
        .values_list("file_id", "number", "text")
    ):
        if text:
            pages[file_id].append((number, text))
    for record_id, record_files in by_record.items():
        _extend_one(documents[record_id], record_files, pages, today)


def _extend_one(
    document: SearchDocument,
    files: list[DigitalFile],
    pages: dict[int, list[tuple[int, str]]],
    today: Any,
) -> None:
    reachable = [
        f
        for f in files
        if f.access != Access.LIBRARIANS and not (f.embargo_until and today < f.embargo_until)
    ]
    if reachable:
        availability = document.filters.setdefault("availability", [])
        if "online" not in availability:
            availability.append("online")
    access = {EMBARGOED if f.embargo_until and today < f.embargo_until else f.access for f in files}
    document.filters["access"] = sorted(access)
    with_text = [f for f in files if pages.get(f.pk)]
    if with_text:
        allowed: set[str] | None = None
        for file in with_text:
            tokens = set(policy.search_principals(file, today))
            allowed = tokens if allowed is None else allowed & tokens
        document.pages = [
            Page(number, text) for file in with_text for number, text in pages[file.pk]
        ][:MAX_PAGES]
        document.pages_visible_to = sorted(allowed or {STAFF})
        document.display["has_fulltext"] = True
    document.display["online"] = bool(reachable)


def access_label(value: str) -> str:
    """The reader-facing name of an "access" facet value."""
    if value == EMBARGOED:
        return gettext("Embargoed")
    return str(dict(Access.choices).get(value, value))
