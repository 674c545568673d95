from __future__ import annotations

import random

import pytest

from kitobxon.search.query import (
    ALIASES,
    FIELDS,
    And,
    Node,
    Not,
    Or,
    ParseResult,
    Phrase,
    Range,
    Term,
    looks_like_identifier,
    parse,
    plain_words,
)

NOTICES = {
    "unbalanced-quote",
    "unbalanced-paren",
    "dangling-operator",
    "unknown-field",
    "bad-range",
}


def T(text: str, field: str | None = None) -> Term:
    return Term(text, field)


def A(*children: Node) -> And:
    return And(children)


def O(*children: Node) -> Or:  # noqa: E743
    return Or(children)


# --- well-formed queries ----------------------------------------------------------------------


@pytest.mark.parametrize("q", ["", " ", "  \t\n ", "\u00a0"])
def test_an_empty_query_matches_everything(q: str) -> None:
    assert parse(q) == ParseResult(None, plain=True, notice=None)


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("war", T("war")),
        ("  war  ", T("war")),
        ("war peace", A(T("war"), T("peace"))),
        ("war and peace", A(T("war"), T("and"), T("peace"))),
        ("war or peace", A(T("war"), T("or"), T("peace"))),
        ("war not peace", A(T("war"), T("not"), T("peace"))),
        ("And Or Not", A(T("And"), T("Or"), T("Not"))),
        ("1-sentabr", T("1-sentabr")),
        ("C++ C#", A(T("C++"), T("C#"))),
        ("AT&T", T("AT&T")),
    ],
)
def test_plain_words_are_anded_terms_kept_as_typed(q: str, node: Node) -> None:
    assert parse(q) == ParseResult(node, plain=True, notice=None)


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("o'zbek", T("o'zbek")),
        ("she’r", T("she’r")),
        ("O`zbek", T("O`zbek")),
        ("g‘alaba", T("g‘alaba")),
        ("Is'hoq", T("Is'hoq")),
        ("oʻzbek tiliʼ", A(T("oʻzbek"), T("tiliʼ"))),
        ("tog‘", T("tog‘")),
        ("ma´no", T("ma´no")),
        ("Oʻtkan kunlar", A(T("Oʻtkan"), T("kunlar"))),
    ],
)
def test_an_apostrophe_inside_a_word_belongs_to_the_word(q: str, node: Node) -> None:
    assert parse(q).node == node


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("Ўтган кунлар", A(T("Ўтган"), T("кунлар"))),
        ("Война и мир", A(T("Война"), T("и"), T("мир"))),
        ("ёлка", T("ёлка")),
        ("Qaraqalpaq ádebiyatı", A(T("Qaraqalpaq"), T("ádebiyatı"))),
        ("маъно санъат", A(T("маъно"), T("санъат"))),
    ],
)
def test_cyrillic_and_karakalpak_words_are_terms(q: str, node: Node) -> None:
    assert parse(q) == ParseResult(node, plain=True)


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ('"war and peace"', Phrase("war and peace")),
        ("«Oʻtkan kunlar»", Phrase("Oʻtkan kunlar")),
        ("„Война и мир“", Phrase("Война и мир")),
        ("“Harry Potter”", Phrase("Harry Potter")),
        ("”Harry Potter”", Phrase("Harry Potter")),
        ('" war  and peace "', Phrase("war  and peace")),
        ('"AND OR NOT ( title:x"', Phrase("AND OR NOT ( title:x")),
        ('"she’r"', Phrase("she’r")),
        ('Tolstoy "war and peace"', A(T("Tolstoy"), Phrase("war and peace"))),
        ('war"peace"', A(T("war"), Phrase("peace"))),
        ('"" war', T("war")),
        ("«»", None),
    ],
)
def test_quotes_delimit_phrases(q: str, node: Node | None) -> None:
    result = parse(q)
    assert result.node == node and result.notice is None


@pytest.mark.parametrize("field", FIELDS)
def test_every_canonical_field_keeps_its_value_as_typed(field: str) -> None:
    value = "2015" if field == "year" else "Oʻzbek-tili"
    expected = Range("year", 2015, 2015) if field == "year" else T(value, field)
    assert parse(f"{field}:{value}") == ParseResult(expected, plain=False)


