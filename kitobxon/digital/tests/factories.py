"""Files attached through the real upload service, for every digital test, and a count of the
access decisions a request makes."""

from __future__ import annotations

import io
from typing import Any

import pytest

from kitobxon.catalogue.models import Record
from kitobxon.catalogue.tests.factories import make_record
from kitobxon.digital import policy, samples
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


def count_decisions(monkeypatch: pytest.MonkeyPatch) -> list[DigitalFile]:
    """The files ``policy.decide`` is asked about from now on, one entry a decision."""
    decided: list[DigitalFile] = []
    decide = policy.decide

    def counted(file: DigitalFile, *args: Any, **kwargs: Any) -> policy.Decision:
        decided.append(file)
        return decide(file, *args, **kwargs)

    monkeypatch.setattr(policy, "decide", counted)
    return decided
