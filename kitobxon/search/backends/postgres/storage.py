"""What a document becomes in the index tables, and the writer that puts it there."""

# ruff: noqa: S608 — SQL here is assembled from this module's own fragments and table names;
# every value travels as a query parameter.
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kitobxon.search import analysis
from kitobxon.search.documents import (
    FIELD_BOOSTS,
    FULLTEXT,
    FUZZY_FIELDS,
    TEXT_FIELDS,
    VARIANT_BOOSTS,
    YEAR_RANGES,
    SearchDocument,
)

DOCUMENTS, DISPLAYS = "search_document", "search_display"
PAGES, WORDS = "search_page", "search_word"
FACET_VALUES = "search_facet_value"
TABLES = (DOCUMENTS, DISPLAYS, PAGES, WORDS)
#: pg_advisory_xact_lock key of the index writer: "kbx_srch".
WRITE_LOCK = 0x6B62785F73726368

FIELD_CODES = {"title": "t", "author": "a", "subject": "s", "other": "o", "abstract": "b"}
FIELD_CODES[FULLTEXT] = "f"
VARIANT_CODES = {"exact": "e", "uzkey": "k", "ru": "r", "en": "n"}
#: Fields whose matches are scored: their lexemes also form the `head` tsvector that stays in
#: the row. Full text only decides whether a record matches.
HEAD_FIELDS = TEXT_FIELDS
HEAD_STRIDE = 4000
#: Occurrences of a word that count in `head`; ts_rank's gain from the ninth on is tiny.
HEAD_POSITIONS = 8
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 255
MAX_TERM_BYTES = 500
#: Full text joins the document's tsvector without positions, up to this many lexeme bytes.
MAX_FULLTEXT_BYTES = 400_000


def _bucket(field_name: str, variant: str) -> str:
    """The weight label of a field and variant: title exact A … full text D."""
    boost = FIELD_BOOSTS[field_name] * VARIANT_BOOSTS[variant]
    return "A" if boost >= 10 else "B" if boost >= 4 else "C" if boost >= 1.5 else "D"


LABELS = {(f, v): _bucket(f, v) for f in FIELD_CODES for v in VARIANT_CODES}
#: On a page only the form counts: exact A, loose and Russian B, English C.
PAGE_LABELS = {"exact": "A", "uzkey": "B", "ru": "B", "en": "C"}


def tie_break(popularity: float) -> float:
    """Popularity as a gentle tie-break: at most +5 %, the factor the tantivy backend uses."""
    return 1 + 0.05 * min(1.0, math.log10(1 + max(popularity, 0.0)) / 4)


def _year_labels(year: int | None) -> list[str]:
    """The YEAR_RANGES label of a year, as a facet value: none without a year."""
    if year is None:
        return []
    return [
        label
        for label, lo, hi in YEAR_RANGES
        if (lo is None or year >= lo) and (hi is None or year <= hi)
    ][:1]


def field_lexeme(field_name: str, variant: str, term: str) -> str:
    return f"{FIELD_CODES[field_name]}{VARIANT_CODES[variant]}:{term}"


def head_lexeme(field_name: str, term: str) -> str:
    return f"{FIELD_CODES[field_name]}:{term}"


def keyword_lexeme(field_name: str, value: str) -> str:
    return f"={field_name}:{value}"


