"""The ledger API's shapes. Hashes travel as standard base64, as in RFC 9162 and C2SP notes."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import Any

from ninja import Field, Schema

from kitobxon.ledger import subjects
from kitobxon.ledger.models import Entry

FILE_KINDS = ("file.registered", "file.replaced")
"""The entries that register a file's bytes: what "is this file authentic?" looks for."""

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
"""A file's SHA-256 as the ledger stores it: 64 lower-case hexadecimal digits."""


class EntryOut(Schema):
    index: int
    kind: str
    subject: str
    time: str = Field(description="when the change happened, from the body (UTC, ISO 8601)")
    body: str = Field(description="the canonical JSON text exactly as hashed")
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 || UTF-8 body)")


class InclusionOut(Schema):
    index: int
    size: int
    leaf_hash: str
    proof: list[str] = Field(description="RFC 9162 inclusion path, leaf side first, base64")


class ConsistencyParams(Schema):
    first: int = Field(alias="from", description="the older tree size (at least 1)")
    to: int = Field(description="the newer tree size, at most the tree's size now")


class ConsistencyOut(Schema):
    first: int = Field(alias="from")
    to: int
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64")


class HeadOut(Schema):
    size: int
    root_hash: str


class FileEntryOut(Schema):
    index: int | None = Field(description="the leaf index; null while the entry is queued")
    subject: str
    record: str = Field(description="the subject of the record the file belongs to, or empty")
    record_title: str = ""
    record_url: str = ""
    time: str
    body: str
    leaf_hash: str


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def body_of(entry: Entry) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(entry.body)
    return body


def entry_out(entry: Entry) -> dict[str, Any]:
    return {
        "index": entry.leaf_index,
        "kind": entry.kind,
        "subject": entry.subject,
        "time": body_of(entry)["time"],
        "body": entry.body,
        "leaf_hash": b64(bytes(entry.leaf_hash)),
    }


def file_entries_out(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """File registrations with the record each belongs to named (one lookup per record)."""
    named: dict[str, subjects.Described | None] = {}
    out = []
    for entry in entries:
        body = body_of(entry)
        data = body.get("data")
        record = str(data.get("record", "")) if isinstance(data, dict) else ""
        if record and record not in named:
            named[record] = subjects.describe(record)
        described = named.get(record)
        out.append(
            {
                "index": entry.leaf_index,
                "subject": entry.subject,
                "record": record,
                "record_title": described.title if described else "",
                "record_url": described.url if described else "",
                "time": body["time"],
                "body": entry.body,
                "leaf_hash": b64(bytes(entry.leaf_hash)),
            }
        )
    return out
