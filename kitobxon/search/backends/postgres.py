"""The PostgreSQL backend: the index lives in the database, beside the data it describes.

Storage (tables created by migration 0002, owned by the search app):

- ``search_document``: one row per `SearchDocument`. ``terms`` is a tsvector built from the
  analysed terms of analysis.py (PostgreSQL's parser never sees the text, so ʻ and ʼ survive).
  Each lexeme is ``<field><variant>:<term>``, e.g. ``te:oʻzbek`` is an exact title word and
  ``ak:qodiriy`` an author's loose key; keyword values are ``=<field>:<value>`` (``=ids:978…``,
  ``=visible_to:staff``). A whole query tree compiles to one tsquery over ``terms``, answered
  by its GIN index without reading ``terms`` back. ``head`` is the small scoring copy of title,
  author, subject and other: one lexeme per word (``t:oʻzbek``), each form at its own position
  with the weight label of its field and form (title exact A … D), so one ts_rank call scores a
  query the way tantivy's boosts do. ``codes`` is an integer[] of the document's facet values,
  its year range among them (GIN); year, popularity and the sort keys are plain columns.
- ``search_facet_value``: the code of each facet value (``lang``, ``uzb``). Codes are never
  reused or removed, so a rebuild keeps them; a search counts codes in one pass over its matches
  and names only the counted ones.
- ``search_display``: what a hit shows, read for one page of hits only.
- ``search_page``: one row per page of full text, for page hits and snippets.
- ``search_word``: every loose key of titles, authors and subjects, with a trigram index; a typo
  is expanded to the words within its edit distance, which join the query at a low boost.

Writes take a transaction-level advisory lock, so the outbox drain and a rebuild never
interleave; a rebuild fills new tables and swaps them in at commit, so searches see the old
index until then and a crash half-way leaves it untouched.
"""

# ruff: noqa: S608 — SQL here is assembled from this module's own fragments and table names;
# every value travels as a query parameter.
from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection, transaction

