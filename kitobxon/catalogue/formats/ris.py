"""RIS records in and out, with rispy.

Reading streams record by record: a record runs from its ``TY  -`` line to its ``ER  -``
line, and each is parsed by rispy on its own. A record that never reaches ``ER``, a line that
looks like a tag but is not one ("AU - Name"), bytes that are not UTF-8 or a record without a
title are errors naming the record and its line; the records around it still import. Lines
outside records (blank lines, "1." counters) are skipped.

The crosswalk: ``TY`` → resource type (``M3`` may name a finer one for BOOK, GEN and JFULL),
``TI``/``T1`` → title and subtitle, ``AU``/``A1`` → authors, ``A2``/``ED`` → editors, ``A4`` →
translators, ``A3`` → contributors ("Name (role)" carries the role), ``PY``/``Y1``/``DA`` →
year, ``PB``, ``CY`` → place, ``SN`` → ISBN or ISSN by shape, ``DO``, ``KW`` → subjects,
``AB``/``N2`` → abstract, ``LA``, ``ET`` → edition, ``T2``/``JO``/``JF``/``JA``/``T3`` → series
(the journal of an article), ``VL``/``IS``/``SP``–``EP`` → notes ("Vol. 12, no. 3, pp. 45–67"),
``N1`` → notes, ``UR`` → "other" identifiers. ``ID`` names the record in reports
(``Parsed.control_number``) but is not made its control number: reference managers number
their exports 1, 2, 3…, and two files would then update each other's records.

Writing gives UTF-8 RIS with CRLF line ends, one blank line between records; values are
written on one line each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import rispy
from rispy.config import LIST_TYPE_TAGS, TAG_KEY_MAPPING

from kitobxon.catalogue.data import IdentifierData, RecordData, SubjectData
from kitobxon.catalogue.formats import Parsed
from kitobxon.catalogue.formats.vocabulary import (
    contributor_from,
    first_year,
    host_details,
    identifier_of,
    join_title,
    language_code,
    resource_type_of,
    split_title,
    unique,
    with_role,
)

TYPES = {
    **dict.fromkeys(
        ("JOUR", "EJOUR", "MGZN", "NEWS", "ABST", "INPR", "CPAPER", "CHAP", "ECHAP"), "article"
    ),
    **dict.fromkeys(("JFULL", "SER"), "journal"),
    "THES": "dissertation",
    "SOUND": "audio",
    **dict.fromkeys(("VIDEO", "MPCT", "ADVS"), "video"),
    "MAP": "map",
    **dict.fromkeys(("DATA", "DBASE", "AGGR"), "dataset"),
}  # every other type (BOOK, EBOOK, EDBOOK, GEN, ELEC, RPRT, …) is a book
_REFINABLE = {"BOOK", "GEN", "JFULL", "ELEC"}
_WRITE_TYPES = {
    "book": ("BOOK", ""),
    "textbook": ("BOOK", "textbook"),
    "article": ("JOUR", ""),
    "journal": ("JFULL", ""),
    "issue": ("JFULL", "journal issue"),
    "dissertation": ("THES", ""),
    "audio": ("SOUND", ""),
    "video": ("VIDEO", ""),
    "map": ("MAP", ""),
    "3d_model": ("GEN", "3D model"),
    "dataset": ("DATA", ""),
}

MAPPING = {**TAG_KEY_MAPPING, "ED": "editors"}
LIST_TAGS = [*LIST_TYPE_TAGS, "ED", "SN", "LA"]
_ROLE_KEYS = (
    ("authors", "author"),
    ("first_authors", "author"),
    ("secondary_authors", "editor"),
    ("editors", "editor"),
    ("subsidiary_authors", "translator"),
    ("tertiary_authors", "contributor"),
)

_START = re.compile(rb"^TY  -")
_END = re.compile(rb"^ER  -")
_TAG_LIKE = re.compile(r"^[A-Z][A-Z0-9] {0,4}-(?: |$)")
_TAG = re.compile(r"^[A-Z][A-Z0-9]  -(?: |$)")
_BOM = b"\xef\xbb\xbf"


# --- Reading --------------------------------------------------------------------------------


def _records(stream: BinaryIO) -> Iterator[tuple[int, int, bytes, str]]:
    """(byte offset, line number, bytes, problem) of each record from TY to ER."""
    offset = 0
    start: tuple[int, int] | None = None
    block = bytearray()
    for line_number, read_line in enumerate(iter(stream.readline, b""), start=1):
        line = read_line
        if offset == 0 and line.startswith(_BOM):
            offset, line = len(_BOM), line[len(_BOM) :]
        if _START.match(line):
            if start is not None:
                yield start[0], start[1], bytes(block), "no ER line before the next TY"
            start, block = (offset, line_number), bytearray()
        if start is not None:
            block += line
            if _END.match(line):
                yield start[0], start[1], bytes(block), ""
                start = None
        offset += len(line)
    if start is not None:
        yield start[0], start[1], bytes(block), "the file ends before the record's ER line"


def _malformed_line(text: str, first_line: int) -> str:
    """The first line that looks like a tag but is not written "XX  - value", if any."""
    for number, line in enumerate(text.splitlines(), start=first_line):
        if _TAG_LIKE.match(line) and not _TAG.match(line):
            return f'line {number}: {line.strip()!r} is not a tag line ("XX  - value")'
    return ""


def _texts(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value] if value else []
    return [" ".join(str(v).split()) for v in values if str(v).strip()]


def _first(ref: dict[str, Any], *keys: str) -> str:
    return next((text for key in keys for text in _texts(ref.get(key))), "")


def _standard_number(text: str) -> IdentifierData | None:
    """SN holds an ISBN or an ISSN: by shape, else by its count of digits."""
    found = identifier_of(text)
    if found is None or found.scheme in ("isbn", "issn", "doi"):
        return found
    digits = re.sub(r"[^0-9Xx]", "", re.sub(r"\s*[(\[].*$", "", text))
    if len(digits) == 8:
        return IdentifierData("issn", found.value)
    if len(digits) in (10, 13):
        return IdentifierData("isbn", found.value)
    return found


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in re.split(r"[;,]", value) if part.strip()]


def record_from_ris(ref: dict[str, Any]) -> RecordData:
    """The crosswalk from one rispy record (tag names → values) to a record."""
    full_title = _first(ref, "title", "primary_title")
    if not full_title:
        raise ValueError("the record has no TI or T1 title")
    title, subtitle = split_title(full_title)
    kind = _first(ref, "type_of_reference").upper()
    resource_type = TYPES.get(kind, "book")
    if kind in _REFINABLE:
        resource_type = resource_type_of(_texts(ref.get("type_of_work"))) or resource_type
    contributors = [
        contributor_from(name, role) for key, role in _ROLE_KEYS for name in _texts(ref.get(key))
    ]
    start, end = _first(ref, "start_page"), _first(ref, "end_page")
    pages = f"{start}–{end}" if start and end else start or end
    details = host_details(_first(ref, "volume"), _first(ref, "number"), pages)
    identifiers = [_standard_number(v) for v in _split(_texts(ref.get("issn")))]
    doi = identifier_of(_first(ref, "doi"))
    identifiers += [IdentifierData("doi", doi.value) if doi else None]
    identifiers += [IdentifierData("other", url) for url in _texts(ref.get("urls"))]
    return RecordData(
        title=title,
        subtitle=subtitle,
        contributors=unique(contributors),
        publisher=_first(ref, "publisher"),
        place=_first(ref, "place_published"),
        year=first_year(_first(ref, "year", "publication_year", "date")),
        edition=_first(ref, "edition"),
        languages=unique(language_code(v) for v in _split(_texts(ref.get("language")))),
        resource_type=resource_type,
        subjects=[SubjectData(label=k) for k in unique(_texts(ref.get("keywords")))],
        identifiers=unique(identifiers),
        series=_first(
            ref,
            "secondary_title",
            "journal_name",
            "alternate_title3",
            "alternate_title2",
            "tertiary_title",
        ),
        abstract=_first(ref, "abstract", "notes_abstract"),
        notes=". ".join([*([details] if details else []), *_texts(ref.get("notes"))]),
        source_format="ris",
    )


def read(stream: BinaryIO) -> Iterator[Parsed]:
    """One ``Parsed`` per record from TY to ER, streamed."""
    for position, (offset, line, raw, problem) in enumerate(_records(stream), start=1):
        where = f"record {position} (line {line})"
        if problem:
            yield Parsed(position, offset, raw, error=f"{where}: {problem}")
            continue
        try:
            text = raw.decode("utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            yield Parsed(position, offset, raw, error=f"{where}: the bytes are not UTF-8")
            continue
        malformed = _malformed_line(text, line)
        if malformed:
            yield Parsed(position, offset, raw, error=f"{where}: {malformed}")
            continue
        refs = rispy.loads(text, mapping=MAPPING, list_tags=LIST_TAGS)
        try:
            if len(refs) != 1:
                raise ValueError("rispy found no record between TY and ER")
            data = record_from_ris(refs[0])
        except ValueError as error:
            yield Parsed(position, offset, raw, error=f"{where}: {error}")
            continue
        data.source_data = raw
        yield Parsed(position, offset, raw, data=data, control_number=_first(refs[0], "id"))


# --- Writing --------------------------------------------------------------------------------


class _Writer(rispy.RisWriter):
    """rispy's writer without the "1." counter line before each record, with CRLF."""

    NEWLINE = "\r\n"

    def set_header(self, count: int) -> str:
        return ""