@pytest.mark.parametrize(
    ("alias", "field"),
    [
        # Uzbek (Latin and Cyrillic)
        ("sarlavha", "title"),
        ("muallif", "author"),
        ("mavzu", "subject"),
        ("til", "lang"),
        ("tur", "type"),
        ("seriya", "series"),
        ("nashriyot", "publisher"),
        ("сарлавҳа", "title"),
        ("муаллиф", "author"),
        ("мавзу", "subject"),
        ("fakultet", "faculty"),
        ("kolleksiya", "collection"),
        ("факультет", "faculty"),
        # Russian
        ("заглавие", "title"),
        ("название", "title"),
        ("автор", "author"),
        ("тема", "subject"),
        ("язык", "lang"),
        ("тип", "type"),
        ("серия", "series"),
        ("издательство", "publisher"),
        ("коллекция", "collection"),
        # English, in any case
        ("Title", "title"),
        ("AUTHOR", "author"),
        ("language", "lang"),
        ("Faculty", "faculty"),
        ("COLLECTION", "collection"),
    ],
)
def test_field_aliases_in_three_languages_map_to_canonical_names(alias: str, field: str) -> None:
    assert ALIASES[alias.casefold()] == field
    assert parse(f"{alias}:Qodiriy").node == T("Qodiriy", field)
    assert parse(f'{alias}:"Abdulla Qodiriy"').node == Phrase("Abdulla Qodiriy", field)


@pytest.mark.parametrize("alias", ["year", "yil", "год", "йил", "YIL", "Год"])
def test_year_aliases_give_ranges(alias: str) -> None:
    assert parse(f"{alias}:1990..2000").node == Range("year", 1990, 2000)


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("title:war", T("war", "title")),
        ("title: war", T("war", "title")),
        ('title:"war and peace"', Phrase("war and peace", "title")),
        ("title:«Ўтган кунлар»", Phrase("Ўтган кунлар", "title")),
        ("isbn:978-9943-26-911-8", T("978-9943-26-911-8", "isbn")),
        ("issn:0378-5955", T("0378-5955", "issn")),
        ("lang:uz", T("uz", "lang")),
        ("type:AND", T("AND", "type")),
        ("title:war:peace", T("war:peace", "title")),
        ("title:(war peace)", A(T("war", "title"), T("peace", "title"))),
        ("title:(war OR peace)", O(T("war", "title"), T("peace", "title"))),
        ("title:(war author:Tolstoy)", A(T("war", "title"), T("Tolstoy", "author"))),
        ('author:(Tolstoy "Lev N")', A(T("Tolstoy", "author"), Phrase("Lev N", "author"))),
        ("-author:Tolstoy", A(Not(T("Tolstoy", "author")))),
        ("author:-Tolstoy", T("-Tolstoy", "author")),
        ("author: -Tolstoy", A(Not(T("Tolstoy", "author")))),
        ("автор:Толстой тема:роман", A(T("Толстой", "author"), T("роман", "subject"))),
    ],
)
def test_field_values(q: str, node: Node) -> None:
    assert parse(q) == ParseResult(node, plain=False)


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("year:2015..2020", Range("year", 2015, 2020)),
        ("year:2015", Range("year", 2015, 2015)),
        ("year:..1990", Range("year", None, 1990)),
        ("year:2000..", Range("year", 2000, None)),
        ("year:2015-2020", Range("year", 2015, 2020)),
        ("year:2015–2020", Range("year", 2015, 2020)),
        ("year:2020..2020", Range("year", 2020, 2020)),
        ('year:"2015 .. 2020"', Range("year", 2015, 2020)),
        ("year:(2015 OR 2017)", O(Range("year", 2015, 2015), Range("year", 2017, 2017))),
        ("war year:..1869", A(T("war"), Range("year", None, 1869))),
        ("-year:..1990", A(Not(Range("year", None, 1990)))),
    ],
)
def test_year_ranges(q: str, node: Node) -> None:
    assert parse(q) == ParseResult(node, plain=False)


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("a AND b", A(T("a"), T("b"))),
        ("a && b", A(T("a"), T("b"))),
        ("a AND b c", A(T("a"), T("b"), T("c"))),
        ("a OR b", O(T("a"), T("b"))),
        ("a || b", O(T("a"), T("b"))),
        ("a OR b OR c", O(T("a"), T("b"), T("c"))),
        ("a NOT b", A(T("a"), Not(T("b")))),
        ("a AND NOT b", A(T("a"), Not(T("b")))),
        ("a !b", A(T("a"), Not(T("b")))),
        ("a ! b", A(T("a"), Not(T("b")))),
        ("a -b", A(T("a"), Not(T("b")))),
        ('a -"b c"', A(T("a"), Not(Phrase("b c")))),
        ("a -(b OR c)", A(T("a"), Not(O(T("b"), T("c"))))),
        ("a NOT (b c)", A(T("a"), Not(A(T("b"), T("c"))))),
        ("a +b", A(T("a"), A(T("b")))),
        ('+"b c" a', A(A(Phrase("b c")), T("a"))),
        ("+(a b)", A(T("a"), T("b"))),
        ("+a", A(T("a"))),
        ("a - b", A(T("a"), T("b"))),
        ("a + b", A(T("a"), T("b"))),
        ("(a)", T("a")),
        ("((a b))", A(T("a"), T("b"))),
        ("a (b c)", A(T("a"), A(T("b"), T("c")))),
        ("a () b", A(T("a"), T("b"))),
        ("NOT NOT a", T("a")),
        ("--a", T("a")),
        ("NOT -a", T("a")),
        ("http://kitob.uz", T("http://kitob.uz")),
        ("https://kitob.uz/a?b=c d", A(T("https://kitob.uz/a?b=c"), T("d"))),
        ("10:30 soat", A(T("10:30"), T("soat"))),
        ("o'zbek:til", T("o'zbek:til")),
        ("4:30", T("4:30")),
    ],
)
def test_boolean_operators_and_grouping(q: str, node: Node) -> None:
    result = parse(q)
    assert result.node == node and result.notice is None


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("a b OR c", O(A(T("a"), T("b")), T("c"))),
        ("a OR b c", O(T("a"), A(T("b"), T("c")))),
        ("a AND b OR c AND d", O(A(T("a"), T("b")), A(T("c"), T("d")))),
        ("NOT a OR b", O(Not(T("a")), T("b"))),
        ("NOT a b", A(Not(T("a")), T("b"))),
        ("a OR NOT b c", O(T("a"), A(Not(T("b")), T("c")))),
        ("(a OR b) c", A(O(T("a"), T("b")), T("c"))),
        ("a (b OR c) d", A(T("a"), O(T("b"), T("c")), T("d"))),
        ("a || b && c", O(T("a"), A(T("b"), T("c")))),
        ("-a OR b", O(Not(T("a")), T("b"))),
    ],
)
def test_not_binds_tighter_than_and_which_binds_tighter_than_or(q: str, node: Node) -> None:
    assert parse(q).node == node