from kitobxon.search import analysis
from kitobxon.search.backends.base import Hit, PageHit, Progress, Results, SearchQuery
from kitobxon.search.documents import (
    FACETS,
    FIELD_BOOSTS,
    FULLTEXT,
    FUZZY_FIELDS,
    TEXT_FIELDS,
    VARIANT_BOOSTS,
    YEAR_RANGES,
    SearchDocument,
)
from kitobxon.search.plan import (
    Bool,
    Everything,
    Keyword,
    Node,
    Phrase,
    Prefix,
    Words,
    YearRange,
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
#: At most this many ts_rank calls per row: query words of similar rarity share one.
MAX_RANK_CALLS = 4
#: A fuzzy expansion counts an eighth of a loose match, as tantivy's 0.25 against 2.
FUZZY_SHARE = 0.125
#: ts_rank weights of the labels {D, C, B, A}.
RANK_WEIGHTS = [0.1, 0.25, 0.5, 1.0]
#: ts_rank's OR formula divides by the number of query items and by π²/6; undone here.
RANK_SCALE = math.pi**2 / 6
#: A phrase found in a field adds this much per word, times its boost and the field's share.
PHRASE_UNIT = 0.25 / RANK_SCALE
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 255
MAX_TERM_BYTES = 500
#: Full text joins the document's tsvector without positions, up to this many lexeme bytes.
MAX_FULLTEXT_BYTES = 400_000
#: Combinations of "at least k of n" spelled out in the tsquery before falling back to SQL.
MAX_COMBINATIONS = 64


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


def _lexeme(field_name: str, variant: str, term: str) -> str:
    return f"{FIELD_CODES[field_name]}{VARIANT_CODES[variant]}:{term}"


def _head(field_name: str, term: str) -> str:
    return f"{FIELD_CODES[field_name]}:{term}"


def _keyword(field_name: str, value: str) -> str:
    return f"={field_name}:{value}"


def _quote(lexeme: str) -> str:
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
                self.add(_lexeme(field_name, variant, term), position, label)

    def add_head(self, field_name: str, analysed: analysis.Analysed) -> None:
        """The scoring copy of a field: one lexeme per word, its forms told apart by position.

        Exact words keep their positions (for the phrase bonus); loose, Russian and English
        forms sit HEAD_STRIDE further each, labelled with their own weight bucket.
        """
        for index, variant in enumerate(VARIANT_CODES):
            label = LABELS[field_name, variant]
            for position, term in enumerate(getattr(analysed, variant)[: HEAD_STRIDE - 1], 1):
                position += index * HEAD_STRIDE
                self.add(_head(field_name, term), position, label, HEAD_POSITIONS)

    def literal(self) -> str:
        parts = [f"{_quote(lexeme)}:{','.join(p)}" for lexeme, p in self.entries.items() if p]
        parts += [_quote(lexeme) for lexeme in self.bare if lexeme not in self.entries]
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
                lexeme = _lexeme(FULLTEXT, variant, term)
                if lexeme not in vector.bare and fulltext_bytes < MAX_FULLTEXT_BYTES:
                    vector.add_bare(lexeme)
                    fulltext_bytes += len(lexeme.encode()) + 6
    vector.add_bare(_keyword("kind", document.kind))
    for name, values in (
        ("visible_to", document.visible_to),
        ("pages_visible_to", document.pages_visible_to),
        ("ids", document.identifiers),
    ):
        for value in values:
            vector.add_bare(_keyword(name, value))
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


# --- compiled conditions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cond:
    """A compiled condition on a document row: everything, nothing, a tsquery or SQL."""

    kind: str  # "all" | "none" | "tsq" | "sql"
    text: str = ""
    params: tuple[Any, ...] = ()

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        if self.kind == "all":
            return "TRUE", ()
        if self.kind == "none":
            return "FALSE", ()
        if self.kind == "tsq":
            return "d.terms @@ %s::tsquery", (self.text,)
        return self.text, self.params


ALL, NONE = _Cond("all"), _Cond("none")


def _tsq(text: str) -> _Cond:
    return _Cond("tsq", text) if text else NONE


def _and(*conds: _Cond) -> _Cond:
    if any(c.kind == "none" for c in conds):
        return NONE
    conds = tuple(c for c in conds if c.kind != "all")
    if not conds:
        return ALL
    if len(conds) == 1:
        return conds[0]
    queries = [c.text for c in conds if c.kind == "tsq"]
    others = [c for c in conds if c.kind == "sql"]
    if not others:
        return _tsq(" & ".join(f"({q})" for q in queries))
    parts = [_tsq(" & ".join(f"({q})" for q in queries))] if queries else []
    return _sql_join(" AND ", [*parts, *others])


def _or(*conds: _Cond) -> _Cond:
    if any(c.kind == "all" for c in conds):
        return ALL
    conds = tuple(c for c in conds if c.kind != "none")
    if not conds:
        return NONE
    if len(conds) == 1:
        return conds[0]
    if all(c.kind == "tsq" for c in conds):
        return _tsq(" | ".join(f"({c.text})" for c in conds))
    return _sql_join(" OR ", list(conds))


def _not(cond: _Cond) -> _Cond:
    if cond.kind == "all":
        return NONE
    if cond.kind == "none":
        return ALL
    if cond.kind == "tsq":
        return _tsq(f"!({cond.text})")
    return _Cond("sql", f"NOT ({cond.text})", cond.params)


def _sql_join(operator: str, conds: list[_Cond]) -> _Cond:
    texts: list[str] = []
    params: list[Any] = []
    for cond in conds:
        text, cond_params = cond.sql()
        texts.append(f"({text})")
        params.extend(cond_params)
    return _Cond("sql", operator.join(texts), tuple(params))


def _at_least(conds: list[_Cond], k: int) -> _Cond:
    """At least k of the conditions hold (a boolean query's minimum-should-match)."""
    if k <= 1:
        return _or(*conds)
    if k > len(conds):
        return NONE
    if k == len(conds):
        return _and(*conds)
    if math.comb(len(conds), k) <= MAX_COMBINATIONS:
        return _or(*(_and(*group) for group in itertools.combinations(conds, k)))
    counted = _sql_join(" + ", [_Cond("sql", f"({c.sql()[0]})::int", c.sql()[1]) for c in conds])
    return _and(_or(*conds), _Cond("sql", f"({counted.text}) >= {int(k)}", counted.params))


# --- the compiler -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Score:
    """What a match is worth: per query word its `head` items for ts_rank and its rarity (idf),
    typo expansions at a low share, and phrases with a bonus."""

    words: list[tuple[dict[str, None], float]] = field(default_factory=list)
    fuzzy: dict[str, None] = field(default_factory=dict)
    phrases: list[tuple[str, float]] = field(default_factory=list)
    #: Boosted sub-queries: (their own score, their condition on `head`, the boost).
    boosted: list[tuple[_Score, str, float]] = field(default_factory=list)


class _Compiler:
    """The plan.py tree → conditions on `search_document` rows, and the score of a match."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.score = _Score()
        self._expansions: dict[tuple[str, int], tuple[str, ...]] = {}
        self._frequencies: tuple[dict[str, float], float] | None = None
        #: "At least k of these" conditions compiled so far, with their members' keys.
        self._groups: dict[tuple[str, str, str], frozenset[tuple[str, str, str]]] = {}

    def compile(self, node: Node, *, scored: bool = False) -> _Cond:
        if isinstance(node, Everything):
            return ALL
        if isinstance(node, Keyword):
            return self._keyword(node)
        if isinstance(node, YearRange):
            return _year(node)
        if isinstance(node, Words):
            return self._words(node, scored)
        if isinstance(node, Phrase):
            return self._phrase(node, scored)
        if isinstance(node, Prefix):
            return self._prefix(node, scored)
        if isinstance(node, Bool):
            return self._bool(node, scored)
        raise TypeError(node)

    def _bool(self, node: Bool, scored: bool) -> _Cond:
        if scored and node.boost != 1.0:
            return self._boosted(node)
        must = [self.compile(n, scored=scored) for n in node.must]
        should = [self.compile(n, scored=scored) for n in node.should]
        must_not = [self.compile(n) for n in node.must_not]
        parts = list(must)
        if should:
            needed = node.min_should or (0 if must else 1)
            if needed == 1:
                should = self._absorbed(should)
            if needed:
                parts.append(_at_least(should, needed))
                if not must and not must_not:
                    self._groups[_key(parts[-1])] = frozenset(_key(c) for c in should)
        if must_not:
            parts.append(_not(_or(*must_not)))
        if not parts:
            return ALL if must_not else NONE
        return _and(*parts)

    def _absorbed(self, should: list[_Cond]) -> list[_Cond]:
        """The alternatives of an OR without those that imply another alternative.

        "All the words but one" (plan.py's strict group) ranks records, but next to each word
        as its own alternative it finds nothing more, and spelled out as combinations it made
        the tsquery the GIN index tests for each candidate many times longer.
        """
        keys = [_key(c) for c in should]
        kept = []
        for cond, key in zip(should, keys, strict=True):
            members = self._groups.get(key)
            if members is None or not members <= {k for k in keys if k != key}:
                kept.append(cond)
        return kept or should

    def _boosted(self, node: Bool) -> _Cond:
        """A boosted clause scores `boost` times its children's score where it matches, as a
        boosted boolean query does in tantivy; whether it matches is read from `head`."""
        outer, self.score = self.score, _Score()
        try:
            cond = self._bool(replace(node, boost=1.0), scored=True)
        finally:
            inner, self.score = self.score, outer
        on_head = _on_head(node)
        if on_head.kind == "tsq":
            self.score.boosted.append((inner, on_head.text, node.boost))
        return cond

    def _keyword(self, node: Keyword) -> _Cond:
        if not node.values:
            return NONE
        if node.field == "entry":
            return ALL if "doc" in node.values else NONE
        if node.field == "parent":
            return NONE
        if node.field == "key":
            return _Cond("sql", "d.key = ANY(%s)", (list(node.values),))
        if node.field in FACETS:
            return _Cond(
                "sql",
                "d.codes && ARRAY(SELECT code FROM search_facet_value"
                " WHERE name = %s AND value = ANY(%s))",
                (node.field, list(node.values)),
            )
        return _tsq(" | ".join(_quote(_keyword(node.field, v)) for v in node.values))

    def _words(self, node: Words, scored: bool) -> _Cond:
        token = node.token
        lexemes: dict[str, None] = {}
        fuzzy: dict[str, None] = {}
        for name in node.fields:
            for variant, term in _forms(token):
                lexemes.setdefault(_quote(_lexeme(name, variant, term)))
            if node.fuzzy and name in FUZZY_FIELDS:
                for key in dict.fromkeys((*token.uzkeys[:1], token.fuzzy_key)):
                    distance = 2 if len(key) >= 8 else 1 if len(key) >= 4 else 0
                    for word in self._expand(key, distance) if distance else ():
                        fuzzy.setdefault(_quote(_lexeme(name, "uzkey", word)))
                        if scored:
                            self.score.fuzzy.setdefault(_quote(_head(name, word)))
        if scored:
            items = {
                _quote(_head(name, term)): None
                for name in node.fields
                if name in HEAD_FIELDS
                for _, term in _forms(token)
            }
            if items:
                self.score.words.append((items, self._idf(items)))
        return _tsq(" | ".join((*lexemes, *(f for f in fuzzy if f not in lexemes))))

    def _idf(self, items: Iterable[str]) -> float:
        """How rare a word is (BM25's idf), from the share of records holding its commonest form.

        The shares come from PostgreSQL's own statistics of `head` (ANALYZE keeps its most
        common lexemes, one per word and field); a form missing from them is rarer than all of
        those. Without statistics every word weighs the same.
        """
        if self._frequencies is None:
            self.cursor.execute(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
                " WHERE schemaname = current_schema() AND tablename = %s AND attname = 'head'",
                [DOCUMENTS],
            )
            row = self.cursor.fetchone()
            if row and row[0]:
                elements, shares = row
                self._frequencies = (dict(zip(elements, shares, strict=False)), shares[-3] / 2)
            else:
                self._frequencies = ({}, 0.0)
        shares, rare = self._frequencies
        if not shares:
            return 1.0
        share = max((shares.get(item[1:-1], rare) for item in items), default=rare)
        return math.log(1 + (1 - share + 1e-4) / (share + 1e-4))

    def _phrase(self, node: Phrase, scored: bool) -> _Cond:
        forms = {tuple(t.exact[0] for t in node.tokens), tuple(t.exact[-1] for t in node.tokens)}
        conds = []
        for name in node.fields:
            query = " | ".join(
                " <-> ".join(_quote(_lexeme(name, "exact", w)) for w in words) for words in forms
            )
            if name == FULLTEXT:
                conds.append(_fulltext_phrase(query, forms))
                continue
            conds.append(_tsq(query))
            if scored and name in HEAD_FIELDS:
                share = FIELD_BOOSTS[name] / FIELD_BOOSTS["title"]
                rarity = sum(self._idf([_quote(_head(name, t.exact[0]))]) for t in node.tokens)
                bonus = PHRASE_UNIT * node.boost * share * rarity
                on_head = " | ".join(
                    " <-> ".join(_quote(_head(name, w)) for w in words) for words in forms
                )
                self.score.phrases.append((on_head, bonus))
        return _or(*conds)

    def _prefix(self, node: Prefix, scored: bool) -> _Cond:
        words = [t.exact[0] for t in node.tokens]
        queries = []
        for name in node.fields:
            lexemes = [_quote(_lexeme(name, "exact", w)) for w in words]
            lexemes[-1] += ":*"
            queries.append(" <-> ".join(lexemes))
            if scored:
                self.score.words.append(({_quote(_head(name, words[-1])) + ":*": None}, 1.0))
        return _tsq(" | ".join(f"({q})" for q in queries))

    def _expand(self, key: str, distance: int) -> tuple[str, ...]:
        """Index words within `distance` edits of `key` (a transposition is one edit)."""
        if (key, distance) not in self._expansions:
            self.cursor.execute(
                "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
                [str(_trigram_threshold(key, distance))],
            )
            self.cursor.execute(
                "SELECT word FROM search_word WHERE word %% %s"
                " AND levenshtein_less_equal(word, %s, %s) <= %s",
                [key, key, 2 * distance, 2 * distance],
            )
            found = sorted(w for (w,) in self.cursor.fetchall() if _osa(key, w) <= distance)
            self._expansions[key, distance] = tuple(found)
        return self._expansions[key, distance]


def _key(cond: _Cond) -> tuple[str, str, str]:
    """A condition as a hashable key (its parameters may hold lists)."""
    return cond.kind, cond.text, repr(cond.params)


def _on_head(node: Node) -> _Cond:
    """Roughly the same condition on `head` (text fields only, no full text or keywords)."""
    if isinstance(node, Words):
        items = {
            _quote(_head(f, t))
            for f in node.fields
            if f in HEAD_FIELDS
            for _, t in _forms(node.token)
        }
        return _tsq(" | ".join(sorted(items)))
    if isinstance(node, Phrase):
        forms = {tuple(t.exact[0] for t in node.tokens), tuple(t.exact[-1] for t in node.tokens)}
        return _tsq(
            " | ".join(
                " <-> ".join(_quote(_head(f, w)) for w in words)
                for f in node.fields
                if f in HEAD_FIELDS
                for words in forms
            )
        )
    if isinstance(node, Bool):
        parts = [_on_head(n) for n in node.must]
        should = [_on_head(n) for n in node.should]
        needed = node.min_should or (0 if node.must else 1)
        if should and needed:
            parts.append(_at_least(should, needed))
        return _and(*parts) if parts else ALL
    return ALL


def _forms(token: analysis.QueryToken) -> list[tuple[str, str]]:
    """(variant, term) pairs under which the index may hold a query word."""
    forms = [
        *(("exact", t) for t in token.exact),
        *(("uzkey", k) for k in token.uzkeys),
        *((("ru", token.ru),) if token.ru else ()),
        *((("en", token.en),) if token.en else ()),
    ]
    return list(dict.fromkeys(forms))


def _year(node: YearRange) -> _Cond:
    if node.lo is None and node.hi is None:
        return _Cond("sql", "d.year IS NOT NULL")
    parts, params = ["d.year IS NOT NULL"], []
    if node.lo is not None:
        parts.append("d.year >= %s")
        params.append(node.lo)
    if node.hi is not None:
        parts.append("d.year <= %s")
        params.append(node.hi)
    return _Cond("sql", " AND ".join(parts), tuple(params))


def _fulltext_phrase(query: str, forms: set[tuple[str, ...]]) -> _Cond:
    """A phrase in the full text: the document holds the words, and one page the phrase."""
    words = " | ".join(
        " & ".join(_quote(_lexeme(FULLTEXT, "exact", w)) for w in ws) for ws in forms
    )
    exists = _Cond(
        "sql",
        "EXISTS (SELECT 1 FROM search_page p WHERE p.key = d.key AND p.terms @@ %s::tsquery)",
        (query,),
    )
    return _and(_tsq(words), exists)


def _trigram_threshold(key: str, distance: int) -> float:
    """A similarity below that of any word within `distance` edits of `key`.

    Each edit changes at most four of the key's len+1 trigrams (a transposition four, any other
    edit three), so a neighbour keeps at least len+1-4d of them.
    """
    own = len(key) + 1
    kept = max(own - 4 * distance, 1)
    return round(max(0.02, kept / (2 * own + distance) - 0.01), 3)


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance: Levenshtein with adjacent transpositions."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


# --- the backend ------------------------------------------------------------------------------

ORDERS = {
    "relevance": "score DESC, popularity DESC, key",
    "newest": "year DESC NULLS LAST, key",
    "oldest": "year ASC NULLS LAST, key",
    "title": "sort_title, key",
    "popularity": "popularity DESC, key",
}


class PostgresBackend:
    name = "postgres"
    outdated = False  # its tables follow the migrations

    # --- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[_Writer]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            yield _Writer(cursor)

    def rebuild(self, batches: Iterable[Sequence[SearchDocument]], progress: Progress) -> None:
        """New tables filled beside the live ones and swapped in at commit, under the lock.

        Holding the writer's lock throughout makes a concurrent drain wait and then apply its
        (newer) documents to the new tables; a crash rolls everything back.
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}_new")
                cursor.execute(
                    f"CREATE TABLE {table}_new (LIKE {table} INCLUDING ALL EXCLUDING INDEXES)"
                )
                cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
                options = cursor.fetchone()[0]
                if options:
                    cursor.execute(f"ALTER TABLE {table}_new SET ({', '.join(options)})")
            _index_like(cursor, WORDS)  # its unique index de-duplicates words across batches
            writer = _Writer(cursor, suffix="_new")
            seen: set[str] = set()
            for batch in batches:
                keys = [d.key for d in batch]
                repeated = [k for k in keys if k in seen]
                if repeated:
                    writer.delete(repeated)
                seen.update(keys)
                writer.add(batch)
                progress(len(batch))
            for table in (DOCUMENTS, DISPLAYS, PAGES):
                _index_like(cursor, table)  # bulk-built after the load: much faster
            for table in TABLES:
                _swap(cursor, table)

    # --- reading -----------------------------------------------------------------------

    def search(self, query: SearchQuery) -> Results:
        with transaction.atomic(), connection.cursor() as cursor:
            # A sequential scan would test every record's terms (toasted when long), which the
            # GIN index answers without reading them; JIT costs more than it saves here; the
            # matches of a broad query are kept in memory.
            cursor.execute(
                "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true),"
                " set_config('work_mem', '64MB', true)"
            )
            compiler = _Compiler(cursor)
            text = compiler.compile(query.text, scored=query.sort == "relevance")
            guard = _and(*(compiler.compile(n) for n in query.guard))
            filters = {name: compiler.compile(n) for name, n in query.filters.items()}
            sql, params = _search_sql(query, _and(text, guard), filters, compiler.score)
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        total = 0
        hits: list[tuple[int, Hit]] = []
        counts: dict[str, list[tuple[str, int]]] = {name: [] for name in query.facets}
        for part, name, value, n, score, display in rows:
            if part == "hit":
                loaded = display if isinstance(display, dict) else json.loads(display or "{}")
                hits.append((n, Hit(name, float(score or 0.0), loaded)))
            elif part == "total":
                total = int(n)
            else:
                counts.setdefault(name, []).append((value, int(n)))
        for name, buckets in counts.items():
            if name == "year":
                order = {label: i for i, (label, _, _) in enumerate(YEAR_RANGES)}
                buckets.sort(key=lambda b: order[b[0]])
            else:
                buckets.sort(key=lambda b: (-b[1], b[0]))
        hits.sort(key=lambda h: h[0])
        facets = {name: counts.get(name, []) for name in query.facets}
        return Results(total, [hit for _, hit in hits], facets)

    def pages(
        self, key: str, tokens: Sequence[analysis.QueryToken], principals: Sequence[str], limit: int
    ) -> list[PageHit]:
        if not tokens or not principals:
            return []
        lexemes = dict.fromkeys(
            _quote(_lexeme(FULLTEXT, variant, term))
            for token in tokens
            for variant, term in _forms(token)
        )
        query = " | ".join(lexemes)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT number, text FROM search_page"
                " WHERE key = %s AND visible && %s::text[] AND terms @@ %s::tsquery"
                " ORDER BY ts_rank(%s::float4[], terms, %s::tsquery, 1) DESC, number LIMIT %s",
                [key, list(principals), query, RANK_WEIGHTS, query, limit],
            )
            return [PageHit(number, text) for number, text in cursor.fetchall()]

    def versions(self) -> Iterator[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, version FROM search_document")
            while rows := cursor.fetchmany(5000):
                yield from rows

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_document")
            return int(cursor.fetchone()[0])

    def stats(self) -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(%s::text[]) t",
                [list(TABLES)],
            )
            size = int(cursor.fetchone()[0] or 0)
        return {"backend": self.name, "documents": self.count(), "bytes": size}


