"""Writing to the log: apps record entries in their transaction; the sequencer integrates them.

This is Trillian's split. ``record`` only queues a row — no global lock is held in a loan's or
an upload's transaction — and ``integrate`` (a job run after each commit, every minute and
before each checkpoint) appends queued entries to the tree in batches under one lock, so there
is one tree and never a fork, on SQLite (IMMEDIATE transactions) and PostgreSQL (row lock).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from kitobxon.ledger import keys, merkle
from kitobxon.ledger.errors import UnknownEntryKind
from kitobxon.ledger.models import Entry, Node, TreeHead

BATCH = 10_000
NODE_KEY_SHIFT = 48

KINDS = frozenset(
    {
        "file.registered",
        "file.replaced",
        "file.removed",
        "metadata.published",
        "metadata.withdrawn",
        "access.granted",
        "access.revoked",
        "loan",
        "return",
        "renewal",
        "digital-loan",
        "digital-loan.returned",
        "watermark.issued",
    }
)
"""What the log records. A new kind is added here, with a line in docs/ledger.md."""


def node_key(level: int, index: int) -> int:
    return level << NODE_KEY_SHIFT | index


def pseudonym(reader: Any, subject: str) -> str:
    """A reader's keyed pseudonym for one subject: HMAC-SHA-256(library secret, reader, subject).

    Different for every subject, so the published log cannot link two loans of one reader,
    while the library, knowing the reader, can recompute it to find "their" entry.
    """
    reader_id = getattr(reader, "pk", reader)
    message = f"{reader_id}\n{subject}".encode()
    return hmac.new(keys.pseudonym_key(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Draft:
    """An entry before it is written: what happened, to what, and (pseudonymously) for whom."""

    kind: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)
    reader: Any = None
    sha256: str = ""
    at: datetime | None = None


CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""An entry's spelling: sorted keys, no spaces, UTF-8 as is (one encoder, not one per entry)."""


@lru_cache(maxsize=64)
def _entry_time(at: datetime) -> str:
    """An entry's time, UTC to the second; an import's entries share one."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_body(draft: Draft, at: datetime) -> tuple[str, str]:
    """The entry's canonical JSON (sorted keys, no spaces, UTF-8) and the reader pseudonym."""
    if draft.kind not in KINDS:
        raise UnknownEntryKind()
    reader = pseudonym(draft.reader, draft.subject) if draft.reader is not None else ""
    body: dict[str, Any] = {
        "kind": draft.kind,
        "subject": draft.subject,
        "time": _entry_time(at),
        "data": dict(draft.data),
    }
    if reader:
        body["reader"] = reader
    if draft.sha256:
        body["sha256"] = draft.sha256.lower()
    return CANONICAL_JSON.encode(body), reader


ENTRY_COLUMNS = ("kind", "subject", "sha256", "reader", "body", "leaf_hash", "created_at")


def _row(draft: Draft, now: datetime) -> tuple[Any, ...]:
    """An entry's column values, in ENTRY_COLUMNS order."""
    at = draft.at or now
    body, reader = canonical_body(draft, at)
    leaf = merkle.leaf_hash(body.encode())
    return (draft.kind, draft.subject, draft.sha256.lower(), reader, body, leaf, at)


def _entry(draft: Draft, now: datetime) -> Entry:
    return Entry(**dict(zip(ENTRY_COLUMNS, _row(draft, now), strict=True)))


def record(
    kind: str,
    *,
    subject: str,
    data: Mapping[str, Any] | None = None,
    reader: Any = None,
    sha256: str = "",
    at: datetime | None = None,
) -> Entry:
    """Queue one entry in the caller's transaction; it joins the tree after the commit.

    ``subject`` names what the entry is about ("record:12", "loan:7", "file:3"); ``reader``
    (a user or user id) is stored only as a keyed pseudonym; ``sha256`` is a file's digest,
    for "is this file authentic?".
    """
    entry = _entry(Draft(kind, subject, data or {}, reader, sha256, at), timezone.now())
    entry.save(force_insert=True)
    transaction.on_commit(_schedule_integration)
    return entry


def register_file(
    *,
    subject: str,
    path: str,
    sha256: str,
    size: int,
    belongs_to: str = "",
    metadata_sha256: str = "",
    replaces: bool = False,
) -> Entry:
    """Register a stored file's bytes, so fixity checks and readers can prove them authentic.

    ``path`` is the file's name in the default storage, ``belongs_to`` the subject of the record
    it belongs to ("record:12"), kept in the entry's data as ``record``. A new version of the
    same subject is a ``file.replaced`` entry.
    """
    data: dict[str, Any] = {"path": path, "size": size}
    if belongs_to:
        data["record"] = belongs_to
    if metadata_sha256:
        data["metadata_sha256"] = metadata_sha256
    kind = "file.replaced" if replaces else "file.registered"
    return record(kind, subject=subject, data=data, sha256=sha256)


