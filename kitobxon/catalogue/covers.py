"""Where a record's cover comes from, so the catalogue shows real covers without importing the
apps that hold them.

An app registers ``fn(request, record)`` in its ``AppConfig.ready()``, returning the address of
a cover image this viewer may see, or None. The first answer wins, in the order registered; a
record nobody has a cover for gets the generated one (``catalogue:cover``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.urls import reverse

from kitobxon.catalogue.models import Record

CoverSource = Callable[[HttpRequest, Record], str | None]
_sources: list[CoverSource] = []


def register_cover_source(source: CoverSource) -> None:
    if source not in _sources:
        _sources.append(source)


def cover_url(request: HttpRequest, record: Record) -> str:
    """The path of ``record``'s cover for this viewer: a real one if an app has it, else drawn."""
    for source in list(_sources):
        if url := source(request, record):
            return url
    return reverse("catalogue:cover", args=[record.pk])