@pytest.mark.parametrize(
    ("q", "node"),
    [
        ("-war", A(Not(T("war")))),
        ("NOT war", A(Not(T("war")))),
        ("!war", A(Not(T("war")))),
        ("(-war)", A(Not(T("war")))),
        ("-war -peace", A(Not(T("war")), Not(T("peace")))),
        ('-"war and peace"', A(Not(Phrase("war and peace")))),
        ("-title:war", A(Not(T("war", "title")))),
    ],
)
def test_a_query_of_exclusions_only_means_everything_except(q: str, node: Node) -> None:
    assert parse(q) == ParseResult(node, plain=False)


@pytest.mark.parametrize(
    ("q", "plain"),
    [
        ("war and peace", True),
        ("Ўтган кунлар", True),
        ('"war"', False),
        ("title:war", False),
        ("war OR peace", False),
        ("-war", False),
        ("+war", False),
        ("(war)", False),
    ],
)
def test_plain_says_whether_the_reader_used_any_syntax(q: str, plain: bool) -> None:
    assert parse(q).plain is plain


# --- malformed queries fall back to the words -------------------------------------------------


@pytest.mark.parametrize(
    ("q", "notice", "node"),
    [
        ('"war and peace', "unbalanced-quote", A(T("war"), T("and"), T("peace"))),
        ("«Oʻtkan kunlar", "unbalanced-quote", A(T("Oʻtkan"), T("kunlar"))),
        ("Oʻtkan kunlar»", "unbalanced-quote", A(T("Oʻtkan"), T("kunlar"))),
        ('title:"war', "unbalanced-quote", T("war")),
        ('war "peace" "', "unbalanced-quote", A(T("war"), T("peace"))),
        ('(a "b', "unbalanced-quote", A(T("a"), T("b"))),
        ("(war peace", "unbalanced-paren", A(T("war"), T("peace"))),
        ("war peace)", "unbalanced-paren", A(T("war"), T("peace"))),
        ("((war) OR peace", "unbalanced-paren", A(T("war"), T("peace"))),
        (")war(", "unbalanced-paren", T("war")),
        ("title:(war", "unbalanced-paren", T("war")),
        ("war AND", "dangling-operator", T("war")),
        ("AND war", "dangling-operator", T("war")),
        ("war OR", "dangling-operator", T("war")),
        ("OR war", "dangling-operator", T("war")),
        ("war OR OR peace", "dangling-operator", A(T("war"), T("peace"))),
        ("war AND AND peace", "dangling-operator", A(T("war"), T("peace"))),
        ("war AND OR peace", "dangling-operator", A(T("war"), T("peace"))),
        ("war NOT", "dangling-operator", T("war")),
        ("war && || peace", "dangling-operator", A(T("war"), T("peace"))),
        ("(AND war)", "dangling-operator", T("war")),
        ("war -()", "dangling-operator", T("war")),
        ('war -""', "dangling-operator", T("war")),
        ("title:", "dangling-operator", None),
        ("title: AND war", "dangling-operator", T("war")),
        ("NOT", "dangling-operator", None),
        ("foo:bar", "unknown-field", A(T("foo"), T("bar"))),
        ("Manba: internet", "unknown-field", A(T("Manba"), T("internet"))),
        ("war titel:peace", "unknown-field", A(T("war"), T("titel"), T("peace"))),
        ("муаллифи:Қодирий", "unknown-field", A(T("муаллифи"), T("Қодирий"))),
        ("year:abc", "bad-range", T("abc")),
        ("year:2020..2010", "bad-range", T("2020..2010")),
        ("year:..", "bad-range", T("..")),
        ("year:20155", "bad-range", T("20155")),
        ("year:1990..2000..2010", "bad-range", T("1990..2000..2010")),
        ('year:"recent"', "bad-range", T("recent")),
        ("war year:", "dangling-operator", T("war")),
    ],
)
def test_malformed_syntax_falls_back_to_the_words_with_a_notice(
    q: str, notice: str, node: Node | None
) -> None:
    assert parse(q) == ParseResult(node, plain=True, notice=notice)


