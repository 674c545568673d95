"""A plan.py tree → one condition on a document row (a tsquery where GIN can answer it)
and the parts of its score."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from kitobxon.search import analysis
from kitobxon.search.backends.postgres.storage import (
    DOCUMENTS,
    HEAD_FIELDS,
    field_lexeme,
    head_lexeme,
    keyword_lexeme,
    quote,
)
from kitobxon.search.documents import (
    FACETS,
    FIELD_BOOSTS,
    FULLTEXT,
    FUZZY_FIELDS,
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
#: Combinations of "at least k of n" spelled out in the tsquery before falling back to SQL.
MAX_COMBINATIONS = 64


# --- compiled conditions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cond:
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


ALL, NONE = Cond("all"), Cond("none")


def _tsq(text: str) -> Cond:
    return Cond("tsq", text) if text else NONE


def and_all(*conds: Cond) -> Cond:
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


def _or(*conds: Cond) -> Cond:
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


def _not(cond: Cond) -> Cond:
    if cond.kind == "all":
        return NONE
    if cond.kind == "none":
        return ALL
    if cond.kind == "tsq":
        return _tsq(f"!({cond.text})")
    return Cond("sql", f"NOT ({cond.text})", cond.params)


def _sql_join(operator: str, conds: list[Cond]) -> Cond:
    texts: list[str] = []
    params: list[Any] = []
    for cond in conds:
        text, cond_params = cond.sql()
        texts.append(f"({text})")
        params.extend(cond_params)
    return Cond("sql", operator.join(texts), tuple(params))


def _at_least(conds: list[Cond], k: int) -> Cond:
    """At least k of the conditions hold (a boolean query's minimum-should-match)."""
    if k <= 1:
        return _or(*conds)
    if k > len(conds):
        return NONE
    if k == len(conds):
        return and_all(*conds)
    if math.comb(len(conds), k) <= MAX_COMBINATIONS:
        return _or(*(and_all(*group) for group in itertools.combinations(conds, k)))
    counted = _sql_join(" + ", [Cond("sql", f"({c.sql()[0]})::int", c.sql()[1]) for c in conds])
    return and_all(_or(*conds), Cond("sql", f"({counted.text}) >= {int(k)}", counted.params))


# --- the compiler -----------------------------------------------------------------------------


@dataclass(slots=True)
class Score:
    """What a match is worth: per query word its `head` items for ts_rank and its rarity (idf),
    typo expansions at a low share, and phrases with a bonus."""

    words: list[tuple[dict[str, None], float]] = field(default_factory=list)
    fuzzy: dict[str, None] = field(default_factory=dict)
    phrases: list[tuple[str, float]] = field(default_factory=list)
    #: Boosted sub-queries: (their own score, their condition on `head`, the boost).
    boosted: list[tuple[Score, str, float]] = field(default_factory=list)


class Compiler:
    """The plan.py tree → conditions on `search_document` rows, and the score of a match."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.score = Score()
        self._expansions: dict[tuple[str, int], tuple[str, ...]] = {}
        self._frequencies: tuple[dict[str, float], float] | None = None
        #: "At least k of these" conditions compiled so far, with their members' keys.
        self._groups: dict[tuple[str, str, str], frozenset[tuple[str, str, str]]] = {}

    def compile(self, node: Node, *, scored: bool = False) -> Cond:
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

    def _bool(self, node: Bool, scored: bool) -> Cond:
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
        return and_all(*parts)

    def _absorbed(self, should: list[Cond]) -> list[Cond]:
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

    def _boosted(self, node: Bool) -> Cond:
        """A boosted clause scores `boost` times its children's score where it matches, as a
        boosted boolean query does in tantivy; whether it matches is read from `head`."""
        outer, self.score = self.score, Score()
        try:
            cond = self._bool(replace(node, boost=1.0), scored=True)
        finally:
            inner, self.score = self.score, outer
        on_head = _on_head(node)
        if on_head.kind == "tsq":
            self.score.boosted.append((inner, on_head.text, node.boost))
        return cond

    def _keyword(self, node: Keyword) -> Cond:
        if not node.values:
            return NONE
        if node.field == "entry":
            return ALL if "doc" in node.values else NONE
        if node.field == "parent":
            return NONE
        if node.field == "key":
            return Cond("sql", "d.key = ANY(%s)", (list(node.values),))
        if node.field in FACETS:
            return Cond(
                "sql",
                "d.codes && ARRAY(SELECT code FROM search_facet_value"
                " WHERE name = %s AND value = ANY(%s))",
                (node.field, list(node.values)),
            )
        return _tsq(" | ".join(quote(keyword_lexeme(node.field, v)) for v in node.values))

    def _words(self, node: Words, scored: bool) -> Cond:
        token = node.token
        lexemes: dict[str, None] = {}
        fuzzy: dict[str, None] = {}
        for name in node.fields:
            for variant, term in token_forms(token):
                lexemes.setdefault(quote(field_lexeme(name, variant, term)))
            if node.fuzzy and name in FUZZY_FIELDS:
                for key in dict.fromkeys((*token.uzkeys[:1], token.fuzzy_key)):
                    distance = 2 if len(key) >= 8 else 1 if len(key) >= 4 else 0
                    for word in self._expand(key, distance) if distance else ():
                        fuzzy.setdefault(quote(field_lexeme(name, "uzkey", word)))
                        if scored:
                            self.score.fuzzy.setdefault(quote(head_lexeme(name, word)))
        if scored:
            items = {
                quote(head_lexeme(name, term)): None
                for name in node.fields
                if name in HEAD_FIELDS
                for _, term in token_forms(token)
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

    def _phrase(self, node: Phrase, scored: bool) -> Cond:
        forms = {tuple(t.exact[0] for t in node.tokens), tuple(t.exact[-1] for t in node.tokens)}
        conds = []
        for name in node.fields:
            query = " | ".join(
                " <-> ".join(quote(field_lexeme(name, "exact", w)) for w in words)
                for words in forms
            )
            if name == FULLTEXT:
                conds.append(_fulltext_phrase(query, forms))
                continue
            conds.append(_tsq(query))
            if scored and name in HEAD_FIELDS:
                share = FIELD_BOOSTS[name] / FIELD_BOOSTS["title"]
                rarity = sum(self._idf([quote(head_lexeme(name, t.exact[0]))]) for t in node.tokens)
                bonus = PHRASE_UNIT * node.boost * share * rarity
                on_head = " | ".join(
                    " <-> ".join(quote(head_lexeme(name, w)) for w in words) for words in forms
                )
                self.score.phrases.append((on_head, bonus))
        return _or(*conds)

    def _prefix(self, node: Prefix, scored: bool) -> Cond:
        words = [t.exact[0] for t in node.tokens]
        queries = []
        for name in node.fields:
            lexemes = [quote(field_lexeme(name, "exact", w)) for w in words]
            lexemes[-1] += ":*"
            queries.append(" <-> ".join(lexemes))
            if scored:
                self.score.words.append(({quote(head_lexeme(name, words[-1])) + ":*": None}, 1.0))
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


def _key(cond: Cond) -> tuple[str, str, str]:
    """A condition as a hashable key (its parameters may hold lists)."""
    return cond.kind, cond.text, repr(cond.params)


def _on_head(node: Node) -> Cond:
    """Roughly the same condition on `head` (text fields only, no full text or keywords)."""
    if isinstance(node, Words):
        items = {
            quote(head_lexeme(f, t))
            for f in node.fields
            if f in HEAD_FIELDS
            for _, t in token_forms(node.token)
        }
        return _tsq(" | ".join(sorted(items)))
    if isinstance(node, Phrase):
        forms = {tuple(t.exact[0] for t in node.tokens), tuple(t.exact[-1] for t in node.tokens)}
        return _tsq(
            " | ".join(
                " <-> ".join(quote(head_lexeme(f, w)) for w in words)
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
        return and_all(*parts) if parts else ALL
    return ALL


def token_forms(token: analysis.QueryToken) -> list[tuple[str, str]]:
    """(variant, term) pairs under which the index may hold a query word."""
    forms = [
        *(("exact", t) for t in token.exact),
        *(("uzkey", k) for k in token.uzkeys),
        *((("ru", token.ru),) if token.ru else ()),
        *((("en", token.en),) if token.en else ()),
    ]
    return list(dict.fromkeys(forms))


def _year(node: YearRange) -> Cond:
    if node.lo is None and node.hi is None:
        return Cond("sql", "d.year IS NOT NULL")
    parts, params = ["d.year IS NOT NULL"], []
    if node.lo is not None:
        parts.append("d.year >= %s")
        params.append(node.lo)
    if node.hi is not None:
        parts.append("d.year <= %s")
        params.append(node.hi)
    return Cond("sql", " AND ".join(parts), tuple(params))


def _fulltext_phrase(query: str, forms: set[tuple[str, ...]]) -> Cond:
    """A phrase in the full text: the document holds the words, and one page the phrase."""
    words = " | ".join(
        " & ".join(quote(field_lexeme(FULLTEXT, "exact", w)) for w in ws) for ws in forms
    )
    exists = Cond(
        "sql",
        "EXISTS (SELECT 1 FROM search_page p WHERE p.key = d.key AND p.terms @@ %s::tsquery)",
        (query,),
    )
    return and_all(_tsq(words), exists)


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
