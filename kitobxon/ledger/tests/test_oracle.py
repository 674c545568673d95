"""The tree against an independent implementation: pymerkle agrees with merkle.py on every root
and every proof of every tree up to 300 leaves, on random larger trees, and through the database.

pymerkle 6.1.0 is a test-only dependency (GPL: nothing outside tests imports it). With its
"security" on — the default — it hashes as RFC 9162 does: a leaf is SHA-256(0x00 || entry),
a node SHA-256(0x01 || left || right), the empty tree SHA-256(). It numbers leaves from 1, and
its inclusion proof's path is the leaf followed by the RFC's path. Its consistency proof is not
the RFC's (it lists the older tree's subroots too, and sends m == k to the right), so the RFC's
proof is spelled out here from pymerkle's range hashes by the recursion of RFC 9162 §2.1.4.1,
and pymerkle's own proof must verify against our roots with pymerkle's verifier.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Mapping, Sequence

import pymerkle
import pytest
from django.db import transaction

from kitobxon.ledger import merkle, queries, services
from kitobxon.ledger.models import Entry

SIZE = 300
DAMAGED = 40
"""Damaged proofs are tried for every tree to this size, with every wrong index and size."""

Nodes = dict[merkle.NodeKey, bytes]


def _entries(count: int) -> list[bytes]:
    return [f'{{"kind":"loan","n":{i}}}'.encode() for i in range(count)]


class Oracle:
    """pymerkle's tree over the same entries, asked in the log's 0-based terms."""

    def __init__(self, entries: list[bytes]) -> None:
        # threshold=1 caches the subroots of every width, not only of 128 leaves and more.
        self.tree = pymerkle.InmemoryTree(algorithm="sha256", threshold=1)
        for entry in entries:
            self.tree.append_entry(entry)
        self._ranges: dict[tuple[int, int], bytes] = {}

    def root(self, size: int) -> bytes:
        return bytes(self.tree.get_state(size))

    def inclusion(self, index: int, size: int) -> pymerkle.MerkleProof:
        return self.tree.prove_inclusion(index + 1, size)

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) (pymerkle's ``_get_root``), remembered: the proofs share ranges."""
        if (start, end) not in self._ranges:
            self._ranges[start, end] = bytes(self.tree._get_root(start, end))
        return self._ranges[start, end]

    def consistency(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[n]) of RFC 9162 §2.1.4.1, recursion as written there."""

        def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
            n = end - start
            if m == n:
                return [] if whole else [self.mth(start, end)]
            k = 1 << ((n - 1).bit_length() - 1)
            if m <= k:
                return [*subproof(m, start, start + k, whole), self.mth(start + k, end)]
            return [*subproof(m - k, start + k, end, False), self.mth(start, start + k)]

        return subproof(m, 0, n, True)


def _stored(entries: list[bytes]) -> Nodes:
    """The nodes the log would store for these entries: leaves and every completed subtree."""
    nodes: Nodes = {}
    tree = merkle.CompactRange()
    for index, entry in enumerate(entries):
        nodes[(0, index)] = merkle.leaf_hash(entry)
        tree.append(nodes[(0, index)], lambda level, i, value: nodes.__setitem__((level, i), value))
    return nodes


@pytest.fixture(scope="module")
def entries() -> list[bytes]:
    return _entries(SIZE)


@pytest.fixture(scope="module")
def oracle(entries: list[bytes]) -> Oracle:
    return Oracle(entries)


@pytest.fixture(scope="module")
def nodes(entries: list[bytes]) -> Nodes:
    return _stored(entries)


def _check_inclusion(oracle: Oracle, nodes: Nodes, index: int, size: int, root: bytes) -> None:
    leaf = nodes[(0, index)]
    ours = merkle.inclusion_proof(index, size, nodes)
    theirs = oracle.inclusion(index, size)
    assert theirs.path == [leaf, *ours], (index, size)
    pymerkle.verify_inclusion(leaf, root, theirs)
    merkle.verify_inclusion(index, size, leaf, ours, oracle.root(size))


def _check_consistency(
    oracle: Oracle, nodes: Nodes, m: int, n: int, roots: Mapping[int, bytes] | Sequence[bytes]
) -> None:
    """``roots[size]`` are ours; pymerkle's own (differently shaped) proof must lead to them."""
    ours = merkle.consistency_proof(m, n, nodes) if m < n else []
    assert ours == oracle.consistency(m, n), (m, n)
    merkle.verify_consistency(m, n, oracle.root(m), oracle.root(n), ours)
    pymerkle.verify_consistency(roots[m], roots[n], oracle.tree.prove_consistency(m, n))


def _roots(nodes: Nodes, sizes: int) -> list[bytes]:
    return [merkle.fold([nodes[key] for key in merkle.root_nodes(n)]) for n in range(sizes + 1)]


