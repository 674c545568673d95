"""`ledger verify`: recompute the log from its entries and check everything stored against it.

Nothing the database says is taken on trust. Each entry's leaf is hashed again from its body;
the tree is rebuilt from those leaves and every node it makes is compared with the stored
one; the head and every signed checkpoint must have the rebuilt root at their size, carry
this library's signature, and each checkpoint must be consistent with the one before; and
every registered file is hashed again from storage. A changed byte anywhere shows up as a
:class:`Problem`.

The pass streams: entries are read in leaf order a chunk at a time and the tree is kept as
its right edge (:class:`merkle.CompactRange`), so memory stays small at millions of entries.
It reads the head once at the start and checks the tree up to that size, so the sequencer
may keep appending while it runs.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kitobxon.core.errors import DomainError
from kitobxon.ledger import checkpoints, merkle, notes, queries
from kitobxon.ledger.models import Checkpoint, Cosignature, Entry, Node
from kitobxon.ledger.services import CANONICAL_JSON, KINDS, node_key

CHUNK = 10_000
READ_SIZE = 1 << 20
MAX_PROBLEMS = 10_000
"""Problems kept in a report; more are only counted (a wrecked log would list millions)."""

FILE_KINDS = ("file.registered", "file.replaced", "file.removed")
UNKNOWN = b"\xff" * merkle.HASH_SIZE
"""Stands in for the subtrees before a missing entry, so the rebuild can carry on after it."""

_decode = json.JSONDecoder().decode

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stage is "entries", "checkpoints" or "files"."""

DESCRIPTIONS = {
    "entry.missing": gettext_lazy("No entry has these leaf indices."),
    "entry.outside": gettext_lazy("An entry's leaf index lies outside the tree."),
    "entry.body": gettext_lazy("The entry is not canonical JSON."),
    "entry.kind": gettext_lazy("The entry's kind is unknown."),
    "entry.column": gettext_lazy("A column disagrees with the entry's text."),
    "entry.leaf": gettext_lazy("The stored leaf hash does not match the entry."),
    "node.missing": gettext_lazy("A tree node is missing."),
    "node.extra": gettext_lazy("A stored tree node lies outside the tree."),
    "node.hash": gettext_lazy("A stored tree node does not match the entries."),
    "head.root": gettext_lazy("The tree head's root does not match the entries."),
    "checkpoint.signature": gettext_lazy("The checkpoint's signature does not verify."),
    "checkpoint.note": gettext_lazy("The checkpoint's note disagrees with its row."),
    "checkpoint.root": gettext_lazy("The checkpoint's root does not match the entries."),
    "checkpoint.outside": gettext_lazy("The checkpoint is for a tree larger than the log."),
    "checkpoint.consistency": gettext_lazy("The checkpoint is not consistent with the one before."),
    "cosignature.signature": gettext_lazy("A witness's cosignature does not verify."),
    "file.registration": gettext_lazy("The file's registration cannot be read."),
    "file.missing": gettext_lazy("The file is missing."),
    "file.unreadable": gettext_lazy("The file cannot be read."),
    "file.size": gettext_lazy("The file's size has changed."),
    "file.hash": gettext_lazy("The file's bytes have changed."),
}
"""Every kind of problem, in words for librarians."""


def describe(kind: str) -> str:
    return str(DESCRIPTIONS.get(kind, kind))


