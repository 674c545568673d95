"""The ledger's public JSON API: entries, RFC 9162 proofs, the head and file registrations."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from kitobxon.ledger import merkle, services, subjects
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SHA_A = hashlib.sha256(b"dissertation").hexdigest()
SHA_B = hashlib.sha256(b"e-book").hexdigest()


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


@pytest.fixture
def books() -> Iterator[dict[str, subjects.Described]]:
    """A resolver for "book:<id>" subjects, standing in for the catalogue's "record:"."""
    known: dict[str, subjects.Described] = {}
    subjects.register("book", known.get)
    yield known
    subjects.unregister("book")


def _loans(n: int) -> list[Entry]:
    entries = [
        services.record("loan", subject=f"loan:{i}", data={"item": i}, reader=i, at=AT)
        for i in range(n)
    ]
    services.integrate()
    return entries


def _get(client: Client, url: str, **params: Any) -> tuple[int, Any]:
    response = client.get(url, params)
    return response.status_code, response.json()


def test_the_head_of_an_empty_log_is_the_empty_root(client: Client) -> None:
    assert _get(client, "/api/ledger/head") == (
        200,
        {"size": 0, "root_hash": b64(hashlib.sha256(b"").digest())},
    )


def test_the_head_is_the_integrated_tree_not_the_queue(
    client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    entries = _loans(3)
    services.record("loan", subject="loan:queued", at=AT)
    root = merkle.root_of(merkle.leaf_hash(e.body.encode()) for e in entries)
    with django_assert_num_queries(1):
        assert _get(client, "/api/ledger/head") == (200, {"size": 3, "root_hash": b64(root)})


def test_an_entry_is_served_with_its_body_exactly_as_hashed(
    client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    entries = _loans(2)
    body = entries[1].body
    assert body.startswith('{"data":{"item":1},"kind":"loan","reader":"')
    with django_assert_num_queries(1):
        status, data = _get(client, "/api/ledger/entries/1")
    assert (status, data) == (
        200,
        {
            "index": 1,
            "kind": "loan",
            "subject": "loan:1",
            "time": "2026-03-01T09:30:00Z",
            "body": body,
            "leaf_hash": b64(hashlib.sha256(b"\x00" + body.encode()).digest()),
        },
    )


@pytest.mark.parametrize("index", ["2", "-1", "999999999999"])
def test_an_entry_not_in_the_tree_is_not_found(client: Client, index: str) -> None:
    _loans(2)
    services.record("loan", subject="loan:queued", at=AT)  # queued, so index 2 is not yet
    assert _get(client, f"/api/ledger/entries/{index}")[0] == 404
    assert client.get(f"/api/ledger/entries/{index}").json().keys() == {"detail"}


def test_an_inclusion_proof_has_the_exact_rfc_9162_path(
    client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    entries = _loans(5)
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    with django_assert_num_queries(4):  # head, leaves, inner nodes, the entry itself
        status, data = _get(client, "/api/ledger/proof/inclusion", index=2, size=5)
    # RFC 9162 §2.1.3.1: leaf 2 of 5 is proven by leaf 3, then MTH(D[0:2]), then leaf 4.
    assert (status, data) == (
        200,
        {
            "index": 2,
            "size": 5,
            "leaf_hash": b64(leaves[2]),
            "proof": [
                b64(leaves[3]),
                b64(merkle.node_hash(leaves[0], leaves[1])),
                b64(leaves[4]),
            ],
        },
    )


def test_every_inclusion_proof_verifies_against_the_root_of_its_size(client: Client) -> None:
    entries = _loans(13)
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    for size in range(1, 14):
        root = merkle.root_of(leaves[:size])
        for index in range(size):
            data = client.get("/api/ledger/proof/inclusion", {"index": index, "size": size}).json()
            assert unb64(data["leaf_hash"]) == leaves[index]
            proof = [unb64(node) for node in data["proof"]]
            merkle.verify_inclusion(index, size, leaves[index], proof, root)


def test_an_inclusion_proof_defaults_to_the_tree_now(
    client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    entries = _loans(4)
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    with django_assert_num_queries(5):  # the head twice, leaf 1, node (1, 1), the entry
        status, data = _get(client, "/api/ledger/proof/inclusion", index=0)
    assert status == 200
    assert (data["size"], data["leaf_hash"]) == (4, b64(leaves[0]))
    assert data["proof"] == [b64(leaves[1]), b64(merkle.node_hash(leaves[2], leaves[3]))]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"index": 3, "size": 3}, "Entry 3 is not in a tree of 3 entries."),
        ({"index": -1, "size": 3}, "Entry -1 is not in a tree of 3 entries."),
        ({"index": 3}, "Entry 3 is not in a tree of 3 entries."),
        ({"index": 0, "size": 0}, "Entry 0 is not in a tree of 0 entries."),
        ({"index": 1, "size": 4}, "The ledger is not that large yet."),
    ],
)
def test_an_impossible_inclusion_proof_is_refused_with_a_reason(
    client: Client, params: dict[str, int], detail: str
) -> None:
    _loans(3)
    client.cookies["kitobxon_language"] = "en"
    assert _get(client, "/api/ledger/proof/inclusion", **params) == (422, {"detail": detail})


