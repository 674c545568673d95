"""Health of the parts a running library needs: database, job queue, search index.

Each check returns None when the part answers, or a sentence saying what failed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

Check = Callable[[], str | None]


def database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"database unreachable: {exc}"
    return None


def queue_depth() -> int | None:
    """How many jobs wait; None when the queue cannot be reached."""
    from huey.contrib.djhuey import HUEY

    try:
        return int(HUEY.pending_count())
    except Exception:
        return None


def job_queue() -> str | None:
    from huey.contrib.djhuey import HUEY

    try:
        HUEY.pending_count()
    except Exception as exc:
        return f"job queue unreachable: {exc}"
    return None


def search_index() -> str | None:
    """The index directory exists (or can be made) and is writable by this process."""
    if settings.SEARCH_BACKEND == "postgres":
        return database()
    path = Path(settings.SEARCH_INDEX_DIR)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"search index unreachable: {exc}"
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return f"search index unreachable: {path} is not writable"
    return None


CHECKS: dict[str, Check] = {
    "database": database,
    "queue": job_queue,
    "search": search_index,
}


def run_checks() -> dict[str, str | None]:
    """Run every check; a part maps to None when healthy, else to what failed."""
    return {name: check() for name, check in CHECKS.items()}
