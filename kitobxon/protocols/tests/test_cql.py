"""The CQL parser against the cql-java regression suite (../shared/data/cql-regression).

Each ``NN/MM.cql`` comes with ``NN/MM.xcql``: the expected XCQL tree, or for the negative cases
the parser's error message instead of XML. Trees are compared structurally, whitespace between
elements ignored and the text of leaf elements exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from kitobxon.protocols import cql

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "cql-regression"
CASES = sorted(DATA.glob("regression/*/*.cql")) if DATA.is_dir() else []


def _shape(element: etree._Element) -> tuple[object, ...]:
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return (element.tag, element.text or "")
    return (element.tag, tuple(_shape(child) for child in children))


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_the_regression_suite_is_present() -> None:
    if not DATA.is_dir():
        pytest.skip(f"the shared CQL regression data is absent ({DATA} not found)")
    assert len(CASES) == 92


@pytest.mark.parametrize("path", CASES, ids=[_case_id(p) for p in CASES])
def test_regression_case_parses_to_the_expected_xcql(path: Path) -> None:
    query = path.read_text(encoding="utf-8")
    expected = path.with_suffix(".xcql").read_text(encoding="utf-8")
    if not expected.lstrip().startswith("<"):
        with pytest.raises(cql.CQLError) as raised:
            cql.parse(query)
        assert raised.value.code == cql.SYNTAX_ERROR
        assert raised.value.message == expected.strip()
        return
    tree = cql.xcql(cql.parse(query))
    assert _shape(tree) == _shape(etree.fromstring(expected.encode("utf-8")))


def test_booleans_are_left_associative_with_equal_precedence() -> None:
    node = cql.parse("a or b and c")
    assert isinstance(node, cql.Boolean) and node.value == "and"
    assert isinstance(node.left, cql.Boolean) and node.left.value == "or"


def test_index_and_relation_carry_into_a_parenthesised_group() -> None:
    node = cql.parse('dc.title any ("fish" or chips)')
    assert isinstance(node, cql.Boolean)
    assert node.left == cql.SearchClause("dc.title", cql.Relation("any"), "fish")
    assert node.right == cql.SearchClause("dc.title", cql.Relation("any"), "chips")


def test_keywords_are_case_insensitive() -> None:
    node = cql.parse("cat AND dog SORTBY dc.title/sort.descending")
    assert isinstance(node, cql.Sorted)
    assert node.keys == (cql.SortKey("dc.title", (cql.Modifier("sort.descending"),)),)
    assert isinstance(node.child, cql.Boolean) and node.child.value == "and"


@pytest.mark.parametrize(
    "query",
    ['"unterminated', "title =", "a and", "(a or b", "a b)", "title any/", "a sortby", "=cat"],
)
def test_malformed_queries_are_syntax_errors(query: str) -> None:
    with pytest.raises(cql.CQLError) as raised:
        cql.parse(query)
    assert raised.value.code == 10


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(cql.CQLError):
        cql.parse("(" * 500 + "a" + ")" * 500)