def test_a_consistency_proof_has_the_exact_rfc_9162_nodes(
    client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    entries = _loans(7)
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    with django_assert_num_queries(3):  # head, leaves, inner nodes
        status, data = _get(client, "/api/ledger/proof/consistency", **{"from": 3, "to": 7})
    # RFC 9162 §2.1.4.1 (its example, from 3 to 7): c, d, g, l — here leaf 2, leaf 3,
    # MTH(D[0:2]) and MTH(D[4:7]).
    assert (status, data) == (
        200,
        {
            "from": 3,
            "to": 7,
            "proof": [
                b64(leaves[2]),
                b64(leaves[3]),
                b64(merkle.node_hash(leaves[0], leaves[1])),
                b64(merkle.root_of(leaves[4:7])),
            ],
        },
    )


def test_every_consistency_proof_verifies(client: Client) -> None:
    entries = _loans(11)
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    for second in range(1, 12):
        for first in range(1, second + 1):
            data = client.get("/api/ledger/proof/consistency", {"from": first, "to": second})
            proof = [unb64(node) for node in data.json()["proof"]]
            merkle.verify_consistency(
                first,
                second,
                merkle.root_of(leaves[:first]),
                merkle.root_of(leaves[:second]),
                proof,
            )
    assert client.get("/api/ledger/proof/consistency", {"from": 4, "to": 4}).json() == {
        "from": 4,
        "to": 4,
        "proof": [],
    }


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            {"from": 0, "to": 3},
            "A consistency proof goes from a smaller tree to a larger one, from size 1 up.",
        ),
        (
            {"from": 3, "to": 2},
            "A consistency proof goes from a smaller tree to a larger one, from size 1 up.",
        ),
        ({"from": 2, "to": 4}, "The ledger is not that large yet."),
    ],
)
def test_an_impossible_consistency_proof_is_refused_with_a_reason(
    client: Client, params: dict[str, int], detail: str
) -> None:
    _loans(3)
    client.cookies["kitobxon_language"] = "en"
    assert _get(client, "/api/ledger/proof/consistency", **params) == (422, {"detail": detail})


def test_a_consistency_proof_needs_both_sizes(client: Client) -> None:
    client.cookies["kitobxon_language"] = "en"
    status, data = _get(client, "/api/ledger/proof/consistency", to=3)
    assert status == 422
    assert data["detail"] == "The request is not valid."
    assert data["errors"][0]["loc"] == ["query", "from"]


def test_a_files_registrations_name_their_record_oldest_first(
    client: Client,
    books: dict[str, subjects.Described],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    books["7"] = subjects.Described("Oʻtkan kunlar", "/records/7/")
    first = services.register_file(
        subject="file:1", path="a.pdf", sha256=SHA_A, size=12, belongs_to="book:7"
    )
    services.register_file(subject="file:2", path="b.pdf", sha256=SHA_B, size=6)
    services.integrate()
    again = services.register_file(
        subject="file:3", path="c.pdf", sha256=SHA_A.upper(), size=12, replaces=True
    )
    services.record("loan", subject="loan:1", sha256=SHA_A)  # not a registration
    with django_assert_num_queries(1):
        status, data = _get(client, f"/api/ledger/files/{SHA_A}")
    assert status == 200
    assert data == [
        {
            "index": 0,
            "subject": "file:1",
            "record": "book:7",
            "record_title": "Oʻtkan kunlar",
            "record_url": "/records/7/",
            "time": first.body.split('"time":"')[1][:20],
            "body": first.body,
            "leaf_hash": b64(merkle.leaf_hash(first.body.encode())),
        },
        {
            "index": None,
            "subject": "file:3",
            "record": "",
            "record_title": "",
            "record_url": "",
            "time": again.body.split('"time":"')[1][:20],
            "body": again.body,
            "leaf_hash": b64(merkle.leaf_hash(again.body.encode())),
        },
    ]
    assert f'"sha256":"{SHA_A}"' in again.body
    assert _get(client, f"/api/ledger/files/{SHA_A.upper()}")[1] == data


def test_a_file_never_registered_has_no_registrations(client: Client) -> None:
    assert _get(client, f"/api/ledger/files/{SHA_B}") == (200, [])


@pytest.mark.parametrize("value", ["abc", "g" * 64, "a" * 65, "%20" + "a" * 64])
def test_a_malformed_hash_is_refused(client: Client, value: str) -> None:
    client.cookies["kitobxon_language"] = "en"
    assert _get(client, f"/api/ledger/files/{value}") == (
        422,
        {"detail": "A SHA-256 hash is 64 hexadecimal digits."},
    )


def test_a_record_unknown_to_its_app_or_with_an_unsafe_link_is_named_safely(
    client: Client, books: dict[str, subjects.Described]
) -> None:
    books["1"] = subjects.Described('<b>"Hostile"</b>', "javascript:alert(1)")
    services.register_file(subject="file:1", path="a", sha256=SHA_A, size=1, belongs_to="book:1")
    services.register_file(subject="file:2", path="b", sha256=SHA_A, size=1, belongs_to="book:2")
    services.register_file(subject="file:3", path="c", sha256=SHA_A, size=1, belongs_to="nobody:3")
    named = [
        (r["record"], r["record_title"], r["record_url"])
        for r in client.get(f"/api/ledger/files/{SHA_A}").json()
    ]
    assert named == [
        ("book:1", '<b>"Hostile"</b>', ""),
        ("book:2", "", ""),
        ("nobody:3", "", ""),
    ]


def test_subjects_are_described_by_the_resolver_of_their_prefix(
    books: dict[str, subjects.Described],
) -> None:
    books["12"] = subjects.Described("Kitob", "https://kutubxona.example/records/12/")
    assert subjects.describe("book:12") == books["12"]
    assert subjects.describe("book:13") is None
    assert subjects.describe("book") is None
    assert subjects.describe("loan:12") is None
    books["14"] = subjects.Described("Kitob", "//evil.example/")
    assert subjects.describe("book:14") == subjects.Described("Kitob", "")
