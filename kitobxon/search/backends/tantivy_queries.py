"""The plan.py tree → tantivy queries."""

from __future__ import annotations

import tantivy

from kitobxon.search.documents import (
    FIELD_BOOSTS,
    FUZZY_FIELDS,
    VARIANT_BOOSTS,
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

#: A typo-tolerant match counts a quarter of its field's boost: it never outranks an exact
#: or a stemmed match (LANGUAGE.md §3, issue 4).
FUZZY_BOOST = 0.25


class Compiler:
    """The plan.py tree → tantivy queries."""

    def __init__(self, schema: tantivy.Schema, fields: frozenset[str] | None = None) -> None:
        self.schema = schema
        self.fields = fields
        self.Q = tantivy.Query

    def compile(self, node: Node) -> tantivy.Query:
        Q, Occur = self.Q, tantivy.Occur
        if isinstance(node, Everything):
            return Q.all_query()
        if isinstance(node, Keyword):
            if not node.values or (self.fields is not None and node.field not in self.fields):
                return Q.empty_query()
            if len(node.values) == 1:
                return Q.term_query(self.schema, node.field, node.values[0], index_option="basic")
            return Q.term_set_query(self.schema, node.field, list(node.values))
        if isinstance(node, YearRange):
            if node.lo is None and node.hi is None:
                return Q.exists_query("year")
            return Q.range_query(self.schema, "year", tantivy.FieldType.Integer, node.lo, node.hi)
        if isinstance(node, Words):
            return self._words(node)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, Prefix):
            return self._prefix(node)
        if isinstance(node, Bool):
            clauses = [(Occur.Must, self.compile(n)) for n in node.must]
            clauses += [(Occur.Should, self.compile(n)) for n in node.should]
            clauses += [(Occur.MustNot, self.compile(n)) for n in node.must_not]
            if node.must_not and not node.must and not node.should:
                clauses.append((Occur.Must, Q.all_query()))
            query = Q.boolean_query(clauses, node.min_should or None)
            return Q.boost_query(query, node.boost) if node.boost != 1.0 else query
        raise TypeError(node)

    def _words(self, node: Words) -> tantivy.Query:
        Q, Should = self.Q, tantivy.Occur.Should
        token = node.token
        clauses = []
        for field in node.fields:
            boost = FIELD_BOOSTS[field]
            terms = [
                *(("exact", t) for t in token.exact),
                *(("uzkey", k) for k in token.uzkeys),
                *((("ru", token.ru),) if token.ru else ()),
                *((("en", token.en),) if token.en else ()),
            ]
            for variant, term in dict.fromkeys(terms):
                query = Q.term_query(self.schema, f"{field}_{variant}", term)
                clauses.append((Should, Q.boost_query(query, boost * VARIANT_BOOSTS[variant])))
            if node.fuzzy and field in FUZZY_FIELDS:
                for key in dict.fromkeys((*token.uzkeys[:1], token.fuzzy_key)):
                    distance = 2 if len(key) >= 8 else 1 if len(key) >= 4 else 0
                    if distance:
                        fuzzy = Q.fuzzy_term_query(self.schema, f"{field}_uzkey", key, distance)
                        clauses.append((Should, Q.boost_query(fuzzy, boost * FUZZY_BOOST)))
        if not clauses:
            return Q.empty_query()
        return Q.boolean_query(clauses)

    def _phrase(self, node: Phrase) -> tantivy.Query:
        Q, Should = self.Q, tantivy.Occur.Should
        forms = {tuple(t.exact[0] for t in node.tokens), tuple(t.exact[-1] for t in node.tokens)}
        clauses = []
        for field in node.fields:
            for words in forms:
                query = Q.phrase_query(self.schema, f"{field}_exact", list(words))
                clauses.append((Should, Q.boost_query(query, FIELD_BOOSTS[field] * node.boost)))
        return Q.boolean_query(clauses)

    def _prefix(self, node: Prefix) -> tantivy.Query:
        Q, Should = self.Q, tantivy.Occur.Should
        words: list[str | tuple[int, str]] = [t.exact[0] for t in node.tokens]
        clauses = []
        for field in node.fields:
            if len(words) == 1:
                query = Q.regex_query(self.schema, f"{field}_exact", _regex_prefix(str(words[0])))
            else:
                query = Q.phrase_prefix_query(self.schema, f"{field}_exact", words)
            clauses.append((Should, Q.boost_query(query, FIELD_BOOSTS[field])))
        return Q.boolean_query(clauses)


def _regex_prefix(word: str) -> str:
    import re

    return re.escape(word) + ".*"
