"""Helpers for tests: how many queries a page makes, and racing threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection

from kitobxon.core.errors import DomainError

CACHED_SESSIONS = "django.contrib.sessions.backends.cached_db"


def session_queries() -> int:
    """Queries a signed-in request spends loading its session.

    One from the database; none when sessions are cached in Redis (``cached_db``, as on the
    PostgreSQL + Redis run of the suite).
    """
    return 0 if settings.SESSION_ENGINE == CACHED_SESSIONS else 1


def outcome(action: Callable[[], Any]) -> str:
    """Run one attempt in this thread: "ok" or the class name of the refusal (``DomainError``)
    it raised; anything else is a bug and propagates. The thread's connection is closed."""
    try:
        action()
        return "ok"
    except DomainError as refusal:
        return type(refusal).__name__
    finally:
        connection.close()


def race(*actions: Callable[[], Any], timeout: float = 120) -> list[str]:
    """Start every action at the same moment, one thread (and database connection) each;
    the results are ``outcome``s, in the order of the actions ("" for one that crashed)."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = outcome(actions[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