def _search_sql(
    query: SearchQuery, main: _Cond, filters: dict[str, _Cond], score: _Score
) -> tuple[str, list[Any]]:
    """One statement: the matches once, then the page of hits, the total and the facet counts.

    Facets are multi-select: each is counted under every filter but its own, so the matches
    kept are those failing at most one filter, and `miss` names the filter a row fails (-1:
    none). A row failing none counts all its facet values; a row failing only filter i counts
    only the values of facet i. All facets, the year ranges too, are counted in one pass over
    the matches' codes; only the counted codes are then looked up by name.
    """
    params: list[Any] = []

    def put(cond: _Cond) -> str:
        text, cond_params = cond.sql()
        params.extend(cond_params)
        return text

    names = list(filters)
    score_sql = _score_sql(score, params) if query.sort == "relevance" else "0.0"
    flags = "".join(f", COALESCE(({put(filters[n])}), FALSE) AS f{i}" for i, n in enumerate(names))
    where = put(main)
    failing = " + ".join(f"(NOT f{i})::int" for i in range(len(names)))
    at_most_one = f"({failing}) <= 1" if len(names) > 1 else "TRUE"
    passing = " AND ".join(f"f{i}" for i in range(len(names))) or "TRUE"
    miss = (
        f"CASE WHEN {passing} THEN -1 "
        + " ".join(f"WHEN NOT f{i} THEN {i}" for i in range(len(names)))
        + " END"
        if names
        else "-1"
    )

    order = ORDERS[query.sort]
    year = "d.year" if query.sort in ("newest", "oldest") else "NULL::int"
    sort_title = "d.sort_title" if query.sort == "title" else "NULL::text"
    codes = "d.codes" if query.facets else "NULL::int[]"
    sql = [
        "WITH m AS MATERIALIZED (SELECT key, codes, year, popularity, sort_title, score,",
        f" {miss} AS miss FROM (",
        f" SELECT d.key, {codes} AS codes, {year} AS year, d.popularity,",
        f" {sort_title} AS sort_title, {score_sql} AS score{flags} FROM search_document d",
        f" WHERE {where}) s WHERE {at_most_one}),",
        " hits AS (SELECT key, score, year, popularity, sort_title FROM m",
        f" WHERE miss = -1 ORDER BY {order} LIMIT %s OFFSET %s)",
        " SELECT 'hit', x.key, NULL, x.n, x.score, d.display FROM",
        f" (SELECT hits.*, row_number() OVER (ORDER BY {order}) AS n FROM hits) x",
        " JOIN search_display d ON d.key = x.key",
        " UNION ALL SELECT 'total', NULL, NULL, count(*), NULL, NULL FROM m WHERE miss = -1",
    ]
    params += [max(query.limit, 0), max(query.offset, 0)]
    if query.facets:
        # A row failing filter i (miss = i) counts only where the value's facet is names[i].
        sql += [
            " UNION ALL SELECT 'facet', name, value, n, NULL, NULL FROM (",
            " SELECT v.name, v.value, sum(g.n) AS n,",
            " row_number() OVER (PARTITION BY v.name ORDER BY sum(g.n) DESC, v.value) AS r",
            " FROM (SELECT c, miss, count(*) AS n FROM (SELECT unnest(codes) AS c, miss FROM m) u",
            " GROUP BY c, miss) g",
            " JOIN search_facet_value v ON v.code = g.c",
            " WHERE v.name = ANY(%s) AND (g.miss = -1 OR v.name = (%s::text[])[g.miss + 1])",
            " GROUP BY v.name, v.value) f WHERE r <= %s",
        ]
        params += [list(query.facets), names, query.facet_size]
    return "\n".join(sql), params