def test_pymerkle_hashes_as_rfc_9162_does() -> None:
    tree = Oracle([b"kitob"]).tree
    assert tree.security and tree.prefx00 == b"\x00" and tree.prefx01 == b"\x01"
    assert tree.get_state(1) == hashlib.sha256(b"\x00kitob").digest() == merkle.leaf_hash(b"kitob")
    assert tree.get_state(0) == merkle.EMPTY_ROOT == merkle.root_of([])
    two = Oracle([b"a", b"b"]).root(2)
    assert two == merkle.node_hash(merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b"))


def test_roots_and_every_inclusion_proof_agree_for_every_size_to_300(
    oracle: Oracle, nodes: Nodes
) -> None:
    leaves = [nodes[(0, i)] for i in range(SIZE)]
    for size, root in enumerate(_roots(nodes, SIZE)):
        assert root == merkle.root_of(leaves[:size]) == oracle.root(size), size
        for index in range(size):
            _check_inclusion(oracle, nodes, index, size, root)


def test_consistency_proofs_agree_for_every_pair_of_sizes_to_300(
    oracle: Oracle, nodes: Nodes
) -> None:
    roots = _roots(nodes, SIZE)
    for n in range(1, SIZE + 1):
        for m in range(1, n + 1):
            _check_consistency(oracle, nodes, m, n, roots)


def test_random_larger_trees_agree() -> None:
    rng = random.Random(9162)
    entries = _entries(20_000)
    oracle, nodes = Oracle(entries), _stored(entries)
    for size in sorted(rng.sample(range(1_000, 20_001), 5)):
        firsts = [size - 1, size, *(1 << b for b in range(size.bit_length()))]
        firsts += rng.sample(range(1, size), 60)
        roots = {n: merkle.fold([nodes[key] for key in merkle.root_nodes(n)]) for n in firsts}
        assert roots[size] == oracle.root(size), size
        for index in [0, size - 1, *rng.sample(range(size), 60)]:
            _check_inclusion(oracle, nodes, index, size, roots[size])
        for m in firsts:
            _check_consistency(oracle, nodes, m, size, roots)


@pytest.mark.django_db
def test_the_stored_tree_agrees_through_the_database() -> None:
    """Entries recorded and integrated in uneven batches, then proved through the queries."""
    rng = random.Random(5)
    recorded: list[Entry] = []
    while len(recorded) < SIZE:
        with transaction.atomic():
            for _ in range(rng.randint(1, 23)):
                n = len(recorded)
                recorded.append(
                    services.record("loan", subject=f"loan:{n}", data={"item": n}, reader=n % 7)
                )
        services.integrate(batch=rng.choice([1, 2, 3, 7, 16, 50]), max_batches=rng.choice([1, 3]))
    services.integrate(batch=rng.choice([5, 64]))
    size = len(recorded)
    stored = list(Entry.objects.order_by("leaf_index").values_list("id", "leaf_index"))
    assert stored == [(entry.id, index) for index, entry in enumerate(recorded)]

    oracle = Oracle([entry.body.encode() for entry in recorded])
    assert queries.head().size == size
    assert queries.head().root_hash == oracle.root(size)
    for n in range(1, size + 1):
        root = queries.root_at(n)
        assert root == oracle.root(n), n
        for index in sorted({0, n - 1, n // 2, rng.randrange(n)}):
            proof = queries.inclusion_proof(index, n)
            assert oracle.inclusion(index, n).path[1:] == proof, (index, n)
            merkle.verify_inclusion(index, n, bytes(recorded[index].leaf_hash), proof, root)
        for m in sorted({1, max(n // 2, 1), max(n - 1, 1), n, rng.randint(1, n)}):
            proof = queries.consistency_proof(m, n)
            assert proof == oracle.consistency(m, n), (m, n)
            merkle.verify_consistency(m, n, oracle.root(m), root, proof)


# --- What must not verify ---------------------------------------------------------------------


def _flipped(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit), *value[1:]])


def _each_flipped(proof: list[bytes]) -> Iterator[list[bytes]]:
    """The proof with one of its hashes damaged, for each hash in turn."""
    for position, value in enumerate(proof):
        yield [*proof[:position], _flipped(value, position % 8), *proof[position + 1 :]]


def test_a_damaged_inclusion_proof_is_refused(nodes: Nodes) -> None:
    """A flipped hash, leaf or root, another index or size, a hash too few or too many."""

    def refused(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> None:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaf, path, root)

    roots = _roots(nodes, DAMAGED + 1)
    extra = nodes[(0, 299)]
    for size in range(1, DAMAGED + 1):
        root = roots[size]
        for index in range(size):
            leaf, proof = nodes[(0, index)], merkle.inclusion_proof(index, size, nodes)
            merkle.verify_inclusion(index, size, leaf, proof, root)
            refused(index, size, _flipped(leaf), proof, root)
            refused(index, size, leaf, proof, _flipped(root, 7))
            for damaged in _each_flipped(proof):
                refused(index, size, leaf, damaged, root)
            for wrong in range(size + 1):
                if wrong != index:
                    refused(wrong, size, leaf, proof, root)
            for other in range(1, DAMAGED + 2):
                if other != size:
                    refused(index, other, leaf, proof, roots[other])
            if proof:
                refused(index, size, leaf, proof[:-1], root)
            refused(index, size, leaf, [*proof, extra], root)
            refused(index, size, leaf, [extra, *proof], root)


def test_a_damaged_consistency_proof_is_refused(nodes: Nodes) -> None:
    """A flipped hash or root, other sizes, a hash too few or too many, the sizes swapped."""

    def refused(m: int, n: int, first: bytes, second: bytes, proof: list[bytes]) -> None:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(m, n, first, second, proof)

    roots = _roots(nodes, DAMAGED + 1)
    extra = nodes[(0, 299)]
    for n in range(1, DAMAGED + 1):
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(m, n, nodes) if m < n else []
            merkle.verify_consistency(m, n, roots[m], roots[n], proof)
            refused(m, n, _flipped(roots[m]), roots[n], proof)
            refused(m, n, roots[m], _flipped(roots[n], 3), proof)
            for damaged in _each_flipped(proof):
                refused(m, n, roots[m], roots[n], damaged)
            for other in range(1, DAMAGED + 2):
                if other != m and other <= n:
                    refused(other, n, roots[other], roots[n], proof)
                if other != n and other >= m:
                    refused(m, other, roots[m], roots[other], proof)
            if proof:
                refused(m, n, roots[m], roots[n], proof[:-1])
            refused(m, n, roots[m], roots[n], [*proof, extra])
            if m < n:
                refused(n, m, roots[n], roots[m], proof)