@dataclass(frozen=True)
class Problem:
    """Something stored that does not match what the log commits to.

    ``kind`` is a stable code ("entry.leaf", "file.hash" …, see :data:`DESCRIPTIONS`),
    ``where`` names the place (an entry's leaf index, a node, a checkpoint's size, a file's
    path), ``detail`` says what is wrong, ``expected``/``found`` the two values when there are.
    """

    kind: str
    where: str
    detail: str
    expected: str = ""
    found: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Report:
    """What a verify found and how much it looked at.

    ``counts`` has "entries", "nodes", "checkpoints", "cosignatures", "files" checked and
    "queued" (recorded, not yet in the tree — normal, not a problem). ``problems`` keeps the
    first :data:`MAX_PROBLEMS`; ``problem_counts`` counts them all, by kind.
    """

    problems: list[Problem] = field(default_factory=list)
    problem_counts: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    tree_size: int = 0
    root_hash: bytes = merkle.EMPTY_ROOT
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values())

    def add(
        self, kind: str, where: str, detail: str = "", expected: Any = "", found: Any = ""
    ) -> None:
        self.problem_counts[kind] += 1
        if len(self.problems) < MAX_PROBLEMS:
            text = describe(kind) + (f" {detail}" if detail else "")
            self.problems.append(Problem(kind, where, text, _shown(expected), _shown(found)))

    def kinds(self) -> set[str]:
        return set(self.problem_counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "counts": dict(self.counts),
            "problem_counts": dict(self.problem_counts),
            "problems": [problem.as_dict() for problem in self.problems],
            "elapsed": round(self.elapsed, 3),
        }


