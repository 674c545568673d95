"""SQLite with a queue for writers: ``ENGINE = "kitobxon.core.sqlite"``.

SQLite lets one writer in at a time. A transaction that finds the database locked waits in
SQLite's busy handler, which polls: it sleeps 1, 2, 5, 10 … up to 100 ms between tries and
does not notice the moment the lock frees. Under a burst of writes (a desk at opening time,
gunicorn's workers lending at once) most of the time goes into those sleeps, and the unlucky
writer waits seconds while the others keep winning.

So every write transaction first takes an exclusive ``flock(2)`` on a file next to the
database, then ``BEGIN IMMEDIATE``, and lets go at commit or rollback. A waiter retries every
half to two milliseconds, so the next writer is in within a couple of milliseconds of the
commit instead of up to a hundred. (A blocking ``flock`` would wake it at once, but could not
give up: a thread waiting on a transaction its own process never ends would hang for ever.)
After the connection's ``timeout`` a waiter gives up with SQLite's own "database is locked".
Each connection opens the file itself, so threads of one process queue too, and a process that
dies loses its lock with it. Single statements outside a
transaction (autocommit) do not take the file lock; they still wait in the busy handler, which
is rare and short. In-memory databases have no second process to queue against.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

FIRST_WAIT = 0.0005
LONGEST_WAIT = 0.002


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock: int | None = None  # the open lock file while a transaction runs

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}-writers"

    def _take_write_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._write_lock is not None:
            return
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            self._wait_for(descriptor)
        except BaseException:
            os.close(descriptor)
            raise
        self._write_lock = descriptor

    def _wait_for(self, descriptor: int) -> None:
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        pause = FIRST_WAIT
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_WAIT)

    def _release_write_lock(self) -> None:
        descriptor, self._write_lock = self._write_lock, None
        if descriptor is not None:
            os.close(descriptor)  # closing the file releases the flock

    def _start_transaction_under_autocommit(self) -> None:
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            if self.connection is None or not self.connection.in_transaction:
                self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()
