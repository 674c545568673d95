"""Import and export formats: pure crosswalks between files and ``RecordData``.

Every reader is ``read(stream: BinaryIO) -> Iterator[Parsed]``: it streams, never loads the
whole file, and never raises for one bad record — it yields a ``Parsed`` with ``error`` set and
goes on with the next. Every writer is ``write(records: Iterable[RecordData], out: BinaryIO)
-> int`` (records written), streaming too.
"""

from __future__ import annotations

from dataclasses import dataclass

from kitobxon.catalogue.data import RecordData


@dataclass
class Parsed:
    """One record read from a file, or the reason it could not be read."""

    position: int  # 1-based number of the record in the file
    offset: int  # byte offset where the record starts, -1 when unknown
    raw: bytes  # the record's own bytes, saved to the quarantine file when rejected
    data: RecordData | None = None
    error: str | None = None
    control_number: str = ""

    @property
    def ok(self) -> bool:
        return self.data is not None and self.error is None