def _shown(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return "" if value is None else str(value)


def verify(*, files: bool = True, progress: Progress | None = None) -> Report:
    """Check the whole log; an empty ``report.problems`` means every byte is as committed."""
    started = time.perf_counter()
    report = Report()
    head = queries.head()
    sizes = set(
        Checkpoint.objects.filter(tree_size__lte=head.size).values_list("tree_size", flat=True)
    )
    roots = _check_tree(report, head, sizes, progress)
    _check_checkpoints(report, head.size, roots, progress)
    report.counts["queued"] = Entry.objects.filter(leaf_index__isnull=True).count()
    if files:
        check_files(report, progress)
    report.elapsed = time.perf_counter() - started
    return report


def rebuild_stats(*, files: bool = False) -> dict[str, Any]:
    """Time a full verify, for ``bench/ledger.py``: entries, seconds, entries per second."""
    report = verify(files=files)
    entries = report.counts["entries"]
    return {
        "entries": entries,
        "nodes": report.counts["nodes"],
        "checkpoints": report.counts["checkpoints"],
        "files": report.counts["files"],
        "problems": report.problem_total,
        "seconds": report.elapsed,
        "entries_per_second": entries / report.elapsed if report.elapsed else 0.0,
    }


# --- Entries and the tree ---------------------------------------------------------------------


@dataclass
class _Blind:
    """Leaves whose nodes and roots are not compared: missing or changed entries.

    Over a missing entry nothing can be recomputed; over an entry whose text no longer matches
    its leaf hash every node and root up to the top would differ, repeating one problem
    dozens of times. Either is reported once, for the entry; the rest of the tree is checked.
    """

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    def add(self, start: int, end: int) -> None:
        self.starts.append(start)
        self.ends.append(end)

    def cover(self, start: int, end: int) -> bool:
        """Whether any blind range overlaps leaves [start, end)."""
        at = bisect.bisect_left(self.starts, end) - 1
        return at >= 0 and self.ends[at] > start

    def __bool__(self) -> bool:
        return bool(self.starts)


def _check_tree(
    report: Report, head: queries.Head, sizes: set[int], progress: Progress | None
) -> dict[int, bytes | None]:
    """Rebuild the tree from the entries; return its root at each of ``sizes`` (None: unknown)."""
    tree = merkle.CompactRange()
    blind = _Blind()
    roots: dict[int, bytes | None] = {0: merkle.EMPTY_ROOT} if 0 in sizes else {}
    columns = ("leaf_index", "kind", "subject", "sha256", "reader", "body", "leaf_hash")
    cursor = 0
    while cursor < head.size:
        rows = list(
            Entry.objects.filter(leaf_index__gte=cursor, leaf_index__lt=head.size)
            .order_by("leaf_index")
            .values_list(*columns)[:CHUNK]
        )
        if not rows:
            break
        tree = _check_chunk(report, tree, blind, rows, sizes, roots)
        report.counts["entries"] += len(rows)
        cursor = rows[-1][0] + 1
        if progress:
            progress("entries", tree.size, head.size)
    if tree.size < head.size:
        _skip(report, blind, tree.size, head.size)
    report.tree_size = head.size
    report.root_hash = head.root_hash
    if not blind and tree.root() != head.root_hash:
        report.add("head.root", _("tree head"), expected=tree.root(), found=head.root_hash)
    _check_outside(report)
    return roots


def _check_chunk(
    report: Report,
    tree: merkle.CompactRange,
    blind: _Blind,
    rows: list[tuple[Any, ...]],
    sizes: set[int],
    roots: dict[int, bytes | None],
) -> merkle.CompactRange:
    """Append a chunk of entries to the rebuilt tree and compare the nodes it completes."""
    made: list[tuple[int, int, bytes]] = []

    def keep(level: int, index: int, value: bytes) -> None:
        made.append((level, index, value))

    for row in rows:
        index = row[0]
        if index != tree.size:
            tree = _skip(report, blind, tree.size, index)
        leaf = _check_entry(report, row)
        if leaf != bytes(row[6]):
            blind.add(index, index + 1)
        tree.append(leaf, keep)
        if tree.size in sizes:
            roots[tree.size] = None if blind else tree.root()
    _compare_nodes(report, made, blind)
    return tree


def _skip(report: Report, blind: _Blind, start: int, end: int) -> merkle.CompactRange:
    """Note leaves [start, end) as missing and carry on building the tree from ``end``."""
    where = _("entry %(index)s") % {"index": start}
    if end - start > 1:
        where = _("entries %(first)s–%(last)s") % {"first": start, "last": end - 1}
    report.add("entry.missing", where)
    blind.add(start, end)
    return merkle.CompactRange(end, [UNKNOWN] * len(merkle.root_nodes(end)))


def _entry_name(index: int) -> str:
    return _("entry %(index)s") % {"index": index}


def _check_entry(report: Report, row: tuple[Any, ...]) -> bytes:
    """The entry's recomputed leaf hash, after checking its text against its row.

    This runs a million times in a full verify: the common path does no more than hash,
    parse and re-encode, and names the entry only when something is wrong.
    """
    index, kind, subject, sha256, reader, body, stored = row
    leaf = merkle.leaf_hash(body.encode())
    if leaf != bytes(stored):
        report.add("entry.leaf", _entry_name(index), expected=leaf, found=stored)
    try:
        parsed = _decode(body)
    except ValueError as error:
        report.add("entry.body", _entry_name(index), str(error))
        return leaf
    if not isinstance(parsed, dict):
        report.add("entry.body", _entry_name(index))
        return leaf
    canonical = CANONICAL_JSON.encode(parsed)
    if canonical != body:
        report.add("entry.body", _entry_name(index), expected=canonical, found=body)
    entry_kind = parsed.get("kind")
    if not isinstance(entry_kind, str) or entry_kind not in KINDS:
        report.add("entry.kind", _entry_name(index), found=entry_kind)
    columns = (
        entry_kind,
        parsed.get("subject"),
        parsed.get("sha256", ""),
        parsed.get("reader", ""),
    )
    if columns != (kind, subject, sha256, reader):
        for name, expected, found in zip(
            ("kind", "subject", "sha256", "reader"),
            columns,
            (kind, subject, sha256, reader),
            strict=True,
        ):
            if expected != found:
                detail = _("Column: %(column)s.") % {"column": name}
                report.add("entry.column", _entry_name(index), detail, expected, found)
    return leaf


def _node_name(level: int, index: int) -> str:
    first, last = index << level, ((index + 1) << level) - 1
    return _("node %(level)s/%(index)s (entries %(first)s–%(last)s)") % {
        "level": level,
        "index": index,
        "first": first,
        "last": last,
    }


def _compare_nodes(report: Report, made: list[tuple[int, int, bytes]], blind: _Blind) -> None:
    """Compare the nodes the rebuild made with the stored ones, in one query per chunk."""
    if not made:
        return
    bounds: dict[int, tuple[int, int]] = {}
    for level, index, _value in made:
        low, high = bounds.get(level, (index, index))
        bounds[level] = (min(low, index), max(high, index))
    wanted = Q()
    for level, (low, high) in bounds.items():
        wanted |= Q(key__gte=node_key(level, low), key__lte=node_key(level, high))
    stored = {
        key: bytes(value) for key, value in Node.objects.filter(wanted).values_list("key", "hash")
    }
    for level, index, value in made:
        found = stored.pop(node_key(level, index), None)
        blinded = bool(blind) and blind.cover(index << level, (index + 1) << level)
        if found is None:
            report.add("node.missing", _node_name(level, index), expected="" if blinded else value)
        elif found != value and not blinded:
            report.add("node.hash", _node_name(level, index), expected=value, found=found)
    report.counts["nodes"] += len(made)
    for key, value in stored.items():
        report.add("node.extra", _node_name(key >> 48, key & ((1 << 48) - 1)), found=value)


def _check_outside(report: Report) -> None:
    """Entries and nodes past the head (read again: the sequencer may have moved on)."""
    size = queries.head().size
    outside = Entry.objects.filter(Q(leaf_index__lt=0) | Q(leaf_index__gte=size))
    for index in outside.values_list("leaf_index", flat=True).order_by("leaf_index")[:MAX_PROBLEMS]:
        report.add("entry.outside", _("entry %(index)s") % {"index": index}, found=index)
    top = max(size.bit_length(), 1)
    beyond = Q(key__lt=node_key(1, 0)) | Q(key__gte=node_key(top + 1, 0))
    for level in range(1, top + 1):
        beyond |= Q(key__gte=node_key(level, size >> level), key__lt=node_key(level + 1, 0))
    rows = Node.objects.filter(beyond).order_by("key").values_list("key", "hash")[:MAX_PROBLEMS]
    for key, value in rows:
        report.add("node.extra", _node_name(key >> 48, key & ((1 << 48) - 1)), found=value)


# --- Checkpoints ------------------------------------------------------------------------------


def _check_checkpoints(
    report: Report, size: int, roots: dict[int, bytes | None], progress: Progress | None
) -> None:
    """Signature, note, root and consistency of every checkpoint, smallest first."""
    total = Checkpoint.objects.count()
    previous: tuple[int, bytes] | None = None
    rows = Checkpoint.objects.order_by("tree_size").values_list(
        "id", "tree_size", "root_hash", "note"
    )
    for done, (pk, tree_size, root_value, note) in enumerate(rows.iterator(chunk_size=1000), 1):
        root_hash = bytes(root_value)
        where = _("checkpoint %(size)s") % {"size": tree_size}
        body = _check_signature(report, where, note, tree_size, root_hash)
        if tree_size > size and tree_size > queries.head().size:
            report.add("checkpoint.outside", where, expected=size, found=tree_size)
            continue
        if tree_size <= size:
            recomputed = roots.get(tree_size)
            if recomputed is not None and recomputed != root_hash:
                report.add("checkpoint.root", where, expected=recomputed, found=root_hash)
        if previous is not None:
            _check_consistency(report, where, previous, (tree_size, root_hash))
        previous = (tree_size, root_hash)
        if body is not None:
            _check_cosignatures(report, where, pk, body)
        report.counts["checkpoints"] += 1
        if progress:
            progress("checkpoints", done, total)


def _check_signature(
    report: Report, where: str, note: str, tree_size: int, root_hash: bytes
) -> str | None:
    """The note's signed text if this library's key signed it and it names the row's tree.

    As in ``checkpoints.verify_checkpoint``: the key is ours under the origin the note names
    (renaming the log does not orphan old checkpoints), and the note carries no other line.
    """
    try:
        body, signatures = notes.split_note(note)
        signed = notes.parse_checkpoint(body)
        notes.verify_note(note, notes.verifier_key(signed.origin, checkpoints.signing_key()))
        if len(signatures) != 1:
            raise notes.NoteError(_("The note carries other signature lines."))
    except notes.NoteError as error:
        report.add("checkpoint.signature", where, str(error))
        return None
    if signed.size != tree_size:
        report.add("checkpoint.note", where, _("Size."), expected=signed.size, found=tree_size)
    if signed.root_hash != root_hash:
        report.add("checkpoint.note", where, _("Root."), expected=signed.root_hash, found=root_hash)
    return body


def _check_consistency(
    report: Report, where: str, older: tuple[int, bytes], newer: tuple[int, bytes]
) -> None:
    (first, first_root), (second, second_root) = older, newer
    try:
        proof = queries.consistency_proof(first, second) if first else []
        merkle.verify_consistency(first, second, first_root, second_root, proof)
    except (merkle.ProofError, LookupError, DomainError) as error:
        detail = _("From %(size)s: %(error)s") % {"size": first, "error": error}
        report.add("checkpoint.consistency", where, detail)


def _check_cosignatures(report: Report, where: str, checkpoint_id: int, body: str) -> None:
    rows = Cosignature.objects.filter(checkpoint_id=checkpoint_id).values_list(
        "witness__name", "witness__verifier_key", "timestamp", "line"
    )
    for name, verifier_key, timestamp, line in rows:
        report.counts["cosignatures"] += 1
        try:
            signed_at = notes.verify_cosignature(body, line, verifier_key)
        except notes.NoteError as error:
            report.add("cosignature.signature", f"{where}, {name}", str(error))
            continue
        if signed_at != timestamp:
            report.add(
                "cosignature.signature", f"{where}, {name}", expected=signed_at, found=timestamp
            )


# --- Files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """A file as the log last registered it."""

    subject: str
    path: str
    sha256: str
    size: int


def registered_files(report: Report) -> Iterator[Registration]:
    """Every file's current registration: its latest registered/replaced entry, unless removed.

    Entries are taken in log order, queued ones last (they committed, so storage has them).
    """
    current: dict[str, Registration | None] = {}
    rows = (
        Entry.objects.filter(kind__in=FILE_KINDS)
        .order_by(F("leaf_index").asc(nulls_last=True), "id")
        .values_list("leaf_index", "id", "subject", "body")
    )
    for index, pk, subject, body in rows.iterator(chunk_size=CHUNK):
        try:
            parsed = json.loads(body)
            kind, data = parsed["kind"], parsed.get("data", {})
            if kind == "file.removed":
                current[subject] = None
                continue
            current[subject] = Registration(
                subject, str(data["path"]), str(parsed["sha256"]), int(data["size"])
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            where = _("entry %(index)s") % {"index": index if index is not None else f"#{pk}"}
            report.add("file.registration", where)
    for registration in current.values():
        if registration is not None:
            yield registration


def check_file(report: Report, registration: Registration) -> None:
    """Hash the stored file a megabyte at a time and compare it with its registration."""
    digest, size = hashlib.sha256(), 0
    path = registration.path
    try:
        with default_storage.open(path, "rb") as handle:
            while chunk := handle.read(READ_SIZE):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        report.add("file.missing", path, expected=registration.sha256)
        return
    except (OSError, SuspiciousFileOperation) as error:
        report.add("file.unreadable", path, str(error), expected=registration.sha256)
        return
    if size != registration.size:
        report.add("file.size", path, expected=registration.size, found=size)
    if digest.hexdigest() != registration.sha256:
        report.add("file.hash", path, expected=registration.sha256, found=digest.hexdigest())


def check_files(report: Report, progress: Progress | None = None) -> None:
    """Re-hash every currently registered file into ``report``."""
    registrations = list(registered_files(report))
    for done, registration in enumerate(registrations, 1):
        check_file(report, registration)
        report.counts["files"] += 1
        if progress:
            progress("files", done, len(registrations))
