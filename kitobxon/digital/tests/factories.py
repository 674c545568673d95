"""Files attached through the real upload service, for every digital test."""

from __future__ import annotations

import io
from typing import Any

from kitobxon.catalogue.models import Record
from kitobxon.catalogue.tests.factories import make_record
from kitobxon.digital import samples
from kitobxon.digital.models import DigitalFile
from kitobxon.digital.services.files import attach_file


def record(**overrides: object) -> Record:
    """A published record (catalogue's factory), e.g. ``record(title="Kecha va kunduz")``."""
    return make_record(**overrides)


def attach(
    target: Record | None = None,
    data: bytes | None = None,
    name: str = "book.pdf",
    **policy: Any,
) -> DigitalFile:
    """Attach ``data`` (a two-page PDF by default) to ``target`` (a new published record)."""
    target = target or record()
    content = data if data is not None else samples.pdf(["Birinchi sahifa", "Ikkinchi sahifa"])
    return attach_file(target, io.BytesIO(content), by=None, original_name=name, **policy)
