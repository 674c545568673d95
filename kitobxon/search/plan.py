"""From a parsed query to a backend-neutral query tree.

The reader's words are analysed once here (analysis.py) and every backend compiles the same tree,
so tantivy and PostgreSQL find the same records. The tree says *what* must match; the backends
decide how to score it (BM25 with the field boosts of documents.py).

Library rules encoded here:
- One to three words: every word must match. Four to seven: records with all but one word
  rank first, followed by records with fewer (bench/relevance.py measured this). Longer (a pasted
  abstract or a question in full sentences): stop words dropped, any word may match and BM25 does
  the weighting, so a long query never returns nothing because one word is missing.
- Several words also earn a phrase boost on the title, so the exact title ranks first.
- Full text counts only where the reader may open the document: every full-text clause carries
  the `pages_visible_to` guard, so neither a hit nor a snippet leaks a closed document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kitobxon.search import analysis, query
from kitobxon.search.analysis import QueryToken
from kitobxon.search.documents import FULLTEXT, TEXT_FIELDS, YEAR_RANGES

ALL_TEXT = (*TEXT_FIELDS, FULLTEXT)
#: A reader's field name → the text fields it searches.
FIELD_TARGETS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "author": ("author",),
    "subject": ("subject",),
    "series": ("other",),
    "publisher": ("other",),
}
#: A reader's field name → the keyword filter it restricts.
KEYWORD_FIELDS = {"lang": "lang", "type": "type", "faculty": "faculty", "collection": "collection"}
PHRASE_BOOST = 2.5
STRICT_BOOST = 8.0


# --- the tree -------------------------------------------------------------------------------


class Node:
    """Base of the query tree."""


@dataclass(frozen=True, slots=True)
class Everything(Node):
    pass


@dataclass(frozen=True, slots=True)
class Words(Node):
    """One query token in any of `fields`, in its exact, loose, Russian or English form."""

    token: QueryToken
    fields: tuple[str, ...]
    fuzzy: bool = False


@dataclass(frozen=True, slots=True)
class Phrase(Node):
    """Consecutive exact forms in one of `fields`."""

    tokens: tuple[QueryToken, ...]
    fields: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Prefix(Node):
    """Words typed so far, the last one unfinished (autocomplete)."""

    tokens: tuple[QueryToken, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Keyword(Node):
    """The keyword field has one of `values` (facets, identifiers, visibility)."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class YearRange(Node):
    lo: int | None
    hi: int | None


@dataclass(frozen=True, slots=True)
class Bool(Node):
    must: tuple[Node, ...] = ()
    should: tuple[Node, ...] = ()
    must_not: tuple[Node, ...] = ()
    min_should: int = 0
    boost: float = 1.0


NOTHING = Keyword("kind", ())


def any_of(nodes: Iterable[Node]) -> Node:
    nodes = tuple(nodes)
    if not nodes:
        return NOTHING
    return nodes[0] if len(nodes) == 1 else Bool(should=nodes, min_should=1)


def all_of(nodes: Iterable[Node]) -> Node:
    nodes = tuple(n for n in nodes if not isinstance(n, Everything))
    if not nodes:
        return Everything()
    return nodes[0] if len(nodes) == 1 else Bool(must=nodes)


# --- planning -------------------------------------------------------------------------------


def text_query(
    parsed: query.ParseResult, principals: Iterable[str], *, fuzzy: bool = False
) -> Node:
    """The scoring part of a search: what the reader typed, or everything."""
    planner = _Planner(tuple(sorted(principals)), fuzzy)
    if parsed.node is None:
        return Everything()
    return planner.node(parsed.node, top=True)


def prefix_query(text: str) -> Node | None:
    """Autocomplete: titles, authors and subjects starting with what was typed."""
    tokens = tuple(t for t in analysis.analyse_query(text) if t.exact)
    if not tokens:
        return None
    return Prefix(tokens, ("title", "author", "subject"))


def facet_filter(name: str, values: Sequence[str]) -> Node:
    """A facet selection: OR within the facet (AND across facets is the caller's)."""
    if name == "year":
        ranges = {label: (lo, hi) for label, lo, hi in YEAR_RANGES}
        return any_of(YearRange(*ranges[v]) if v in ranges else _year_node(v) for v in values)
    return Keyword(name, tuple(values))


def _year_node(value: str) -> Node:
    lo, sep, hi = value.partition("..")
    try:
        if not sep:
            return YearRange(int(value), int(value))
        return YearRange(int(lo) if lo else None, int(hi) if hi else None)
    except ValueError:
        return NOTHING


