"""The log: entries queue in the caller's transaction, integrate into one RFC 9162 tree."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from kitobxon.ledger import merkle, queries, services
from kitobxon.ledger.errors import TreeTooSmall, UnknownEntryKind
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db


def _record(n: int) -> list[Entry]:
    return [
        services.record("loan", subject=f"loan:{i}", data={"item": i}, reader=i % 3)
        for i in range(n)
    ]


def test_an_entry_is_queued_then_integrated_in_order() -> None:
    entries = _record(5)
    assert all(e.leaf_index is None for e in entries)
    assert services.integrate() == 5
    indices = list(Entry.objects.order_by("id").values_list("leaf_index", flat=True))
    assert indices == [0, 1, 2, 3, 4]
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    assert queries.head().size == 5
    assert queries.head().root_hash == merkle.root_of(leaves)
    assert services.integrate() == 0


def test_an_entry_rolled_back_with_its_change_never_reaches_the_log() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record("loan", subject="loan:1", reader=1)
        raise RuntimeError("the loan failed")
    assert services.integrate() == 0
    assert Entry.objects.count() == 0


def test_the_body_is_canonical_json_naming_no_reader() -> None:
    entry = services.record(
        "loan", subject="loan:7", data={"item": "3000012", "due": "2026-12-18"}, reader=735190
    )
    body = json.loads(entry.body)
    assert entry.body == json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    reader = services.pseudonym(735190, "loan:7")
    assert body["reader"] == reader != services.pseudonym(735190, "loan:8")
    # Six digits in a row cannot come from the timestamp, only from a leaked reader id.
    assert "735190" not in entry.body.replace(reader, "")
    assert queries.was_recorded("loan", "loan:7", 735190) == entry
    assert queries.was_recorded("loan", "loan:7", 735191) is None


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(UnknownEntryKind):
        services.record("coffee", subject="x")


@pytest.mark.parametrize("batch", [1, 3, 7, 1000])
def test_proofs_from_the_stored_tree_verify_whatever_the_batch_size(batch: int) -> None:
    entries = _record(37)
    services.integrate(batch=batch)
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    for size in range(1, 38):
        root = queries.root_at(size)
        assert root == merkle.root_of(leaves[:size])
        for index in range(size):
            proof = queries.inclusion_proof(index, size)
            merkle.verify_inclusion(index, size, leaves[index], proof, root)
        for first in range(1, size + 1):
            proof = queries.consistency_proof(first, size)
            merkle.verify_consistency(first, size, queries.root_at(first), root, proof)


def test_proofs_beyond_the_tree_are_refused() -> None:
    _record(3)
    services.integrate()
    with pytest.raises(TreeTooSmall):
        queries.inclusion_proof(0, 4)