def quote(lexeme: str) -> str:
    """A lexeme as a quoted tsvector/tsquery literal; PostgreSQL's parser never splits it."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


# --- documents → rows -------------------------------------------------------------------------


class _Vector:
    """A tsvector literal under construction: lexeme → positions with their weight labels."""

    def __init__(self) -> None:
        self.entries: dict[str, list[str]] = {}
        self.bare: dict[str, None] = {}

    def add(
        self, lexeme: str, position: int, label: str, most: int = MAX_POSITIONS_PER_LEXEME
    ) -> None:
        if len(lexeme.encode()) > MAX_TERM_BYTES:
            return
        positions = self.entries.setdefault(lexeme, [])
        if len(positions) < most and position <= MAX_POSITION:
            positions.append(f"{position}{label}")

    def add_bare(self, lexeme: str) -> None:
        if len(lexeme.encode()) <= MAX_TERM_BYTES:
            self.bare.setdefault(lexeme)

    def add_analysed(
        self, field_name: str, analysed: analysis.Analysed, labels: dict[str, str] | None = None
    ) -> None:
        for variant in VARIANT_CODES:
            label = labels[variant] if labels else LABELS[field_name, variant]
            for position, term in enumerate(getattr(analysed, variant), 1):
                self.add(field_lexeme(field_name, variant, term), position, label)

    def add_head(self, field_name: str, analysed: analysis.Analysed) -> None:
        """The scoring copy of a field: one lexeme per word, its forms told apart by position.

        Exact words keep their positions (for the phrase bonus); loose, Russian and English
        forms sit HEAD_STRIDE further each, labelled with their own weight bucket.
        """
        for index, variant in enumerate(VARIANT_CODES):
            label = LABELS[field_name, variant]
            for position, term in enumerate(getattr(analysed, variant)[: HEAD_STRIDE - 1], 1):
                position += index * HEAD_STRIDE
                self.add(head_lexeme(field_name, term), position, label, HEAD_POSITIONS)

    def literal(self) -> str:
        parts = [f"{quote(lexeme)}:{','.join(p)}" for lexeme, p in self.entries.items() if p]
        parts += [quote(lexeme) for lexeme in self.bare if lexeme not in self.entries]
        return " ".join(parts)


@dataclass(slots=True)
class _Row:
    document: SearchDocument
    terms: str
    head: str
    facets: list[tuple[str, str]]
    title_len: int
    words: set[str]
    pages: list[tuple[int, str, str]]


def _row(document: SearchDocument) -> _Row:
    vector, head = _Vector(), _Vector()
    words: set[str] = set()
    title_len = 0
    for name in TEXT_FIELDS:
        text = document.text.get(name)
        if not text:
            continue
        analysed = analysis.analyse(text, document.language)
        vector.add_analysed(name, analysed)
        if name in HEAD_FIELDS:
            head.add_head(name, analysed)
        if name in FUZZY_FIELDS:
            words.update(analysed.uzkey)
        if name == "title":
            title_len = len(analysed.exact)
    pages = []
    fulltext_bytes = 0
    for page in document.pages:
        analysed = analysis.analyse(page.text, document.language)
        page_vector = _Vector()
        page_vector.add_analysed(FULLTEXT, analysed, PAGE_LABELS)
        pages.append((page.number, page_vector.literal(), page.text))
        for variant in VARIANT_CODES:
            for term in getattr(analysed, variant):
                lexeme = field_lexeme(FULLTEXT, variant, term)
                if lexeme not in vector.bare and fulltext_bytes < MAX_FULLTEXT_BYTES:
                    vector.add_bare(lexeme)
                    fulltext_bytes += len(lexeme.encode()) + 6
    vector.add_bare(keyword_lexeme("kind", document.kind))
    for name, values in (
        ("visible_to", document.visible_to),
        ("pages_visible_to", document.pages_visible_to),
        ("ids", document.identifiers),
    ):
        for value in values:
            vector.add_bare(keyword_lexeme(name, value))
    facets = [(name, v) for name, values in document.filters.items() for v in values]
    facets += [("year", label) for label in _year_labels(document.year)]
    return _Row(
        document,
        vector.literal(),
        head.literal(),
        list(dict.fromkeys(facets)),
        title_len,
        words,
        pages,
    )


def index_like(cursor: Any, table: str) -> None:
    """Give `<table>_new` the indexes of the live `table` (the migrations' definitions)."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    for name, definition in cursor.fetchall():
        statement = re.sub(
            rf"INDEX {re.escape(name)} ON (\S+\.)?{re.escape(table)} ",
            f"INDEX {name}_new ON {table}_new ",
            definition,
            count=1,
        )
        cursor.execute(statement)


def swap(cursor: Any, table: str) -> None:
    """Put `<table>_new` in the live table's place, its indexes under the live names."""
    cursor.execute(f"DROP TABLE {table}")
    cursor.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    cursor.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
        [table],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f"ALTER INDEX {name} RENAME TO {name.removesuffix('_new')}")
    cursor.execute(f"ANALYZE {table}")


