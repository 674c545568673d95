"""A CQL tree as the reader's query language of `kitobxon.search.query`, or an SRU diagnostic.

Supported: dc.title, dc.creator (and dc.author), dc.subject, bath.isbn, dc.date (year
relations and ``within "a b"``), cql.anywhere, cql.serverChoice and cql.keywords; relations
``= == adj all any exact`` on words; and, or, not. Anything else is refused with the SRU
diagnostic that names it, never silently widened: a client copy-cataloguing on ``prox`` must
learn that we ignored it.
"""

from __future__ import annotations

from kitobxon.protocols import cql

#: index (casefolded) → field of the search query language; None searches every field.
INDEXES: dict[str, str | None] = {
    "dc.title": "title",
    "dc.creator": "author",
    "dc.author": "author",
    "dc.subject": "subject",
    "bath.isbn": "isbn",
    "dc.date": "year",
    "cql.anywhere": None,
    "cql.serverchoice": None,
    "cql.keywords": None,
}
WORD_RELATIONS = frozenset({"=", "==", "adj", "all", "any", "exact"})
YEAR_RELATIONS = frozenset({"=", "==", "<", ">", "<=", ">=", "within"})
#: Characters that are syntax in the reader's query language, never part of a CQL term here.
_SYNTAX = str.maketrans({c: " " for c in '()"«»„“”'})


def to_query(node: cql.Node) -> str:
    """The search query for a parsed CQL query; ``cql.CQLError`` with the diagnostic number."""
    if isinstance(node, cql.Prefixed):
        return to_query(node.child)
    if isinstance(node, cql.Sorted):
        raise cql.CQLError("sort is not supported", 80, "sortby")
    if isinstance(node, cql.Boolean):
        if node.value == "prox":
            raise cql.CQLError("unsupported boolean operator", 37, "prox")
        if node.modifiers:
            raise cql.CQLError("unsupported boolean modifier", 46, node.modifiers[0].type)
        return f"({to_query(node.left)}) {node.value.upper()} ({to_query(node.right)})"
    return _clause(node)


def _clause(clause: cql.SearchClause) -> str:
    index = clause.index.casefold()
    if "." not in index:
        index = f"dc.{index}" if f"dc.{index}" in INDEXES else f"cql.{index}"
    if index not in INDEXES:
        raise cql.CQLError("unsupported index", 16, clause.index)
    field = INDEXES[index]
    relation = clause.relation.value.casefold()
    if clause.relation.modifiers:
        raise cql.CQLError("unsupported relation modifier", 20, clause.relation.modifiers[0].type)
    if field == "year":
        return _years(relation, clause.term)
    if relation not in WORD_RELATIONS:
        raise cql.CQLError("unsupported relation", 19, clause.relation.value)
    words = _words(clause.term)
    if not words:
        raise cql.CQLError("empty term unsupported", 27, clause.term)
    prefix = f"{field}:" if field else ""
    if relation in ("=", "==", "adj", "exact") and len(words) > 1:
        return f'{prefix}"{" ".join(words)}"'
    joiner = " OR " if relation == "any" else " AND "
    return "(" + joiner.join(f"{prefix}{_word(word)}" for word in words) + ")"


def _words(term: str) -> list[str]:
    """The term's words with CQL escapes resolved; unescaped masking characters are refused."""
    plain: list[str] = []
    escaped = False
    for c in term:
        if escaped:
            plain.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in "*?^":
            raise cql.CQLError("masking character not supported", 28, term)
        else:
            plain.append(c)
    return "".join(plain).translate(_SYNTAX).split()


def _word(word: str) -> str:
    """One word as the query language reads it literally: operators and `x:` quoted away."""
    word = word.lstrip("-+!")
    if not word:
        return '""'
    if ":" in word or word.upper() in ("AND", "OR", "NOT"):
        return f'"{word}"'
    return word


def _years(relation: str, term: str) -> str:
    parts = term.split()
    if not parts or not all(p.isdigit() and len(p) <= 4 for p in parts):
        raise cql.CQLError("term in invalid format for index or relation", 36, term)
    years = [int(p) for p in parts]
    if relation == "within":
        if len(years) != 2 or years[0] > years[1]:
            raise cql.CQLError("term in invalid format for index or relation", 36, term)
        return f"year:{years[0]}..{years[1]}"
    if len(years) != 1 or relation not in YEAR_RELATIONS:
        raise cql.CQLError("unsupported relation", 19, relation)
    year = years[0]
    return {
        "=": f"year:{year}",
        "==": f"year:{year}",
        "<": f"year:..{year - 1}",
        "<=": f"year:..{year}",
        ">": f"year:{year + 1}..",
        ">=": f"year:{year}..",
    }[relation]
