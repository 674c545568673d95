"""A CQL tree as the reader's query language of `kitobxon.search.query`, or an SRU diagnostic.

Supported: dc.title, dc.creator (and dc.author), dc.subject, bath.isbn, dc.date (year
relations and ``within "a b"``), cql.anywhere, cql.serverChoice and cql.keywords; relations
``= == adj all any exact`` on words; and, or, not. Anything else is refused with the SRU
diagnostic that names it, never silently widened: a client copy-cataloguing on ``prox`` must
learn that we ignored it.

Sorting: one key, from a CQL ``sortBy`` clause or the ``sortKeys`` parameter, onto the sorts
the search has: dc.title ascending (title), dc.date descending (newest) or ascending (oldest).
Records without a year come last either way. Other sorts are refused with diagnostics 82-96.
"""

from __future__ import annotations

from collections.abc import Iterator

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
        return to_query(node.child)
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


# --- sorting ----------------------------------------------------------------------------------

#: (sort index, ascending) → the search's sort.
SORTS: dict[tuple[str, bool], str] = {
    ("dc.title", True): "title",
    ("dc.date", False): "newest",
    ("dc.date", True): "oldest",
}
SORT_INDEXES = frozenset(index for index, _ in SORTS)
MAX_SORT_KEYS = 1
#: recordSchema values whose paths are our index names in a ``sortKeys`` key.
SORT_SCHEMAS = frozenset({"", "dc", "info:srw/schema/1/dc-v1.1"})
#: ``sortKeys`` missingValue → the CQL sort modifier that says the same.
MISSING_VALUES = {
    "highvalue": "missinghigh",
    "lowvalue": "missinglow",
    "omit": "missingomit",
    "abort": "missingfail",
}


def search_sort(node: cql.Node, sort_keys: str = "") -> str:
    """The search's sort for a query's ``sortBy`` clause or a ``sortKeys`` parameter, or
    "relevance" for neither; ``cql.CQLError`` with the sort diagnostic otherwise."""
    in_query = _sort_keys(node)
    in_parameter = parse_sort_keys(sort_keys)
    if in_query and in_parameter:
        raise cql.CQLError("sort spec included both in query and protocol: error", 96, "sortKeys")
    keys = in_query or in_parameter
    if not keys:
        return "relevance"
    if len(keys) > MAX_SORT_KEYS:
        raise cql.CQLError("too many sort keys to sort", 84, str(MAX_SORT_KEYS))
    return _sort(keys[0])


def parse_sort_keys(text: str) -> tuple[cql.SortKey, ...]:
    """The SRU 1.1 ``sortKeys`` parameter (space-separated keys, each
    ``path,schema,ascending,caseSensitive,missingValue``) as the CQL sort keys it means."""
    keys: list[cql.SortKey] = []
    for key in text.split():
        fields = key.split(",")
        if len(fields) > 5 or not fields[0]:
            raise cql.CQLError("unsupported parameter value", 6, "sortKeys")
        path, schema, ascending, case, missing = (*fields, "", "", "", "")[:5]
        if schema.casefold() not in SORT_SCHEMAS:
            raise cql.CQLError("unsupported schema for sort", 87, schema)
        if ascending not in ("", "0", "1"):
            raise cql.CQLError("unsupported direction", 90, ascending)
        if case not in ("", "0", "1"):
            raise cql.CQLError("unsupported case", 91, case)
        modifiers = [cql.Modifier("sort.descending" if ascending == "0" else "sort.ascending")]
        if case == "1":
            modifiers.append(cql.Modifier("sort.respectcase"))
        if missing:
            action = MISSING_VALUES.get(missing.casefold())
            modifiers.append(
                cql.Modifier(f"sort.{action}")
                if action
                else cql.Modifier("sort.missingvalue", "=", missing)
            )
        keys.append(cql.SortKey(path, tuple(modifiers)))
    return tuple(keys)


def _sort_keys(node: cql.Node) -> tuple[cql.SortKey, ...]:
    while isinstance(node, cql.Prefixed):
        node = node.child
    return node.keys if isinstance(node, cql.Sorted) else ()


def _sort(key: cql.SortKey) -> str:
    index = key.index.casefold()
    if "." not in index:
        index = f"dc.{index}"
    if index not in SORT_INDEXES:
        raise cql.CQLError("unsupported path for sort", 88, key.index)
    ascending = True
    missing: list[cql.Modifier] = []
    for modifier in _sort_modifiers(key):
        name = modifier.type
        if name in ("ascending", "descending") and modifier.comparison is None:
            ascending = name == "ascending"
        elif name == "respectcase":
            raise cql.CQLError("unsupported case", 91, modifier.type)
        elif name.startswith("missing"):
            missing.append(modifier)
        elif name != "ignorecase" or modifier.comparison is not None:
            raise cql.CQLError("unsupported sort sequence", 82, modifier.type)
    if (index, ascending) not in SORTS:
        raise cql.CQLError("unsupported direction", 90, "ascending" if ascending else "descending")
    last = "missinghigh" if ascending else "missinglow"  # records without a value come last
    for modifier in missing:
        if modifier.type != last or modifier.comparison is not None:
            raise cql.CQLError("unsupported missing value action", 92, modifier.type)
    return SORTS[(index, ascending)]


def _sort_modifiers(key: cql.SortKey) -> Iterator[cql.Modifier]:
    """The key's modifiers with the ``sort.`` context set left off (``/descending`` is
    ``/sort.descending``); modifiers of another context set are refused."""
    for modifier in key.modifiers:
        context, _, name = modifier.type.rpartition(".")
        if context not in ("", "sort"):
            raise cql.CQLError("unsupported sort sequence", 82, modifier.type)
        yield cql.Modifier(name, modifier.comparison, modifier.value)