def reference_of(record: RecordData) -> dict[str, Any]:
    """A record as a rispy reference (tag names → values), every value on one line."""

    def names(*roles: str) -> list[str]:
        plain = roles[0] if len(roles) == 1 else "contributor"
        return [with_role(c, plain) for c in record.contributors if c.role in roles]

    kind, type_of_work = _WRITE_TYPES.get(record.resource_type, ("GEN", ""))
    reference: dict[str, Any] = {
        "type_of_reference": kind,
        "title": join_title(record.title, record.subtitle),
        "authors": names("author"),
        "secondary_authors": names("editor"),
        "subsidiary_authors": names("translator"),
        "tertiary_authors": names(
            "illustrator", "supervisor", "compiler", "narrator", "director", "contributor"
        ),
        "year": str(record.year or ""),
        "publisher": record.publisher,
        "place_published": record.place,
        "edition": record.edition,
        "issn": [i.value for i in record.identifiers if i.scheme in ("isbn", "issn")],
        "doi": next((i.value for i in record.identifiers if i.scheme == "doi"), ""),
        "urls": [i.value for i in record.identifiers if i.scheme == "other" and "://" in i.value],
        "keywords": [s.label for s in record.subjects],
        "language": record.languages,
        "secondary_title": record.series,
        "abstract": record.abstract,
        "notes": [record.notes] if record.notes else [],
        "type_of_work": type_of_work,
        "id": record.control_number,
    }
    return {key: _one_line(value) for key, value in reference.items() if value}


def _one_line(value: Any) -> Any:
    if isinstance(value, list):
        return [" ".join(str(v).split()) for v in value]
    return " ".join(str(value).split())


def write(records: Iterable[RecordData], out: BinaryIO) -> int:
    """RIS, UTF-8, one record after another; returns the count."""
    writer = _Writer(mapping=MAPPING, list_tags=LIST_TAGS)
    count = 0
    for record in records:
        if count:
            out.write(b"\r\n")
        out.write(writer.formats([reference_of(record)]).encode("utf-8"))
        count += 1
    return count