class Writer:
    """Upserts and deletes inside the writer's transaction (COPY for speed)."""

    def __init__(self, cursor: Any, suffix: str = "") -> None:
        self.cursor = cursor
        self.suffix = suffix
        #: Facet value → code, as read or made inside this writer's transaction.
        self.codes: dict[tuple[str, str], int] = {}

    def _code(self, rows: Sequence[_Row]) -> None:
        """Learn the codes of the rows' facet values, giving new values the next codes."""
        missing = sorted({f for row in rows for f in row.facets if f not in self.codes})
        if not missing:
            return
        names, values = [n for n, _ in missing], [v for _, v in missing]
        self.cursor.execute(
            f"INSERT INTO {FACET_VALUES} (name, value) SELECT * FROM unnest(%s::text[], %s::text[])"
            " ON CONFLICT DO NOTHING",
            [names, values],
        )
        self.cursor.execute(
            f"SELECT v.name, v.value, v.code FROM {FACET_VALUES} v"
            " JOIN unnest(%s::text[], %s::text[]) w (name, value)"
            " ON v.name = w.name AND v.value = w.value",
            [names, values],
        )
        self.codes.update(((name, value), code) for name, value, code in self.cursor.fetchall())

    def upsert(self, documents: Sequence[SearchDocument]) -> None:
        latest = {d.key: d for d in documents}
        self.delete(list(latest))
        self.add(list(latest.values()))

    def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        for table in (DOCUMENTS, DISPLAYS, PAGES):
            self.cursor.execute(
                f"DELETE FROM {table}{self.suffix} WHERE key = ANY(%s)",
                [list(keys)],
            )

    def add(self, documents: Sequence[SearchDocument]) -> None:
        rows = [_row(d) for d in documents]
        if not rows:
            return
        self._code(rows)
        raw = self.cursor.cursor
        columns = (
            "key, kind, terms, head, codes, year, popularity, boost, title_len, sort_title, version"
        )
        with raw.copy(f"COPY {DOCUMENTS}{self.suffix} ({columns}) FROM STDIN") as copy:
            for row in rows:
                doc = row.document
                copy.write_row(
                    (
                        doc.key,
                        doc.kind,
                        row.terms,
                        row.head,
                        [self.codes[f] for f in row.facets],
                        doc.year,
                        float(doc.popularity),
                        tie_break(doc.popularity),
                        min(row.title_len, 32_000),
                        doc.sort_title or analysis.uzbek_sort_key(doc.text.get("title", "")),
                        doc.version,
                    )
                )
        with raw.copy(f"COPY {DISPLAYS}{self.suffix} (key, display) FROM STDIN") as copy:
            for row in rows:
                display = json.dumps(row.document.display, ensure_ascii=False, default=str)
                copy.write_row((row.document.key, display))
        pages = [(row.document, page) for row in rows for page in row.pages]
        if pages:
            with raw.copy(
                f"COPY {PAGES}{self.suffix} (key, number, visible, terms, text) FROM STDIN"
            ) as copy:
                for doc, (number, terms, text) in pages:
                    copy.write_row((doc.key, number, list(doc.pages_visible_to), terms, text))
        words = sorted({w for row in rows for w in row.words if len(w) <= 255})
        if words:
            self.cursor.execute(
                f"INSERT INTO {WORDS}{self.suffix} (word) SELECT unnest(%s::text[])"
                " ON CONFLICT DO NOTHING",
                [words],
            )