def record_many(drafts: Iterable[Draft], *, batch: int = BATCH) -> int:
    """Queue many entries at once (imports, benchmarks); returns how many were queued.

    Rows go in with COPY on PostgreSQL and one prepared INSERT on SQLite: ``bulk_create``'s
    per-field preparation cost more than building the entries themselves.
    """
    now = timezone.now()
    rows = [_row(draft, now) for draft in drafts]
    if not rows:
        return 0
    table, columns = Entry._meta.db_table, ", ".join(ENTRY_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            adapted: dict[datetime, Any] = {}  # an import's entries share one time
            values = ", ".join(["%s"] * len(ENTRY_COLUMNS))
            insert = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
            for start in range(0, len(rows), batch):
                part = rows[start : start + batch]
                for row in part:
                    if row[-1] not in adapted:
                        adapted[row[-1]] = adapt(row[-1])
                cursor.executemany(insert, [(*row[:-1], adapted[row[-1]]) for row in part])
    transaction.on_commit(_schedule_integration)
    return len(rows)


INTEGRATION_SCHEDULED = "ledger:integration-scheduled"


def _schedule_integration() -> None:
    """Queue one integration; commits arriving before it starts ride along.

    Without this every loan would add a job to the queue, and with the embedded SQLite queue
    every web worker would wait on that one file.
    """
    from kitobxon.ledger import tasks

    if cache.add(INTEGRATION_SCHEDULED, 1, timeout=60):
        tasks.integrate_entries()


def _head() -> TreeHead:
    TreeHead.objects.bulk_create(
        [TreeHead(pk=1, size=0, root_hash=merkle.EMPTY_ROOT)], ignore_conflicts=True
    )
    return TreeHead.objects.select_for_update().get(pk=1)


def stored_nodes(keys_: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """The hashes of the given perfect subtrees, from Entry (leaves) and Node (the rest)."""
    wanted = set(keys_)
    leaves = [index for level, index in wanted if level == 0]
    inner = {node_key(level, index): (level, index) for level, index in wanted if level}
    found: dict[merkle.NodeKey, bytes] = {}
    if leaves:
        for index, value in Entry.objects.filter(leaf_index__in=leaves).values_list(
            "leaf_index", "leaf_hash"
        ):
            found[(0, int(index or 0))] = bytes(value)
    if inner:
        for key, value in Node.objects.filter(key__in=list(inner)).values_list("key", "hash"):
            found[inner[key]] = bytes(value)
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"the tree is missing nodes {sorted(missing)[:5]}")
    return found


def integrate(*, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Append queued entries to the tree, oldest first; returns how many joined it."""
    cache.delete(INTEGRATION_SCHEDULED)
    total = batches = 0
    while max_batches is None or batches < max_batches:
        added = _integrate_batch(batch)
        if not added:
            break
        total += added
        batches += 1
    return total


@transaction.atomic
def _integrate_batch(batch: int) -> int:
    head = _head()
    queued = list(
        Entry.objects.filter(leaf_index__isnull=True)
        .order_by("id")
        .values_list("id", "leaf_hash")[:batch]
    )
    if not queued:
        return 0
    edge_keys = merkle.root_nodes(head.size)
    edge = stored_nodes(edge_keys)
    tree = merkle.CompactRange(head.size, [edge[key] for key in edge_keys])
    if head.size and tree.root() != bytes(head.root_hash):
        raise RuntimeError("the stored tree does not match its head; run `kitobxon ledger verify`")
    nodes: list[tuple[int, bytes]] = []
    positions: list[tuple[int, int]] = []

    def keep(level: int, index: int, value: bytes) -> None:
        nodes.append((node_key(level, index), value))

    for entry_id, leaf in queued:
        positions.append((tree.size, entry_id))
        tree.append(bytes(leaf), keep)
    entry_table, node_table = Entry._meta.db_table, Node._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement each way: 10,000 one-row statements cost more than the hashing.
            cursor.execute(
                f"UPDATE {entry_table} AS e SET leaf_index = v.leaf_index "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(leaf_index, id) WHERE e.id = v.id",
                [[index for index, _ in positions], [entry_id for _, entry_id in positions]],
            )
            cursor.execute(
                f"INSERT INTO {node_table} (key, hash) "  # noqa: S608
                "SELECT * FROM unnest(%s::bigint[], %s::bytea[])",
                [[key for key, _ in nodes], [value for _, value in nodes]],
            )
        else:
            cursor.executemany(f"UPDATE {entry_table} SET leaf_index = %s WHERE id = %s", positions)  # noqa: S608
            cursor.executemany(f"INSERT INTO {node_table} (key, hash) VALUES (%s, %s)", nodes)  # noqa: S608
    head.size = tree.size
    head.root_hash = tree.root()
    head.save(update_fields=["size", "root_hash", "updated_at"])
    return len(queued)
