"""The reader's query language: words, "phrases", field:value, year ranges, AND OR NOT, ( ).

Library rule: the search box never answers with an error. `parse` always returns something to
search for; malformed syntax becomes a plain search of the reader's words plus a notice code
("unbalanced-quote", "unbalanced-paren", "dangling-operator", "unknown-field", "bad-range") that
the view translates. Precedence: NOT > AND (explicit or implicit) > OR. Operators are uppercase
words only, so a lowercase "and" is an ordinary word. Apostrophes belong to words (o'zbek, she’r,
g‘alaba, O`zbek); only " « » „ “ ” delimit phrases. Values are kept as typed: plan.py analyses them.

`+word` is parsed as a one-child `And`, the mark of a word the planner must not drop from a long
query (`-word`, `!word` and `NOT word` are all `Not`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

FIELDS: tuple[str, ...] = (
    "title", "author", "subject", "isbn", "issn", "year", "lang", "type", "series", "publisher",
    "faculty", "collection",
)  # fmt: skip
#: What a reader may type before the colon (casefolded) → canonical field name.
ALIASES: dict[str, str] = {name: name for name in FIELDS} | {
    "sarlavha": "title", "заглавие": "title", "название": "title", "сарлавҳа": "title",
    "muallif": "author", "автор": "author", "муаллиф": "author",
    "mavzu": "subject", "тема": "subject", "мавзу": "subject",
    "yil": "year", "год": "year", "йил": "year",
    "language": "lang", "til": "lang", "язык": "lang", "тил": "lang",
    "tur": "type", "тип": "type", "тур": "type",
    "seriya": "series", "серия": "series",
    "nashriyot": "publisher", "издательство": "publisher", "нашриёт": "publisher",
    "fakultet": "faculty", "факультет": "faculty",
    "kolleksiya": "collection", "коллекция": "collection",
}  # fmt: skip

OPEN_QUOTES = '"«„“”'
CLOSE_QUOTES = '"»“”'
_OPERATORS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT", "!": "NOT"}
_PREFIXES = "-+!"
_BREAKS = frozenset("()" + OPEN_QUOTES + CLOSE_QUOTES)
#: `name:value` with a name of letters only; `http://…` and `10:30` are not fields.
_FIELD = re.compile(r"([^\W\d_]+):(?!//)(.*)", re.DOTALL)
_YEARS = re.compile(r"(\d{1,4})?\s*(?:\.\.|-|–)\s*(\d{1,4})?|(\d{1,4})")
_MAX_DEPTH = 50


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Range:
    field: str
    lo: int | None
    hi: int | None


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node: TypeAlias = Term | Phrase | Range | And | Or | Not


@dataclass(frozen=True, slots=True)
class ParseResult:
    """`node` None matches everything; `plain` says the reader used no syntax (or it fell back)."""

    node: Node | None
    plain: bool
    notice: str | None = None


class _Malformed(Exception):
    """Carries the notice code of the first syntax error."""


def parse(q: str) -> ParseResult:
    """The reader's query as a tree; malformed syntax falls back to the plain words."""
    if not q.strip():
        return ParseResult(None, plain=True)
    try:
        tokens = _tokenize(q)
        node = _Parser(tokens).parse()
    except _Malformed as error:
        return ParseResult(_all_words(plain_words(q)), plain=True, notice=str(error))
    if isinstance(node, Not):
        node = And((node,))
    return ParseResult(node, plain=all(kind == "WORD" for kind, _ in tokens))


def plain_words(q: str) -> str:
    """The words of a query with every piece of syntax dropped; unknown `foo:` stays a word."""
    pending = "".join(" " if c in _BREAKS else c for c in q).split()[::-1]
    words = []
    while pending:
        word = pending.pop().lstrip(_PREFIXES)
        if not word or word in _OPERATORS:
            continue
        if field := _FIELD.fullmatch(word):
            name, value = field.groups()
            pending.append(value)
            if name.casefold() not in ALIASES:
                pending.append(name)
            continue
        words.append(word)
    return " ".join(words)


def _all_words(words: str) -> Node | None:
    terms = tuple(Term(word) for word in words.split())
    if len(terms) <= 1:
        return terms[0] if terms else None
    return And(terms)


# --- tokens -----------------------------------------------------------------------------------

Token: TypeAlias = tuple[str, str]  # (kind, text); kinds: ( ) AND OR NOT REQ FIELD PHRASE WORD


