"""Importing and exporting files of records, streamed, in batches.

Nothing lost, nothing silent: a record that cannot be read or saved is reported with its
position, control number and reason in the rejects report, its raw bytes are kept in a
quarantine file, and every good record of the file still imports. Re-importing a file
updates the records it created instead of duplicating them, so an import killed half-way
is finished by running it again.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from queue import Empty, Full
from typing import Any, BinaryIO

from django.db import DatabaseError, connection

from kitobxon.accounts.models import User
from kitobxon.catalogue import services
from kitobxon.catalogue.data import RecordData, plain_values, record_from_values
from kitobxon.catalogue.errors import InvalidRecord
from kitobxon.catalogue.formats import Parsed, bibtex, csvformat, dublincore, marc, ris
from kitobxon.catalogue.services.records import fill_work_key, fingerprint_values

logger = logging.getLogger(__name__)

Reader = Callable[[BinaryIO], Iterator[Parsed]]
Writer = Callable[[Iterable[RecordData], BinaryIO], int]


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    read: Reader
    write: Writer
    suffix: str
    media_type: str


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("marc21", "MARC21", marc.read_marc21, marc.write_marc21, ".mrc", "application/marc"),
        Format(
            "marcxml",
            "MARCXML",
            marc.read_marcxml,
            marc.write_marcxml,
            ".xml",
            "application/marcxml+xml",
        ),
        Format("dc", "Dublin Core", dublincore.read, dublincore.write, ".xml", "application/xml"),
        Format("csv", "CSV", csvformat.read, csvformat.write, ".csv", "text/csv"),
        Format("bibtex", "BibTeX", bibtex.read, bibtex.write, ".bib", "application/x-bibtex"),
        Format("ris", "RIS", ris.read, ris.write, ".ris", "application/x-research-info-systems"),
    )
}


class UnknownFormat(ValueError):
    pass


def detect_format(path: Path) -> str:
    """Recognise a file by its first bytes, then by its name."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if len(head) >= 24 and head[:5].isdigit() and head[5:24].isascii():
        return "marc21"
    if text.startswith(b"<"):
        if b"loc.gov/MARC21/slim" in head or (b"<record" in head and b"<datafield" in head):
            return "marcxml"
        if b"purl.org/dc/elements" in head or b"oai_dc" in head:
            return "dc"
    if text.startswith(b"@") or path.suffix.lower() == ".bib":
        return "bibtex"
    if text.startswith(b"TY  -") or path.suffix.lower() == ".ris":
        return "ris"
    if path.suffix.lower() in {".csv", ".tsv"} or b"," in text.split(b"\n", 1)[0]:
        return "csv"
    raise UnknownFormat(f"cannot tell the format of {path.name}; pass --format")


@dataclass
class Reject:
    position: int
    offset: int
    control_number: str
    reason: str


@dataclass
class ImportReport:
    file: str
    format: str
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects: list[Reject] = field(default_factory=list)
    rejects_path: str = ""
    quarantine_path: str = ""

    @property
    def records_per_second(self) -> float:
        done = self.imported + self.updated + self.unchanged
        return round(done / self.seconds, 1) if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["records_per_second"] = self.records_per_second
        return data


Progress = Callable[[int, ImportReport], None]  # (bytes read so far, report so far)


class _Quarantine:
    """Rejected records' raw bytes and reasons, written only when there is something to keep."""

    def __init__(self, rejects_path: Path | None, quarantine_path: Path | None) -> None:
        self.rejects_path = rejects_path
        self.quarantine_path = quarantine_path
        self._rejects: BinaryIO | None = None
        self._raw: BinaryIO | None = None

    def keep(self, reject: Reject, raw: bytes) -> None:
        if self.rejects_path is not None:
            if self._rejects is None:
                self.rejects_path.parent.mkdir(parents=True, exist_ok=True)
                self._rejects = self.rejects_path.open("wb")
            line = json.dumps(asdict(reject), ensure_ascii=False) + "\n"
            self._rejects.write(line.encode())
        if self.quarantine_path is not None and raw:
            if self._raw is None:
                self.quarantine_path.parent.mkdir(parents=True, exist_ok=True)
                self._raw = self.quarantine_path.open("wb")
            self._raw.write(raw)

    def close(self) -> None:
        for handle in (self._rejects, self._raw):
            if handle is not None:
                handle.close()


