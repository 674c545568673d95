"""Helpers for tests that pin how many queries a page makes."""

from __future__ import annotations

from django.conf import settings

CACHED_SESSIONS = "django.contrib.sessions.backends.cached_db"


def session_queries() -> int:
    """Queries a signed-in request spends loading its session.

    One from the database; none when sessions are cached in Redis (``cached_db``, as on the
    PostgreSQL + Redis run of the suite).
    """
    return 0 if settings.SESSION_ENGINE == CACHED_SESSIONS else 1
