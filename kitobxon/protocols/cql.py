"""CQL 1.2, the Contextual Query Language of SRU: a recursive-descent parser and its XCQL.

The grammar (https://www.loc.gov/standards/sru/cql/spec.html)::

    sortedQuery  := prefixAssignment sortedQuery | scopedClause ['sortby' sortKey+]
    scopedClause := scopedClause booleanGroup searchClause | searchClause   (left-associative,
                    all booleans of equal precedence)
    searchClause := '(' cqlQuery ')' | prefixAssignment cqlQuery | [index relation] searchTerm
    booleanGroup := ('and' | 'or' | 'not' | 'prox') modifier*
    relation     := ('=' | '==' | '<>' | '<' | '>' | '<=' | '>=' | name) modifier*
    modifier     := '/' name [comparitor value]

An index and relation carry into parenthesised sub-queries (``title=(a or b)``). Unquoted
words run together into one term until a relation, a boolean or a bracket (``all contains any``
is one term), and a named relation (``any``, ``all``, ``adj``, ``within``, ``encloses``,
``exact`` or a dotted name) is a word when a boolean or ``sortby`` follows it. Keywords are
case-insensitive and may be used as terms. Terms keep their backslash escapes verbatim.

Errors raise ``CQLError`` with SRU diagnostic 10 (query syntax error); ``cql.xcql`` renders the
tree as XCQL, the form in which the cql-java regression suite states its expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from lxml import etree

SERVER_CHOICE = "cql.serverChoice"
SYNTAX_ERROR = 10
BOOLEANS = frozenset({"and", "or", "not", "prox"})
KEYWORDS = BOOLEANS | {"sortby"}
NAMED_RELATIONS = frozenset({"any", "all", "adj", "within", "encloses", "exact"})
SYMBOLIC_RELATIONS = frozenset({"=", "==", "<>", "<", ">", "<=", ">="})
_SPECIAL = frozenset('()/"=<>')
_MAX_DEPTH = 100


class CQLError(ValueError):
    """A query the server cannot answer, with its SRU diagnostic number and details."""

    def __init__(self, message: str, code: int = SYNTAX_ERROR, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or message


@dataclass(frozen=True, slots=True)
class Modifier:
    type: str
    comparison: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Relation:
    value: str
    modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchClause:
    index: str
    relation: Relation
    term: str


@dataclass(frozen=True, slots=True)
class Boolean:
    value: str  # and, or, not, prox (lower case)
    modifiers: tuple[Modifier, ...]
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Prefix:
    name: str | None
    identifier: str


@dataclass(frozen=True, slots=True)
class Prefixed:
    prefixes: tuple[Prefix, ...]
    child: Node


@dataclass(frozen=True, slots=True)
class SortKey:
    index: str
    modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True, slots=True)
class Sorted:
    child: Node
    keys: tuple[SortKey, ...] = field(default=())


Node: TypeAlias = SearchClause | Boolean | Prefixed | Sorted


# --- tokens -----------------------------------------------------------------------------------

WORD, STRING, SYMBOL, EOF = "word", "string", "symbol", "eof"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # word, string, symbol (one of ( ) / and the relations), eof
    text: str

    @property
    def keyword(self) -> str | None:
        folded = self.text.lower()
        return folded if self.kind == WORD and folded in KEYWORDS else None

    def render(self) -> str:
        if self.kind == EOF:
            return "EOF"
        if self.kind == STRING:
            return f'"{self.text}"'
        return f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()/":
            tokens.append(Token(SYMBOL, c))
            i += 1
        elif c in "=<>":
            pair = text[i : i + 2]
            if pair in ("==", "<>", "<=", ">="):
                tokens.append(Token(SYMBOL, pair))
                i += 2
            else:
                tokens.append(Token(SYMBOL, c))
                i += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise CQLError("unterminated string")
            tokens.append(Token(STRING, text[i + 1 : j]))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 2 if text[j] == "\\" and j + 1 < n else 1
            tokens.append(Token(WORD, text[i:j]))
            i = j
    tokens.append(Token(EOF, ""))
    return tokens


# --- grammar ----------------------------------------------------------------------------------


def parse(text: str) -> Node:
    """The query as a tree; ``CQLError`` (diagnostic 10) when it is not CQL."""
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def ahead(self, n: int = 1) -> Token:
        return self.tokens[min(self.pos + n, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind != EOF:
            self.pos += 1
        return token

    def is_symbol(self, text: str) -> bool:
        return self.token.kind == SYMBOL and self.token.text == text

    def expect(self, text: str) -> None:
        if not self.is_symbol(text):
            raise CQLError(f"expected '{text}', got {self.token.render()}")
        self.advance()

    def symbol(self, expected: str) -> str:
        """A word, a quoted string or a keyword used as a plain word."""
        if self.token.kind not in (WORD, STRING):
            raise CQLError(f"expected {expected}, got {self.token.render()}")
        return self.advance().text

    def parse(self) -> Node:
        node = self.sorted_query()
        if self.token.kind != EOF:
            raise CQLError(f"junk after end: {self.token.render()}")
        return node

    def sorted_query(self) -> Node:
        if self.is_symbol(">"):
            prefixes = self.prefixes()
            return Prefixed(prefixes, self.sorted_query())
        node = self.query(SERVER_CHOICE, Relation("="))
        if self.token.keyword == "sortby":
            self.advance()
            keys: list[SortKey] = []
            while self.token.kind != EOF:
                index = self.symbol("sort index")
                keys.append(SortKey(index, self.modifiers()))
            if not keys:
                raise CQLError("no sort keys")
            node = Sorted(node, tuple(keys))
        return node

    def query(self, index: str, relation: Relation) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise CQLError("query nested too deeply")
        node = self.clause(index, relation)
        while not (self.token.kind == EOF or self.is_symbol(")") or self.token.keyword == "sortby"):
            operator = self.token.keyword
            if operator not in BOOLEANS:
                raise CQLError(f"expected boolean, got {self.token.render()}")
            self.advance()
            modifiers = self.modifiers()
            node = Boolean(operator, modifiers, node, self.clause(index, relation))
        self.depth -= 1
        return node

    def prefixes(self) -> tuple[Prefix, ...]:
        found: list[Prefix] = []
        while self.is_symbol(">"):
            self.advance()
            name: str | None = None
            identifier = self.symbol("prefix-name")
            if self.is_symbol("="):
                self.advance()
                name, identifier = identifier, self.symbol("prefix-identifier")
            found.append(Prefix(name, identifier))
        return tuple(found)

    def clause(self, index: str, relation: Relation) -> Node:
        while True:
            if self.is_symbol("("):
                self.advance()
                node = self.query(index, relation)
                self.expect(")")
                return node
            if self.is_symbol(">"):
                prefixes = self.prefixes()
                return Prefixed(prefixes, self.query(index, relation))
            words = [self.symbol("index or term")]
            while self.token.kind == WORD and not self.token.keyword and not self.at_relation():
                words.append(self.advance().text)
            if not self.at_relation():
                return SearchClause(index, relation, " ".join(words))
            index = " ".join(words)
            value = self.advance().text
            relation = Relation(value, self.modifiers())

    def at_relation(self) -> bool:
        token = self.token
        if token.kind == SYMBOL:
            return token.text in SYMBOLIC_RELATIONS
        if token.kind != WORD or token.keyword:
            return False
        if token.text.lower() not in NAMED_RELATIONS and "." not in token.text:
            return False
        return self.ahead().keyword is None  # `all contains any prox x`: any is a word here

    def modifiers(self) -> tuple[Modifier, ...]:
        found: list[Modifier] = []
        while self.is_symbol("/"):
            self.advance()
            if self.token.kind != WORD:
                raise CQLError(f"expected modifier, got {self.token.render()}")
            name = self.advance().text.lower()
            if self.token.kind == SYMBOL and self.token.text in SYMBOLIC_RELATIONS:
                comparison = self.advance().text
                found.append(Modifier(name, comparison, self.symbol("modifier value")))
            else:
                found.append(Modifier(name))
        return tuple(found)


# --- XCQL -------------------------------------------------------------------------------------


def xcql(node: Node) -> etree._Element:
    """The tree as un-namespaced XCQL (prefixes and sort keys folded into the clause or triple
    they apply to, as SRU 1.2 and cql-java write it)."""
    return _xcql(node, (), ())


def _xcql(node: Node, prefixes: tuple[Prefix, ...], keys: tuple[SortKey, ...]) -> etree._Element:
    if isinstance(node, Prefixed):
        return _xcql(node.child, prefixes + node.prefixes, keys)
    if isinstance(node, Sorted):
        return _xcql(node.child, prefixes, keys + node.keys)
    element = etree.Element("searchClause" if isinstance(node, SearchClause) else "triple")
    if prefixes:
        holder = etree.SubElement(element, "prefixes")
        for prefix in prefixes:
            one = etree.SubElement(holder, "prefix")
            if prefix.name is not None:
                etree.SubElement(one, "name").text = prefix.name
            etree.SubElement(one, "identifier").text = prefix.identifier
    if isinstance(node, SearchClause):
        etree.SubElement(element, "index").text = node.index
        relation = etree.SubElement(element, "relation")
        etree.SubElement(relation, "value").text = node.relation.value
        _modifiers(relation, node.relation.modifiers)
        etree.SubElement(element, "term").text = node.term
    else:
        boolean = etree.SubElement(element, "boolean")
        etree.SubElement(boolean, "value").text = node.value
        _modifiers(boolean, node.modifiers)
        etree.SubElement(element, "leftOperand").append(_xcql(node.left, (), ()))
        etree.SubElement(element, "rightOperand").append(_xcql(node.right, (), ()))
    if keys:
        holder = etree.SubElement(element, "sortKeys")
        for key in keys:
            one = etree.SubElement(holder, "key")
            etree.SubElement(one, "index").text = key.index
            _modifiers(one, key.modifiers)
    return element


def _modifiers(parent: etree._Element, modifiers: tuple[Modifier, ...]) -> None:
    if not modifiers:
        return
    holder = etree.SubElement(parent, "modifiers")
    for modifier in modifiers:
        one = etree.SubElement(holder, "modifier")
        etree.SubElement(one, "type").text = modifier.type
        if modifier.comparison is not None:
            etree.SubElement(one, "comparison").text = modifier.comparison
            etree.SubElement(one, "value").text = modifier.value