def _score_sql(score: _Score, params: list[Any]) -> str:
    """The score of a match, times the popularity tie-break."""
    parts = _score_parts(score, params)
    return f"({' + '.join(parts)}) * d.boost" if parts else "d.boost"


def _score_parts(score: _Score, params: list[Any]) -> list[str]:
    """ts_rank over the bucketed labels per group of words of similar idf, phrases as bonuses,
    typos at a low share, boosted sub-queries where they match.

    A boosted group of the same words (plan.py's "all the words but one") scores what the words
    score: it multiplies their ts_rank sum instead of computing each ts_rank a second time.
    """
    ranks: list[str] = []
    rank_params: list[Any] = []
    for items, idf in _rank_groups(score.words):
        # idf twice, as classic tf·idf weighs both the query and the record (measured on
        # CISI, Cranfield and CACM: bench/relevance.py); normalization 1 divides by
        # 1 + log(length), so a long abstract does not win by its length alone.
        scale = idf * idf * len(items) * RANK_SCALE
        ranks.append(f"{scale:.6f} * ts_rank(%s::float4[], d.head, %s::tsquery, 1)")
        rank_params += [RANK_WEIGHTS, " | ".join(items)]
    words = f"({' + '.join(ranks)}) * (1 + 1.0 / (2 + d.title_len))" if ranks else ""
    factors: list[str] = []
    factor_params: list[Any] = []
    boosted: list[tuple[str, list[Any]]] = []
    for inner, condition, boost in score.boosted:
        inner_params: list[Any] = []
        inner_parts = _score_parts(inner, inner_params)
        if not inner_parts:
            continue
        matched = f"{boost:.6f} * (d.head @@ %s::tsquery)::int"
        if words and inner_parts == [words] and inner_params == rank_params:
            factors.append(matched)
            factor_params.append(condition)
        else:
            boosted.append((f"{matched} * ({' + '.join(inner_parts)})", [condition, *inner_params]))
    parts = []
    if words:
        parts.append(f"{words} * (1 + {' + '.join(factors)})" if factors else words)
        params += rank_params + factor_params
    if score.fuzzy:
        query = " | ".join(score.fuzzy)
        scale = len(score.fuzzy) * RANK_SCALE * FUZZY_SHARE
        parts.append(f"{scale:.6f} * ts_rank(%s::float4[], d.head, %s::tsquery)")
        params += [RANK_WEIGHTS, query]
    for query, bonus in score.phrases:
        parts.append(f"{bonus:.6f} * (d.head @@ %s::tsquery)::int")
        params.append(query)
    for text, boosted_params in boosted:
        parts.append(text)
        params += boosted_params
    return parts


def _rank_groups(words: list[tuple[dict[str, None], float]]) -> list[tuple[list[str], float]]:
    """Query words merged into at most MAX_RANK_CALLS groups of neighbouring idf."""
    ordered = sorted(words, key=lambda w: w[1])
    size = -(-len(ordered) // MAX_RANK_CALLS)
    groups = []
    for start in range(0, len(ordered), max(size, 1)):
        chunk = ordered[start : start + size]
        items = list(dict.fromkeys(item for word_items, _ in chunk for item in word_items))
        groups.append((items, sum(idf for _, idf in chunk) / len(chunk)))
    return groups


def _index_like(cursor: Any, table: str) -> None:
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


def _swap(cursor: Any, table: str) -> None:
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


class _Writer:
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
