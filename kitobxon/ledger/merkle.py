"""RFC 9162 Merkle tree hashing, proofs and their verification, as pure functions.

The tree over leaves ``D[0:n]`` is the one of RFC 9162 §2.1.1: a leaf hashes as
``SHA-256(0x00 || entry)``, an interior node as ``SHA-256(0x01 || left || right)``, and a tree
of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``.

Stored trees keep only *perfect* subtrees: the node ``(level, index)`` is the hash of the
``2**level`` leaves starting at ``index * 2**level``. Every range the RFC's proofs ask for
(``MTH(D[a:b])``) is a right fold of a few such nodes, so a proof is computed by listing the
nodes it needs (:func:`inclusion_nodes`, :func:`consistency_nodes`), fetching them in one go
and folding (:func:`inclusion_proof`, :func:`consistency_proof`). The verifiers follow
RFC 9162 §2.1.3.2 and §2.1.4.2 word for word; ``static/ledger/merkle.js`` is their browser twin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
NodeKey = tuple[int, int]
"""(level, index): the perfect subtree of ``2**level`` leaves from ``index * 2**level``."""

Range = tuple[int, int]
"""Leaves ``[start, end)``."""


class ProofError(ValueError):
    """A proof that does not prove what it claims."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() — the root of the empty tree."""


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[NodeKey]:
    """The aligned perfect subtrees making up ``D[start:end]``, largest first.

    Every range in RFC 9162's recursions starts at a multiple of its largest power-of-two
    part, which is what makes this decomposition exist.
    """
    keys: list[NodeKey] = []
    position, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        size = 1 << level
        if position % size:
            raise ValueError(f"range [{start}, {end}) is not aligned to {size}")
        keys.append((level, position >> level))
        position += size
        remaining -= size
    return keys


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees, largest first: H(p1 || H(p2 || ... pk))."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def range_hash(start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    return fold([nodes[key] for key in perfect_subtrees(start, end)])


def root_nodes(size: int) -> list[NodeKey]:
    return perfect_subtrees(0, size)


# --- Which ranges a proof needs ---------------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1 as the ranges whose hashes form it, leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start = start + k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 as ranges, in proof order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second}")
    ranges: list[Range] = []
    start, end, m, whole = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                ranges.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    ranges.reverse()
    return ranges


def nodes_for(ranges: Iterable[Range]) -> set[NodeKey]:
    keys: set[NodeKey] = set()
    for start, end in ranges:
        keys.update(perfect_subtrees(start, end))
    return keys


def inclusion_nodes(index: int, size: int) -> set[NodeKey]:
    return nodes_for(inclusion_ranges(index, size))


def consistency_nodes(first: int, second: int) -> set[NodeKey]:
    return nodes_for(consistency_ranges(first, second))


def inclusion_proof(index: int, size: int, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    return [range_hash(a, b, nodes) for a, b in inclusion_ranges(index, size)]


def consistency_proof(first: int, second: int, nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    return [range_hash(a, b, nodes) for a, b in consistency_ranges(first, second)]


# --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root that ``path`` proves ``leaf`` (at ``index``) is included under."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless ``proof`` shows tree ``second`` extends tree ``first``."""
    if not 0 <= first <= second:
        raise ProofError(f"a tree of {second} cannot extend one of {first}")
    if first == second:
        if proof:
            raise ProofError("trees of the same size need an empty proof")
        if first_root != second_root:
            raise ProofError("trees of the same size have different roots")
        return
    if first == 0:
        if proof:
            raise ProofError("the empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != first_root:
        raise ProofError("the consistency proof does not lead to the older root")
    if sr != second_root:
        raise ProofError("the consistency proof does not lead to the newer root")


# --- Building trees ---------------------------------------------------------------------------


class CompactRange:
    """The right edge of a growing tree: one hash per perfect subtree of the current size.

    Appending a leaf merges equal-sized subtrees, and every merge is a new stored node —
    which is how the log grows its node table (and how `ledger verify` rebuilds it).
    """

    __slots__ = ("hashes", "levels", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        self.size = size
        self.levels = [level for level, _ in root_nodes(size)]
        self.hashes = list(hashes)
        if len(self.hashes) != len(self.levels):
            raise ValueError(f"a tree of {size} needs {len(self.levels)} edge hashes")

    def append(self, leaf: bytes, emit: Callable[[int, int, bytes], None] | None = None) -> None:
        """Add a leaf hash; ``emit(level, index, hash)`` is called for each completed node."""
        levels, hashes = self.levels, self.hashes
        levels.append(0)
        hashes.append(leaf)
        position = self.size
        self.size += 1
        while len(levels) > 1 and levels[-1] == levels[-2]:
            right = hashes.pop()
            level = levels.pop()
            merged = node_hash(hashes[-1], right)
            hashes[-1] = merged
            levels[-1] = level + 1
            if emit is not None:
                emit(level + 1, position >> (level + 1), merged)

    def root(self) -> bytes:
        return fold(self.hashes)


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH of a sequence of leaf hashes."""
    tree = CompactRange()
    for leaf in leaves:
        tree.append(leaf)
    return tree.root()
