"""COinS: a record as an OpenURL 1.0 ContextObject in KEV form (Z39.88-2004), as a pure function.

Zotero and other reference managers read ``<span class="Z3988" title="…">`` from a page. Books,
e-textbooks and dissertations use the book format, articles and journal issues the journal
format, everything else Dublin Core.
"""

from __future__ import annotations

from urllib.parse import urlencode

from kitobxon.catalogue.data import RecordData

BOOK = "info:ofi/fmt:kev:mtx:book"
JOURNAL = "info:ofi/fmt:kev:mtx:journal"
DC = "info:ofi/fmt:kev:mtx:dc"
BOOK_TYPES = {"book", "textbook", "dissertation"}
JOURNAL_TYPES = {"article", "journal", "issue"}


def context_object(data: RecordData, *, record_id: str = "") -> str:
    """The KEV query string of ``data`` (the ``title`` of a COinS span)."""
    pairs: list[tuple[str, str]] = [("ctx_ver", "Z39.88-2004")]
    if record_id:
        pairs.append(("rft_id", record_id))
    authors = [c.name for c in data.contributors if c.role == "author"] or [
        c.name for c in data.contributors
    ]
    title = f"{data.title} : {data.subtitle}" if data.subtitle else data.title
    if data.resource_type in BOOK_TYPES:
        pairs += [("rft_val_fmt", BOOK), ("rft.genre", _book_genre(data)), ("rft.btitle", title)]
        pairs += [("rft.au", name) for name in authors]
        pairs += _optional(("rft.pub", data.publisher), ("rft.place", data.place))
        pairs += _optional(("rft.edition", data.edition), ("rft.series", data.series))
        pairs += [("rft.isbn", isbn) for isbn in data.isbns()]
    elif data.resource_type in JOURNAL_TYPES:
        genre = "article" if data.resource_type == "article" else "issue"
        field = "rft.atitle" if genre == "article" else "rft.jtitle"
        pairs += [("rft_val_fmt", JOURNAL), ("rft.genre", genre), (field, title)]
        pairs += [("rft.au", name) for name in authors]
        pairs += [("rft.issn", i.value) for i in data.identifiers if i.scheme == "issn"]
    else:
        pairs += [("rft_val_fmt", DC), ("rft.title", title), ("rft.type", data.resource_type)]
        pairs += [("rft.creator", name) for name in authors]
        pairs += _optional(("rft.publisher", data.publisher))
    if data.year:
        pairs.append(("rft.date", str(data.year)))
    pairs += [("rft.language", code) for code in data.languages]
    pairs += [("rft_id", f"info:doi/{i.value}") for i in data.identifiers if i.scheme == "doi"]
    return urlencode(pairs)


def _book_genre(data: RecordData) -> str:
    return "document" if data.resource_type == "dissertation" else "book"


def _optional(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return [(key, value) for key, value in pairs if value]
