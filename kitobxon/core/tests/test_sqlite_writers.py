"""SQLite's writers queue on a lock file (kitobxon/core/sqlite) instead of polling in SQLite's
busy handler: a waiting writer gets in right after the commit, gives up cleanly after the
timeout, and is not held up by a writer that died."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from kitobxon.core.models import AuditEvent
from kitobxon.core.sqlite.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own write lock"),
]


def _write(action: str) -> None:
    AuditEvent.objects.create(action=action, object_type="test", object_id="1")


def test_a_second_writer_waits_for_the_first_instead_of_failing() -> None:
    started, committed_at, errors = threading.Event(), [0.0], []

    def first() -> None:
        try:
            with transaction.atomic():
                _write("first")
                started.set()
                time.sleep(0.4)
            committed_at[0] = time.monotonic()
        finally:
            connection.close()

    def second() -> None:
        try:
            started.wait(5)
            with connection.cursor() as cursor:
                # SQLite alone would now fail at once: the first writer holds the database.
                cursor.execute("PRAGMA busy_timeout = 0")
            with transaction.atomic():
                _write("second")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    first_row, second_row = AuditEvent.objects.filter(object_type="test").order_by("id")
    assert (first_row.action, second_row.action) == ("first", "second")
    assert second_row.at >= first_row.at and committed_at[0] > 0


def _wrapper(timeout: float) -> DatabaseWrapper:
    settings = {**connection.settings_dict}
    settings["OPTIONS"] = {**settings["OPTIONS"], "timeout": timeout}
    return DatabaseWrapper(settings, alias="writers-test")


def test_a_writer_gives_up_after_the_timeout_with_sqlites_own_error() -> None:
    holder, waiter = _wrapper(5), _wrapper(0.3)
    try:
        holder.ensure_connection()
        holder._start_transaction_under_autocommit()
        waiter.ensure_connection()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            waiter._start_transaction_under_autocommit()
        assert 0.25 < time.monotonic() - started < 3
        holder.rollback()
        waiter._start_transaction_under_autocommit()  # free again once the holder is done
        waiter.rollback()
    finally:
        holder.close()
        waiter.close()


def test_a_writer_killed_while_holding_the_lock_does_not_block_the_next() -> None:
    lock_file = f"{connection.settings_dict['NAME']}-writers"
    script = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({lock_file!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        blocked = _wrapper(0.2)
        try:
            with pytest.raises(OperationalError):
                blocked._start_transaction_under_autocommit()
        finally:
            blocked.close()
        holder.kill()  # kill -9 in the middle of its "transaction"
        holder.wait(10)
        with transaction.atomic():
            _write("after the crash")
        assert AuditEvent.objects.filter(action="after the crash").count() == 1
    finally:
        holder.kill()
        holder.wait(10)