@dataclass(slots=True)
class _Planner:
    principals: tuple[str, ...]
    fuzzy: bool

    def node(self, node: query.Node, *, top: bool = False) -> Node:
        if isinstance(node, query.And):
            return self._and(node.children, top=top)
        if isinstance(node, query.Or):
            return any_of(self.node(child) for child in node.children)
        if isinstance(node, query.Not):
            return Bool(must=(Everything(),), must_not=(self.node(node.child),))
        if isinstance(node, query.Range):
            return YearRange(node.lo, node.hi)
        if isinstance(node, query.Phrase):
            return self._phrase(node.text, node.field)
        if isinstance(node, query.Term):
            return self._term(node.text, node.field) if top is False else self._and([node])
        raise TypeError(node)

    def _and(self, children: Sequence[query.Node], *, top: bool = False) -> Node:
        plain = [c for c in children if isinstance(c, query.Term) and c.field is None]
        rest = [c for c in children if c not in plain]
        must: list[Node] = []
        must_not: list[Node] = []
        for child in rest:
            if isinstance(child, query.Not):
                must_not.append(self.node(child.child))
            else:
                must.append(self.node(child))
        tokens = [t for term in plain for t in analysis.analyse_query(term.text) if t.exact]
        should: list[Node] = []
        min_should = 0
        if len(tokens) <= 3:
            must.extend(self._words(t) for t in tokens)
        elif len(tokens) <= 7:
            # Records with all words but one come first; records with fewer follow, so a
            # question of a few words never comes back empty for one unusual word.
            words = tuple(self._words(t) for t in tokens)
            should.append(Bool(should=words, min_should=len(tokens) - 1, boost=STRICT_BOOST))
            should.extend(self._words(t) for t in tokens if not t.stopword)
            min_should = 1
        else:
            content = [t for t in tokens if not t.stopword] or tokens
            should.extend(self._words(t) for t in content)
            min_should = 1
        if len(tokens) >= 2:
            should.append(Phrase(tuple(tokens), ("title",), boost=PHRASE_BOOST))
            if min_should == 0 and not must:
                min_should = 1
        if not must and not should:
            must.append(Everything())
        if must_not and not must and not should:
            must.append(Everything())
        return Bool(
            must=tuple(must),
            should=tuple(should),
            must_not=tuple(must_not),
            min_should=min_should,
        )

    def _words(self, token: QueryToken, fields: tuple[str, ...] = TEXT_FIELDS) -> Node:
        words = Words(token, fields, fuzzy=self.fuzzy)
        if fields is not TEXT_FIELDS:
            return words
        return any_of((words, self._guarded(Words(token, (FULLTEXT,), fuzzy=False))))

    def _guarded(self, node: Node) -> Node:
        """Full text matches only in documents this reader may open."""
        return Bool(must=(node, Keyword("pages_visible_to", self.principals)))

    def _term(self, text: str, field: str | None) -> Node:
        if field in ("isbn", "issn"):
            key = query.looks_like_identifier(text)
            return Keyword("ids", (key or text.strip().casefold(),))
        if field in KEYWORD_FIELDS:
            return Keyword(KEYWORD_FIELDS[field], _keyword_values(field, text))
        if field == "year":
            return _year_node(text)
        tokens = [t for t in analysis.analyse_query(text) if t.exact]
        targets = FIELD_TARGETS.get(field or "", TEXT_FIELDS)
        return all_of(self._words(t, targets) for t in tokens) if tokens else NOTHING

    def _phrase(self, text: str, field: str | None) -> Node:
        tokens = tuple(t for t in analysis.analyse_query(text) if t.exact)
        if not tokens:
            return Everything()
        if len(tokens) == 1:
            return self._term(text, field)
        targets = FIELD_TARGETS.get(field or "")
        if targets:
            return Phrase(tokens, targets)
        return any_of((Phrase(tokens, TEXT_FIELDS), self._guarded(Phrase(tokens, (FULLTEXT,)))))


#: lang: accepts MARC codes and the names readers type.
LANGUAGE_ALIASES = {
    "uz": "uzb",
    "uzbek": "uzb",
    "ozbek": "uzb",
    "oʻzbek": "uzb",
    "ru": "rus",
    "russian": "rus",
    "rus": "rus",
    "русский": "rus",
    "rustili": "rus",
    "en": "eng",
    "english": "eng",
    "ingliz": "eng",
    "kaa": "kaa",
    "qaraqalpaq": "kaa",
    "qoraqalpoq": "kaa",
}


def _keyword_values(field: str, text: str) -> tuple[str, ...]:
    value = text.strip().casefold()
    if field == "lang":
        alias = LANGUAGE_ALIASES.get(value) or LANGUAGE_ALIASES.get(analysis.fold(value))
        return (alias or value,)
    return (value,)