def _tokenize(q: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(q):
        c = q[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append((c, c))
            i += 1
        elif c in OPEN_QUOTES:
            end = next((j for j in range(i + 1, len(q)) if q[j] in CLOSE_QUOTES), -1)
            if end < 0:
                raise _Malformed("unbalanced-quote")
            tokens.append(("PHRASE", q[i + 1 : end]))
            i = end + 1
        elif c in CLOSE_QUOTES:
            raise _Malformed("unbalanced-quote")
        else:
            j = i
            while j < len(q) and not q[j].isspace() and q[j] not in _BREAKS:
                j += 1
            glued = j < len(q) and not q[j].isspace()  # -( or title:"…
            tokens.extend(_word_tokens(q[i:j], glued))
            i = j
    return tokens


def _word_tokens(word: str, glued: bool) -> list[Token]:
    if word in _OPERATORS:
        return [(_OPERATORS[word], word)]
    rest = word.lstrip(_PREFIXES)
    if not rest and not glued:
        return []  # a lone "-" or "+" is punctuation
    tokens = [("REQ" if c == "+" else "NOT", c) for c in word[: len(word) - len(rest)]]
    if field := _FIELD.fullmatch(rest):
        name, value = field.groups()
        if name.casefold() not in ALIASES:
            raise _Malformed("unknown-field")
        tokens.append(("FIELD", ALIASES[name.casefold()]))
        return [*tokens, ("WORD", value)] if value else tokens
    return [*tokens, ("WORD", rest)] if rest else tokens


# --- grammar ----------------------------------------------------------------------------------


class _Parser:
    """or := and (OR and)*   and := unary ((AND)? unary)*   unary := (NOT|-|+|field:)* primary."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def parse(self) -> Node | None:
        node = self.or_(None)
        if self.peek() is not None:
            raise _Malformed("unbalanced-paren")
        return node

    def or_(self, field: str | None) -> Node | None:
        children = [self.and_(field)]
        while self.peek() == "OR":
            self.take()
            children.append(self.and_(field))
        if len(children) == 1:
            return children[0]
        nodes = tuple(child for child in children if child is not None)
        if len(nodes) < len(children):
            raise _Malformed("dangling-operator")
        return Or(nodes)

    def and_(self, field: str | None) -> Node | None:
        children: list[Node] = []
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                if not children or self.peek() in (None, ")", "OR", "AND"):
                    raise _Malformed("dangling-operator")
            elif (node := self.unary(field)) is not None:
                children.append(node)
        if len(children) <= 1:
            return children[0] if children else None
        return And(tuple(children))

    def unary(self, field: str | None) -> Node | None:
        nots, required, prefixed = 0, False, False
        while self.peek() in ("NOT", "REQ", "FIELD"):
            kind, text = self.take()
            nots += kind == "NOT"
            required |= kind == "REQ"
            field = text if kind == "FIELD" else field
            prefixed = prefixed or kind != "REQ"
        node = self.primary(field)
        if node is None:
            if prefixed:
                raise _Malformed("dangling-operator")
            return None
        if required and not isinstance(node, And):
            node = And((node,))
        return Not(node) if nots % 2 else node  # NOT NOT a is a

    def primary(self, field: str | None) -> Node | None:
        if self.peek() in (None, ")", "AND", "OR"):
            return None
        kind, text = self.take()
        if kind == "(":
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise _Malformed("unbalanced-paren")
            node = self.or_(field)
            if self.peek() != ")":
                raise _Malformed("unbalanced-paren")
            self.take()
            self.depth -= 1
            return node
        if field == "year":
            return _year_range(text)
        if kind == "PHRASE":
            return Phrase(text.strip(), field) if text.strip() else None
        return Term(text, field)


def _year_range(text: str) -> Range:
    """year:2015..2020, year:..1990, year:2000.. and year:2015 (one year)."""
    match = _YEARS.fullmatch(text.strip())
    if not match:
        raise _Malformed("bad-range")
    lo, hi, single = match.groups()
    if single:
        return Range("year", int(single), int(single))
    if (lo is None and hi is None) or (lo and hi and int(lo) > int(hi)):
        raise _Malformed("bad-range")
    return Range("year", int(lo) if lo else None, int(hi) if hi else None)


# --- identifiers ------------------------------------------------------------------------------

_LABEL = re.compile(r"^(?:isbn|issn)(?:-1[03])?\s*:?\s*", re.IGNORECASE)


def looks_like_identifier(q: str) -> str | None:
    """The lookup key when the whole query is one ISBN, ISSN, barcode or call number.

    ISBNs become 13 digits (ISBN-10 converted), ISSNs 8 characters without the hyphen; both must
    have a valid check digit, or they are treated like a barcode: casefolded, spaces collapsed.
    """
    text = " ".join(q.split())
    bare = _LABEL.sub("", text, count=1)
    compact = re.sub(r"[\s-]", "", bare).upper()
    if re.fullmatch(r"[0-9]{9}[0-9X]", compact) and _mod11_valid(compact):
        return _isbn13(compact[:9])
    if re.fullmatch(r"97[89][0-9]{10}", compact) and _isbn13(compact[:12]) == compact:
        return compact
    if re.fullmatch(r"[0-9]{4}-[0-9]{3}[0-9Xx]", bare) and _mod11_valid(compact):
        return compact
    field = _FIELD.match(text)
    if (
        len(text) < 4
        or not any(c.isdigit() for c in text)
        or text[0] in _PREFIXES
        or any(c in OPEN_QUOTES or c in CLOSE_QUOTES for c in text)
        or (field and field[1].casefold() in ALIASES)
    ):
        return None  # words, or query syntax
    parts = text.split()
    if len(parts) > 1 and not (
        len(parts) <= 6
        and any(c.isdigit() for c in parts[0])
        and all(len(p) <= 3 or any(c.isdigit() for c in p) for p in parts)
    ):
        return None
    return text.casefold()


def _mod11_valid(code: str) -> bool:
    """ISBN-10 and ISSN check digit: weights n..1, X stands for 10 in the last place only."""
    if "X" in code[:-1]:
        return False
    return sum((len(code) - i) * (10 if c == "X" else int(c)) for i, c in enumerate(code)) % 11 == 0


def _isbn13(first12: str) -> str:
    """ISBN-13 from its first 12 digits (or from an ISBN-10's first 9), check digit added."""
    digits = first12 if len(first12) == 12 else "978" + first12
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits))
    return digits + str(-total % 10)
