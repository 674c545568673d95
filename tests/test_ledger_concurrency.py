"""Appends race from several threads and several processes and still make one tree, and a
sequencer killed with SIGKILL in the middle of a batch loses nothing but that batch.

Each test runs on the suite's database. PostgreSQL's test database is reachable by other
processes as it is; SQLite's lives in this process's memory, so worker processes get a file
copy of it and what they wrote is copied back before the checks (see ``_shared_database``).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from kitobxon.ledger import merkle, queries, services
from kitobxon.ledger.models import Entry, Node

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 4
EACH = 60

APPEND = """
import sys

import django

django.setup()
from django.db import transaction

from kitobxon.ledger import services

name, count = sys.argv[1], int(sys.argv[2])
sys.stdin.readline()  # everyone starts together
for i in range(count):
    with transaction.atomic():
        services.record("loan", subject=f"loan:{name}-{i}", data={"by": name, "i": i})
    if i % 4 == 3:
        services.integrate(batch=3)
services.integrate()
"""

QUEUE = """
import sys

import django

django.setup()
from kitobxon.ledger import services

drafts = (services.Draft("loan", f"loan:{n}", {"n": n}) for n in range(int(sys.argv[1])))
services.record_many(drafts)
"""

INTEGRATE = """
import sys

import django

django.setup()
from kitobxon.ledger import services

services.integrate(batch=int(sys.argv[1]))
"""

INTEGRATE_AND_HANG = """
import sys, time

import django

django.setup()
from django.db import connection

from kitobxon.ledger import services

heads = []


def hang_before_the_second_head(execute, sql, params, many, context):
    if sql.lstrip().upper().startswith("UPDATE") and "ledger_treehead" in sql:
        heads.append(sql)
        if len(heads) == 2:  # the second batch's leaves and nodes are written, not committed
            print("mid-batch", flush=True)
            time.sleep(600)
    return execute(sql, params, many, context)


with connection.execute_wrapper(hang_before_the_second_head):
    services.integrate(batch=int(sys.argv[1]))
"""


def _subjects(name: str, count: int = EACH) -> list[str]:
    return [f"loan:{name}-{i}" for i in range(count)]


def _database_url() -> str:
    """The URL by which another process opens the PostgreSQL database this test is using."""
    db = connection.settings_dict
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    host, port = db["HOST"] or "localhost", db["PORT"] or 5432
    return f"postgres://{user}:{password}@{host}:{port}/{db['NAME']}"


@contextmanager
def _shared_database(directory: Path) -> Iterator[str]:
    """A database URL worker processes can open, holding what the test database holds."""
    if connection.vendor != "sqlite":
        yield _database_url()
        return
    connection.ensure_connection()
    path = directory / "ledger.sqlite3"
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    yield f"sqlite:///{path}"
    with sqlite3.connect(path) as copy:
        copy.backup(connection.connection)


def _python(
    directory: Path, url: str, script: str, *args: str, **popen: object
) -> subprocess.Popen[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KITOBXON_", "DJANGO_"))
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "KITOBXON_DATA_DIR": str(directory / "data"),
        "KITOBXON_DATABASE_URL": url,
    }
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, text=True, **popen
    )


def _assert_one_tree(size: int, queued: int = 0) -> None:
    """Leaves 0..size-1 without gaps, the head over them, every stored node as a rebuild's."""
    rows = list(
        Entry.objects.filter(leaf_index__isnull=False)
        .order_by("leaf_index")
        .values_list("leaf_index", "body", "leaf_hash")
    )
    assert [index for index, _, _ in rows] == list(range(size))
    assert Entry.objects.filter(leaf_index__isnull=True).count() == queued
    leaves = [bytes(leaf) for _, _, leaf in rows]
    assert leaves == [merkle.leaf_hash(body.encode()) for _, body, _ in rows]

    rebuilt: dict[int, bytes] = {}
    tree = merkle.CompactRange()
    for leaf in leaves:
        tree.append(
            leaf, lambda level, i, value: rebuilt.__setitem__(services.node_key(level, i), value)
        )
    stored = {key: bytes(value) for key, value in Node.objects.values_list("key", "hash")}
    assert stored == rebuilt
    assert queries.head() == queries.Head(size, tree.root())
    assert tree.root() == merkle.root_of(leaves)


def _assert_in_order(names: list[str]) -> None:
    """Every entry joined once, and each writer's entries in the order it recorded them."""
    joined = list(Entry.objects.order_by("leaf_index").values_list("subject", flat=True))
    assert sorted(joined) == sorted(s for name in names for s in _subjects(name))
    for name in names:
        assert [s for s in joined if s.startswith(f"loan:{name}-")] == _subjects(name)


def test_threads_appending_and_integrating_at_once_make_one_tree() -> None:
    names = [f"t{n}" for n in range(WORKERS)]
    start = threading.Barrier(len(names) + 1)
    errors: list[BaseException] = []

    def append(name: str) -> None:
        try:
            start.wait(10)
            for i, subject in enumerate(_subjects(name)):
                with transaction.atomic():
                    services.record("loan", subject=subject, data={"by": name, "i": i})
                if i % 4 == 3:
                    services.integrate(batch=3)
            services.integrate()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    def sequence() -> None:
        try:
            start.wait(10)
            while any(thread.is_alive() for thread in threads):
                services.integrate(batch=2, max_batches=5)
                time.sleep(0.002)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(name,)) for name in names]
    sequencer = threading.Thread(target=sequence)
    for thread in [*threads, sequencer]:
        thread.start()
    for thread in [*threads, sequencer]:
        thread.join(120)
    assert errors == []
    _assert_one_tree(WORKERS * EACH)
    _assert_in_order(names)


def test_processes_appending_and_integrating_at_once_make_one_tree(tmp_path: Path) -> None:
    names = [f"p{n}" for n in range(WORKERS)]
    with _shared_database(tmp_path) as url:
        workers = [
            _python(
                tmp_path,
                url,
                APPEND,
                name,
                str(EACH),
                stdin=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for name in names
        ]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            _, stderr = worker.communicate(timeout=120)
            assert worker.returncode == 0, stderr
    _assert_one_tree(WORKERS * EACH)
    _assert_in_order(names)


def test_a_sequencer_killed_mid_batch_loses_only_that_batch_and_the_next_completes_it(
    tmp_path: Path,
) -> None:
    batch, total = 5_000, 12_000
    with _shared_database(tmp_path) as url:
        # Queued by another process, whose jobs wait in a queue nobody runs, not integrated here.
        assert _python(tmp_path, url, QUEUE, str(total)).wait(120) == 0
        sequencer = _python(tmp_path, url, INTEGRATE_AND_HANG, str(batch), stdout=subprocess.PIPE)
        assert sequencer.stdout is not None
        assert sequencer.stdout.readline() == "mid-batch\n", (
            "the sequencer never reached its second batch"
        )
        sequencer.send_signal(signal.SIGKILL)
        sequencer.wait(30)
    assert sequencer.returncode == -signal.SIGKILL
    _assert_one_tree(batch, queued=total - batch)  # the first batch only, whole

    with _shared_database(tmp_path) as url:
        assert _python(tmp_path, url, INTEGRATE, str(batch)).wait(120) == 0
    _assert_one_tree(total)
