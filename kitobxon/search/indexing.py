"""Keeping the index equal to the database: the outbox, its drain, and the full rebuild.

An app that changes something searchable calls `enqueue(kind, ids)` inside its own transaction.
The rows commit with the change or not at all; on commit a job drains them in batches: load the
current documents from their source, upsert them (or delete the ones that are gone), commit the
index, then delete exactly the rows it handled. A worker killed anywhere in between leaves the
rows in place, and the next drain repeats the (idempotent) work.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from kitobxon.core import bulk
from kitobxon.search import registry
from kitobxon.search.backends import get_backend
from kitobxon.search.documents import SearchDocument, split_key
from kitobxon.search.models import PendingChange

BATCH = 1000

logger = logging.getLogger(__name__)


def enqueue(kind: str, ids: Iterable[object]) -> None:
    """Mark objects for (re)indexing; call inside the transaction that changes them."""
    now = timezone.now()
    rows = [(kind, str(i), now) for i in dict.fromkeys(ids)]
    if not rows:
        return
    # An import enqueues a thousand records per batch: one prepared INSERT (ADR 0012).
    bulk.insert_rows(PendingChange, ["kind", "object_id", "created_at"], rows)
    transaction.on_commit(_schedule_drain)


DRAIN_SCHEDULED = "search:drain-scheduled"


def _schedule_drain() -> None:
    """Queue one drain; commits arriving before it starts ride along (an import commits often)."""
    from kitobxon.search.tasks import drain_outbox

    if cache.add(DRAIN_SCHEDULED, 1, timeout=60):
        drain_outbox()


def pending() -> int:
    return PendingChange.objects.count()


DRAIN_LOCK = 0x6B6278_5345  # "kbx" "SE": the PostgreSQL advisory lock of the drain


@contextlib.contextmanager
def drain_lock() -> Iterator[None]:
    """One drain (or rebuild) at a time, across threads, processes and machines.

    Taking rows, loading their documents and writing them must not interleave with another
    drain, or an older document could overwrite a newer one. The lock dies with its holder:
    a PostgreSQL session lock, or an advisory file lock beside the SQLite database.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [DRAIN_LOCK])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [DRAIN_LOCK])
        return
    with open(settings.DATA_DIR / "search-drain.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def drain(*, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Index pending changes until the outbox is empty; returns how many objects were indexed."""
    with drain_lock():
        return _drain(batch=batch, max_batches=max_batches)


def _drain(*, batch: int, max_batches: int | None) -> int:
    cache.delete(DRAIN_SCHEDULED)
    done = 0
    batches = 0
    backend = get_backend()
    if backend.outdated:  # it would refuse the writes: leave the outbox for the reindex
        logger.warning("search index built by an older release: run `kitobxon reindex`")
        return 0
    while max_batches is None or batches < max_batches:
        rows = list(
            PendingChange.objects.order_by("id").values_list("id", "kind", "object_id")[:batch]
        )
        if not rows:
            break
        keys = list(dict.fromkeys(f"{kind}:{object_id}" for _, kind, object_id in rows))
        documents = load(keys)
        found = {d.key for d in documents}
        with backend.writer() as writer:
            writer.upsert(documents)
            writer.delete([k for k in keys if k not in found])
        PendingChange.objects.filter(id__in=[row_id for row_id, _, _ in rows]).delete()
        done += len(keys)
        batches += 1
    return done


def load(keys: Sequence[str]) -> list[SearchDocument]:
    """The current documents for `keys`, grouped by source; missing objects are left out."""
    by_kind: dict[str, list[str]] = {}
    for key in keys:
        kind, object_id = split_key(key)
        by_kind.setdefault(kind, []).append(object_id)
    documents: list[SearchDocument] = []
    for kind, ids in by_kind.items():
        try:
            source = registry.source(kind)
        except KeyError:
            continue
        documents.extend(source.load(ids))
    return documents


def all_documents(batch: int = BATCH) -> Iterator[list[SearchDocument]]:
    for source in registry.sources():
        if source.load_all is not None:
            yield from source.load_all(batch)
            continue
        for ids in source.all_ids(batch):
            yield list(source.load(ids))


def total() -> int:
    return sum(sum(len(ids) for ids in source.all_ids(10_000)) for source in registry.sources())


def reindex(progress: Callable[[int], None] = lambda n: None, *, batch: int = BATCH) -> int:
    """Rebuild the index from the database, then apply what changed meanwhile.

    The rebuild fills a new index beside the live one and swaps it in at the end, so searches
    keep working throughout and a crash leaves the old index (and the outbox) as they were.
    """
    count = 0

    def counted(batches: Iterable[Sequence[SearchDocument]]) -> Iterator[Sequence[SearchDocument]]:
        nonlocal count
        for documents in batches:
            count += len(documents)
            yield documents

    with drain_lock():
        with collector_paused():
            get_backend().rebuild(counted(all_documents(batch)), progress)
        _drain(batch=batch, max_batches=None)
    return count


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a rebuild runs.

    A rebuild makes millions of short-lived objects (rows, documents, index fields) that hold
    no cycles, and the collector kept walking them and everything alive with them: 90 µs of the
    240 µs of CPU per document of 100,000 (docs/benchmarks.md). Reference counting still frees
    them; the few hundred cyclic objects a rebuild leaves (query internals) wait for the next
    collection.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def differences() -> tuple[set[str], set[str], set[str]]:
    """(missing, stale, extra) keys between the index and the database; all empty when equal."""
    indexed = dict(get_backend().versions())
    expected = {d.key: d.version for batch in all_documents() for d in batch}
    missing = set(expected) - set(indexed)
    extra = set(indexed) - set(expected)
    stale = {k for k in set(expected) & set(indexed) if expected[k] != indexed[k]}
    return missing, stale, extra
