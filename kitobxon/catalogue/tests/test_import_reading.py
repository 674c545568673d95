"""The import's fast reading path gives exactly what the reference path gives.

UTF-8 records are split straight from their directory (``_utf8_record``) instead of through
pymarc's reader, and parsed records cross from the parsing process as plain tuples; pymarc
stays the reference, so every record of the shared MARC files must read the same both ways,
broken ones included (ADR 0012).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from pymarc import Record

from kitobxon.catalogue import importing, services, synthetic
from kitobxon.catalogue.data import RecordData, plain_values
from kitobxon.catalogue.formats import Parsed
from kitobxon.catalogue.formats.marc import iso2709
from kitobxon.catalogue.formats.marc.iso2709 import (
    _iso2709_records,
    _parsed_from_iso2709,
    _utf8_record,
)
from kitobxon.catalogue.importing import _packed, _unpacked, import_file
from kitobxon.catalogue.models import Record as CatalogueRecord

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not present")


def _iso2709_files() -> list[Path]:
    found: list[Path] = []
    for folder in sorted(SHARED.glob("marc-*")):
        found += [
            path
            for path in sorted(folder.rglob("*"))
            if path.suffix.lower() in {".mrc", ".marc", ".dat"} and path.is_file()
        ]
    return found


def _records(path: Path) -> Iterator[tuple[int, int, bytes]]:
    with path.open("rb") as handle:
        for position, (offset, raw) in enumerate(_iso2709_records(handle), start=1):
            yield position, offset, raw


def _iso2709(leader: bytes, fields: list[tuple[bytes, bytes]]) -> bytes:
    """A record built by hand, so that its fields can be odd in ways pymarc cannot write."""
    directory, data = b"", b""
    for tag, body in fields:
        directory += tag + b"%04d%05d" % (len(body) + 1, len(data))
        data += body + b"\x1e"
    base = 24 + len(directory) + 1
    length = base + len(data) + 1
    return (
        b"%05d" % length
        + leader[5:12]
        + b"%05d" % base
        + leader[17:24]
        + (directory + b"\x1e" + data + b"\x1d")
    )


LEADER = b"00000nam a2200000 i 4500"


@needs_shared
def test_every_shared_marc_record_reads_the_same_on_the_fast_path_and_through_pymarc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast = 0
    real_utf8_record = iso2709._utf8_record

    def counting(chunk: bytes) -> Record | None:
        nonlocal fast
        record = real_utf8_record(chunk)
        fast += record is not None
        return record

    monkeypatch.setattr(iso2709, "_utf8_record", counting)
    files = _iso2709_files()
    assert len(files) > 50
    compared = 0
    for path in files:
        for position, offset, raw in _records(path):
            reference = _parsed_from_iso2709(raw, position, offset, lean=False)
            assert _parsed_from_iso2709(raw, position, offset) == reference, (path, position)
            compared += 1
    assert compared > 10_000
    assert fast > 5_000  # the fast path is really taken, not skipped for every record


@needs_shared
def test_broken_records_keep_their_position_and_reason_on_the_fast_path() -> None:
    broken = 0
    for name in ("bad_leaders_10_11.mrc", "bad_too_long_plus_2.mrc", "bad_hathi_records.mrc"):
        for position, offset, raw in _records(SHARED / "marc-marc4j" / name):
            reference = _parsed_from_iso2709(raw, position, offset, lean=False)
            parsed = _parsed_from_iso2709(raw, position, offset)
            assert (parsed.position, parsed.offset, parsed.error, parsed.control_number) == (
                reference.position,
                reference.offset,
                reference.error,
                reference.control_number,
            )
            broken += reference.error is not None
    assert broken > 0


@pytest.mark.parametrize(
    "title_field",
    [
        b"10 \x1faOdd indicators /\x1fcby someone.",  # three indicator bytes
        b"1\x1faOne indicator.",
        b"10\x1f\xc3\xa1Accented subfield code.",  # a non-ASCII subfield code
    ],
)
def test_a_record_the_fast_path_does_not_know_goes_through_pymarc(title_field: bytes) -> None:
    raw = _iso2709(
        LEADER,
        [
            (b"001", b"odd-1"),
            (b"008", b"200101s2019    uz            000 0 uzb d"),
            (b"245", title_field),
        ],
    )
    assert _utf8_record(raw) is None
    parsed = _parsed_from_iso2709(raw, 1, 0)
    assert parsed == _parsed_from_iso2709(raw, 1, 0, lean=False)
    assert parsed.ok and parsed.data is not None and parsed.data.title


def test_the_fast_path_normalises_text_and_blank_indicators_as_pymarcs_path_does() -> None:
    decomposed = "Ozbek tili lug\u0306ati"  # a combining breve: NFC composes it
    raw = _iso2709(
        LEADER,
        [
            (b"001", b"nfc-1"),
            (b"100", b"1#\x1faNavoiy, Alisher,\x1fd1441-1501."),
            (b"245", b"\\0\x1fa" + decomposed.encode() + b" /\x1fcNavoiy."),
        ],
    )
    record = _utf8_record(raw)
    assert record is not None
    assert record["100"].indicators == ("1", " ")
    assert record["245"].indicators == (" ", "0")
    assert record["245"]["a"] == "Ozbek tili lu\u011fati /"
    assert _parsed_from_iso2709(raw, 1, 0) == _parsed_from_iso2709(raw, 1, 0, lean=False)


def test_parsed_records_cross_the_process_boundary_unchanged() -> None:
    raws = list(synthetic.generate(50))
    parsed = [_parsed_from_iso2709(raw, n, 0) for n, raw in enumerate(raws, start=1)]
    parsed.append(Parsed(51, 9, b"garbage", error="the record is truncated", control_number="x1"))
    assert all(_unpacked(_packed(p))[0] == p for p in parsed)
    assert all(
        _unpacked(_packed(p))[1] == (services.fingerprint(p.data) if p.data else "") for p in parsed
    )
    assert any(p.data is not None and p.data.contributors and p.data.subjects for p in parsed)
    assert len(plain_values(RecordData(title="t"))) == len(fields(RecordData))


@pytest.mark.django_db(transaction=True)
def test_a_record_without_a_title_is_rejected_while_reading_in_the_parsing_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BACKGROUND_PARSING_FROM", 0)  # even a small file forks
    good = list(synthetic.generate(4))
    untitled = _iso2709(LEADER, [(b"001", b"untitled-1"), (b"500", b"  \x1faA note only.")])
    path = tmp_path / "mixed.mrc"
    path.write_bytes(good[0] + good[1] + untitled + good[2] + good[3])
    with translation.override("en"):  # the forked parsing process reads in the same language
        report = import_file(path, by=None, batch_size=2)
    assert (report.imported, report.rejected) == (4, 1)
    reject = report.rejects[0]
    assert (reject.position, reject.control_number) == (3, "untitled-1")
    assert reject.reason == "The record has no title."
    assert CatalogueRecord.objects.count() == 4
    assert all(r.work_key for r in CatalogueRecord.objects.all())


@pytest.mark.django_db(transaction=True)
def test_a_large_import_saves_with_the_cyclic_collector_paused_and_resumes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BACKGROUND_PARSING_FROM", 0)
    collecting: list[bool] = []
    save_records = importing.services.save_records

    def saving(*args: Any, **kwargs: Any) -> Any:
        collecting.append(gc.isenabled())
        return save_records(*args, **kwargs)

    monkeypatch.setattr(importing.services, "save_records", saving)
    path = tmp_path / "four.mrc"
    path.write_bytes(b"".join(synthetic.generate(4)))
    assert import_file(path, by=None, batch_size=2).imported == 4
    assert collecting == [False, False] and gc.isenabled()
