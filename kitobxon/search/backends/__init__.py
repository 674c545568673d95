"""The configured search backend, one instance per process (KITOBXON_SEARCH_BACKEND)."""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings

from kitobxon.search.backends.base import Backend

NAMES = ("tantivy", "postgres")


def get_backend(name: str = "") -> Backend:
    return _backend(
        name or settings.SEARCH_BACKEND,
        str(settings.SEARCH_INDEX_DIR),
        settings.SEARCH_FACET_CACHE,
    )


@functools.cache
def _backend(name: str, directory: str, facet_cache: int) -> Backend:
    if name == "postgres":
        from kitobxon.search.backends.postgres import PostgresBackend

        return PostgresBackend()
    if name == "tantivy":
        from kitobxon.search.backends.tantivy import TantivyBackend

        return TantivyBackend(Path(directory), facet_cache)
    raise ValueError(f"unknown search backend {name!r}; choose one of {', '.join(NAMES)}")