def import_file(
    path: Path,
    *,
    by: User | None,
    format: str = "auto",
    batch_size: int = 500,
    rejects_path: Path | None = None,
    quarantine_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every readable record of ``path``; report the rest."""
    name = detect_format(path) if format == "auto" else format
    if name not in FORMATS:
        raise UnknownFormat(f"unknown format {name!r}")
    report = ImportReport(file=str(path), format=name)
    quarantine = _Quarantine(rejects_path, quarantine_path)
    started = time.perf_counter()
    pending: list[Parsed] = []
    fingerprints: dict[int, str] = {}  # by position, from the parsing process

    def reject(parsed: Parsed, reason: str) -> None:
        item = Reject(parsed.position, parsed.offset, parsed.control_number, reason)
        report.rejected += 1
        if len(report.rejects) < 1000:
            report.rejects.append(item)
        quarantine.keep(item, parsed.raw)

    def flush() -> None:
        _save(pending)
        for parsed in pending:
            fingerprints.pop(parsed.position, None)
        pending.clear()

    def _save(good: list[Parsed]) -> None:
        if not good:
            return
        try:
            saved = services.save_records(
                [p.data for p in good if p.data],
                by=by,
                validated=True,
                fingerprints=[fingerprints.get(p.position, "") for p in good if p.data],
            )
        except DatabaseError:
            if len(good) == 1:
                logger.exception("record %s could not be saved", good[0].position)
                reject(good[0], "the database refused this record")
                return
            middle = len(good) // 2  # find the record the database refuses
            _save(good[:middle])
            _save(good[middle:])
            return
        for result in saved:
            if result.created:
                report.imported += 1
            elif result.changed:
                report.updated += 1
            else:
                report.unchanged += 1

    checkpoint_every: int | None = None
    try:
        large = path.stat().st_size >= BACKGROUND_PARSING_FROM
        collecting = gc.isenabled()
        if large and collecting:  # a full collection costs ~80 ms: only for a long import
            _pause_the_collector()
        checkpoint_every = _sparser_checkpoints() if large else None
        for offset, chunk, prints in _chunks(path, name, batch_size):
            fingerprints.update(prints)
            for parsed in chunk:
                if parsed.ok:
                    pending.append(parsed)
                else:
                    reject(parsed, parsed.error or "unreadable record")
            if len(pending) >= batch_size:
                flush()
                if progress is not None:
                    report.seconds = time.perf_counter() - started
                    progress(offset, report)
        flush()
        services.refresh_statistics(written=report.imported + report.updated)
        if progress is not None:
            report.seconds = time.perf_counter() - started
            progress(path.stat().st_size, report)
    finally:
        if large and collecting:
            gc.enable()
        if checkpoint_every is not None:
            _set_checkpoints(checkpoint_every)
        quarantine.close()
    report.seconds = time.perf_counter() - started
    if quarantine.rejects_path is not None and report.rejected:
        report.rejects_path = str(quarantine.rejects_path)
    if quarantine.quarantine_path is not None and report.rejected:
        report.quarantine_path = str(quarantine.quarantine_path)
    return report


def _pause_the_collector() -> None:
    """No cyclic garbage collection during a long import, in this process and in the parsing
    process forked from it (``gc.enable()`` resumes it afterwards).

    An import makes millions of short-lived objects that hold no reference cycles (20,000
    synthetic records leave 10 cyclic objects behind), and the collector kept walking them,
    the batch in flight and everything alive before the import (Django's objects): about a
    quarter of each process's CPU, after freezing the objects alive before had already saved
    a tenth. Reference counting still frees them all."""
    gc.collect()
    gc.disable()


def _sparser_checkpoints() -> int | None:
    """On SQLite, copy the write-ahead log into the database every 64 MB of it instead of
    every 4 MB during a long import; returns the setting to restore (``None`` elsewhere).

    Each copy ends with an fsync that the commit triggering it waits for, and it writes again
    the index pages that every batch touches; fewer, larger copies write each such page once
    per copy. Commits stay as atomic and durable as before; only the log grows larger
    between copies."""
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (before,) = cursor.fetchone()
    _set_checkpoints(_CHECKPOINT_PAGES)
    return int(before)


def _set_checkpoints(pages: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")


_CHECKPOINT_PAGES = 16384


# Files larger than this are parsed in a second process while this one writes.
BACKGROUND_PARSING_FROM = 4 * 2**20


def _checked(parsed: Parsed) -> Parsed:
    """A record read is also checked against what the catalogue can hold, and given its
    derived work key, here rather than in the writing process: that keeps the per-record
    work of the writer, which the database already holds up, to the saving itself."""
    if parsed.data is None or parsed.error is not None:
        return parsed
    try:
        services.validate(parsed.data)
    except InvalidRecord as error:
        return replace(parsed, data=None, error=error.message)
    fill_work_key(parsed.data)
    return parsed


Chunk = tuple[int, list[Parsed], dict[int, str]]
"""Records read: the byte offset reached after them, the records, and the fingerprints of
those the parsing process fingerprinted, by position."""


def _read(path: Path, format: str, size: int) -> Iterator[tuple[int, list[Parsed]]]:
    """Checked records in lists of ``size``, with the byte offset reached after each list."""
    with path.open("rb") as stream:
        chunk: list[Parsed] = []
        for parsed in FORMATS[format].read(stream):
            chunk.append(_checked(parsed))
            if len(chunk) >= size:
                yield stream.tell(), chunk
                chunk = []
        yield stream.tell(), chunk


def _chunks(path: Path, format: str, size: int) -> Iterator[Chunk]:
    """Parsed records in lists of ``size``, with the byte offset reached after each list."""
    if path.stat().st_size >= BACKGROUND_PARSING_FROM and not connection.in_atomic_block:
        yield from _chunks_in_background(path, format, size)
        return
    for offset, chunk in _read(path, format, size):
        yield offset, chunk, {}


def _parse_into(path: Path, format: str, size: int, queue: Any, parent: int) -> None:
    """The parsing process: send lists of parsed records until the file ends."""

    def send(item: object) -> None:
        while True:
            try:
                queue.put(item, timeout=1)
                return
            except Full:
                if os.getppid() != parent:  # the importer died: stop, do not linger
                    os._exit(1)

    try:
        for offset, chunk in _read(path, format, size):
            send((offset, [_packed(parsed) for parsed in chunk]))
        send(None)
    except BaseException as error:  # report, never hang the importer
        send(RuntimeError(f"reading {path.name} failed: {error!r}"))
    finally:
        queue.close()
        queue.join_thread()  # everything sent has reached the pipe
        os._exit(0)  # skip the parent's exit handlers (database connections) in the child


# A parsed record crosses from the parsing process as plain tuples and lists: pickling the
# dataclasses themselves cost the importer more than saving the record (ADR 0012). Its
# fingerprint comes along, digested from the same values here rather than in the importer.
Packed = tuple[int, int, bytes, str | None, str, list[Any] | None, str]


def _packed(parsed: Parsed) -> Packed:
    data = parsed.data
    values = None if data is None else plain_values(data)
    print_ = "" if values is None else fingerprint_values(values)
    return (
        parsed.position,
        parsed.offset,
        parsed.raw,
        parsed.error,
        parsed.control_number,
        values,
        print_,
    )


def _unpacked(packed: Packed) -> tuple[Parsed, str]:
    """The record and its fingerprint ("" when it has no data)."""
    position, offset, raw, error, control_number, values, print_ = packed
    data = None if values is None else record_from_values(values)
    return Parsed(position, offset, raw, data, error, control_number), print_


def _chunks_in_background(path: Path, format: str, size: int) -> Iterator[Chunk]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)
    worker = context.Process(
        target=_parse_into, args=(path, format, size, queue, os.getpid()), daemon=True
    )
    worker.start()
    try:
        while True:
            try:
                item = queue.get(timeout=5)
            except Empty:
                if not worker.is_alive():
                    raise RuntimeError(f"reading {path.name} stopped unexpectedly") from None
                continue
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            offset, packed = item
            chunk, prints = [], {}
            for each in packed:
                parsed, print_ = _unpacked(each)
                chunk.append(parsed)
                if print_:
                    prints[parsed.position] = print_
            yield offset, chunk, prints
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()


def export(records: Iterable[RecordData], format: str, out: BinaryIO) -> int:
    """Write records in ``format``; returns how many were written."""
    if format not in FORMATS:
        raise UnknownFormat(f"unknown format {format!r}")
    return FORMATS[format].write(records, out)