def test_too_deep_nesting_falls_back_instead_of_overflowing_the_stack() -> None:
    q = "(" * 5000 + "war" + ")" * 5000
    assert parse(q) == ParseResult(T("war"), plain=True, notice="unbalanced-paren")
    assert parse("(" * 10 + "war" + ")" * 10).node == T("war")


def test_a_long_chain_of_negations_cancels_out() -> None:
    assert parse("NOT " * 5000 + "war").node == T("war")
    assert parse("-" * 5001 + "war").node == A(Not(T("war")))


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("", ""),
        ("war and peace", "war and peace"),
        ('title:"war and peace" -author:Tolstoy', "war and peace Tolstoy"),
        ("(a OR b) AND NOT c", "a b c"),
        ("a && b || !c", "a b c"),
        ("+o‘zbek -she’r", "o‘zbek she’r"),
        ("«Ўтган кунлар» автор:Қодирий", "Ўтган кунлар Қодирий"),
        ("foo:bar", "foo bar"),
        ("foo:bar:baz", "foo bar baz"),
        ("title:foo:bar", "foo bar"),
        ("AND:x", "x"),
        ("year:2015..2020 war", "2015..2020 war"),
        ("http://kitob.uz 10:30", "http://kitob.uz 10:30"),
        ('"unclosed (phrase', "unclosed phrase"),
        ("- + ! && ||", ""),
    ],
)
def test_plain_words_drop_all_syntax(q: str, words: str) -> None:
    assert plain_words(q) == words


# --- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "key"),
    [
        # ISBN-13, with and without hyphens or spaces
        ("9789943269118", "9789943269118"),
        ("978-9943-26-911-8", "9789943269118"),
        (" 978 9943 26 911 8 ", "9789943269118"),
        ("979-10-90636-07-1", "9791090636071"),
        ("ISBN 978-0-306-40615-7", "9780306406157"),
        ("isbn:9780306406157", "9780306406157"),
        # ISBN-10 becomes ISBN-13
        ("0-306-40615-2", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("0-8044-2957-X", "9780804429573"),
        ("080442957x", "9780804429573"),
        ("ISBN-10: 0-306-40615-2", "9780306406157"),
        # ISSN: 8 characters, uppercase, no hyphen
        ("0378-5955", "03785955"),
        ("2434-561X", "2434561X"),
        ("2434-561x", "2434561X"),
        ("ISSN 0378-5955", "03785955"),
    ],
)
def test_isbns_and_issns_with_valid_check_digits_are_normalised(q: str, key: str) -> None:
    assert looks_like_identifier(q) == key


