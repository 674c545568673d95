"""Reading the log. The log is public (it names no reader); fixity reports are for staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from kitobxon.ledger import merkle
from kitobxon.ledger.errors import TreeTooSmall
from kitobxon.ledger.models import Checkpoint, Entry, FixityRun, TreeHead
from kitobxon.ledger.services import pseudonym, stored_nodes


@dataclass(frozen=True)
class Head:
    size: int
    root_hash: bytes


def head() -> Head:
    """The tree as the sequencer last left it."""
    row = TreeHead.objects.filter(pk=1).values_list("size", "root_hash").first()
    if row is None:
        return Head(0, merkle.EMPTY_ROOT)
    return Head(row[0], bytes(row[1]))


def _within(size: int) -> None:
    if size > head().size:
        raise TreeTooSmall()


def entry_at(index: int) -> Entry | None:
    return Entry.objects.filter(leaf_index=index).first()


def root_at(size: int) -> bytes:
    """MTH(D[0:size]) for any size the tree has reached."""
    _within(size)
    keys = merkle.root_nodes(size)
    nodes = stored_nodes(keys)
    return merkle.fold([nodes[key] for key in keys])


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    _within(size)
    return merkle.inclusion_proof(index, size, stored_nodes(merkle.inclusion_nodes(index, size)))


def consistency_proof(first: int, second: int) -> list[bytes]:
    """RFC 9162 consistency proof that the tree of ``second`` leaves extends ``first``."""
    _within(second)
    if first == second:
        return []
    return merkle.consistency_proof(
        first, second, stored_nodes(merkle.consistency_nodes(first, second))
    )


def entries_about(subject: str) -> QuerySet[Entry]:
    """Every entry about one subject ("record:12", "file:3"), oldest first."""
    return Entry.objects.filter(subject=subject).order_by("id")


def entries_with_file(sha256: str) -> QuerySet[Entry]:
    """Entries registering (or replacing) a file with these bytes — "is this file authentic?"."""
    return Entry.objects.filter(sha256=sha256.strip().lower()).order_by("id")


def was_recorded(kind: str, subject: str, reader: Any) -> Entry | None:
    """The library's own question: is there a ``kind`` entry about ``subject`` for this reader?"""
    return Entry.objects.filter(
        kind=kind, subject=subject, reader=pseudonym(reader, subject)
    ).first()


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size").first()


def readable_fixity_runs(user: Any) -> QuerySet[FixityRun]:
    if not user.has_perm("ledger.view_ledger_reports"):
        return FixityRun.objects.none()
    return FixityRun.objects.all()
