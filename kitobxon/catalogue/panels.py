"""Panels that other apps add to the record page, so the catalogue never imports them.

An app registers ``fn(request, record)`` in its ``AppConfig.ready()``; the record page shows
each panel's HTML, in the order registered, after the copies. A panel returns None to show
nothing (for example when the record has no copy that can be lent).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from kitobxon.catalogue.models import Record

RecordPanel = Callable[[HttpRequest, Record], SafeString | None]
_panels: list[RecordPanel] = []


def register_record_panel(panel: RecordPanel) -> None:
    if panel not in _panels:
        _panels.append(panel)


def record_panels(request: HttpRequest, record: Record) -> list[SafeString]:
    """The HTML of every registered panel that has something to show for ``record``."""
    return [html for panel in list(_panels) if (html := panel(request, record)) is not None]