@pytest.mark.parametrize(
    ("q", "key"),
    [
        ("0-306-40615-3", "0-306-40615-3"),  # ISBN-10, wrong check digit
        ("0306406153", "0306406153"),
        ("X306406152", "x306406152"),  # X only as the check digit
        ("9780306406158", "9780306406158"),  # ISBN-13, wrong check digit
        ("978-0-306-40615-8", "978-0-306-40615-8"),
        ("4600000000008", "4600000000008"),  # a valid EAN-13 but not an ISBN
        ("0378-5956", "0378-5956"),  # ISSN, wrong check digit
        ("03785955", "03785955"),  # no hyphen: not read as an ISSN
        ("KX-000123", "kx-000123"),
        ("  000123  ", "000123"),
        ("KX000123", "kx000123"),
        ("Ж-0042", "ж-0042"),
        ("81-3 T 23", "81-3 t 23"),
        ("84(5Ўзб)6  Т 23", "84(5ўзб)6 т 23"),
        ("QA76.73 .P98 L57 2019", "qa76.73 .p98 l57 2019"),
        ("821.512.133 T 23", "821.512.133 t 23"),
    ],
)
def test_invalid_isbns_barcodes_and_call_numbers_become_casefolded_keys(q: str, key: str) -> None:
    assert looks_like_identifier(q) == key


@pytest.mark.parametrize(
    "q",
    [
        "",
        "   ",
        "war",
        "war and peace",
        "abc",
        "Qodiriy",
        "a1",
        "x12",
        "Harry Potter 2",
        "1984 Orwell",
        "Oʻtkan kunlar 2019",
        "1 2 3 4 5 6 7",
        "year:2015",
        "title:1984",
        "-1984",
        '"1984"',
        "«1984»",
        "+123456",
    ],
)
def test_words_and_query_syntax_are_not_identifiers(q: str) -> None:
    assert looks_like_identifier(q) is None


# --- nothing a reader types makes parse raise -------------------------------------------------

QUOTES = '"«»„“”'
PIECES = [
    *"():-+!&|.' `‘’ʻ",
    *"  ",
    *"abcxyzoʻgАБёж0129",
    "AND",
    "OR",
    "NOT",
    "&&",
    "||",
    "and",
    "title:",
    "year:",
    "автор:",
    "foo:",
    "..",
    "2015",
    "http://",
    "o'zbek",
]


def _is_tree(node: object) -> bool:
    if isinstance(node, Term | Phrase):
        return isinstance(node.text, str) and (node.field is None or node.field in FIELDS)
    if isinstance(node, Range):
        return node.field == "year" and (node.lo is not None or node.hi is not None)
    if isinstance(node, And | Or):
        return bool(node.children) and all(_is_tree(child) for child in node.children)
    if isinstance(node, Not):
        return _is_tree(node.child)
    return False


def test_random_queries_never_raise_and_always_give_a_tree_or_nothing() -> None:
    rng = random.Random(20240601)
    for _ in range(2000):
        pieces = (rng.choice(QUOTES if rng.random() < 0.05 else PIECES) for _ in range(24))
        q = "".join(pieces)[: rng.randint(0, 40)]
        result = parse(q)
        assert isinstance(result, ParseResult), q
        assert result.node is None or _is_tree(result.node), q
        assert result.notice is None or result.notice in NOTICES, q
        assert result.notice is None or result.plain, q
        assert not isinstance(result.node, Not), q
        words = plain_words(q)
        assert parse(words) == ParseResult(parse(words).node, plain=True, notice=None), q
        key = looks_like_identifier(q)
        assert key is None or (key and key == key.strip()), q


def test_a_language_named_in_any_script_becomes_its_code() -> None:
    from kitobxon.search import plan

    for typed, code in (("русский", "rus"), ("o'zbek", "uzb"), ("English", "eng"), ("kaa", "kaa")):
        assert plan._keyword_values("lang", typed) == (code,), typed
