"""Records as CSV rows, in the layout documented in docs/csv-format.md, and goodbooks-10k.

The documented layout: a header row naming the columns (any order, any case), UTF-8 with or
without a byte-order mark, one record per row, lists separated by ";". Only ``title`` is
required; unknown columns are ignored. A row without a title, or with a year, resource type,
audience or language that cannot be read, is an error naming its row and line, and the next
row is read. The ``copies`` column (holdings for the demo, "TASH:2;NUK:1") is not part of a
record; ``copies_of`` reads it.

A file whose header is that of goodbooks-10k's books.csv is read with its own crosswalk
(``goodbooks_record``), which also recovers the ISBNs that the dataset mangled into numbers
(``recover_isbn13``).

The reader streams: each line of the binary stream is decoded on its own and fed to the csv
module, so that every row keeps its own bytes and byte offset and a row with bytes that are
not UTF-8 is one error, not the end of the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from stdnum import ean, isbn

from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.formats import Parsed
from kitobxon.catalogue.formats.vocabulary import (
    contributor_from,
    first_year,
    identifier_of,
    language_code,
    split_title,
    unique,
    with_role,
)

COLUMNS = (
    "title",
    "subtitle",
    "authors",
    "editors",
    "translators",
    "contributors",
    "publisher",
    "place",
    "year",
    "edition",
    "extent",
    "languages",
    "resource_type",
    "audience",
    "subjects",
    "isbn",
    "issn",
    "doi",
    "udc",
    "bbk",
    "ddc",
    "lcc",
    "series",
    "abstract",
    "notes",
    "work_key",
    "control_number",
    "control_number_source",
    "copies",
)
RESOURCE_TYPES = (
    "book",
    "textbook",
    "article",
    "journal",
    "issue",
    "dissertation",
    "audio",
    "video",
    "map",
    "3d_model",
    "dataset",
)
AUDIENCES = ("children", "youth", "general", "academic")
_ROLE_COLUMNS = (("authors", "author"), ("editors", "editor"), ("translators", "translator"))
_CLASSIFICATIONS = ("udc", "bbk", "ddc", "lcc")
GOODBOOKS_COLUMNS = frozenset({"goodreads_book_id", "work_id", "isbn13", "original_title"})


def split_list(value: str) -> list[str]:
    """The items of a ";"-separated cell, stripped, empty ones left out."""
    return [item.strip() for item in value.split(";") if item.strip()]


def copies_of(row: Mapping[str, str]) -> dict[str, int]:
    """Copies per branch code from the ``copies`` cell: "TASH:2;NUK:1" → {"TASH": 2, "NUK": 1}.

    Raises ValueError for an item that is not "CODE:number" with a positive number.
    """
    copies: dict[str, int] = {}
    for item in split_list(row.get("copies", "")):
        code, _, count = item.partition(":")
        if not code.strip() or not count.strip().isdigit() or int(count) < 1:
            raise ValueError(f"copies item {item!r} is not BRANCH:number")
        copies[code.strip()] = copies.get(code.strip(), 0) + int(count)
    return copies


# --- The documented layout ------------------------------------------------------------------


def _year(value: str) -> int | None:
    if not value.strip():
        return None
    year = first_year(value)
    if year is None:
        raise ValueError(f"year {value!r} has no four-digit year")
    return year


def _choice(value: str, choices: tuple[str, ...], default: str, column: str) -> str:
    chosen = value.strip().casefold() or default
    if chosen not in choices:
        raise ValueError(f"{column} {value!r} is not one of {', '.join(choices)}")
    return chosen


def _languages(value: str) -> list[str]:
    codes = []
    for item in split_list(value):
        code = language_code(item)
        if code is None:
            raise ValueError(f"language {item!r} is not a known language or ISO 639 code")
        codes.append(code)
    return unique(codes)


def _contributors(row: Mapping[str, str]) -> list[ContributorData]:
    found = [
        contributor_from(name, role)
        for column, role in (*_ROLE_COLUMNS, ("contributors", "contributor"))
        for name in split_list(row.get(column, ""))
    ]
    return unique(found)


def _doi(value: str) -> str:
    found = identifier_of(value)
    return found.value if found is not None and found.scheme == "doi" else value


def _identifiers(row: Mapping[str, str]) -> list[IdentifierData]:
    found = [IdentifierData("isbn", v) for v in split_list(row.get("isbn", ""))]
    found += [IdentifierData("issn", v) for v in split_list(row.get("issn", ""))]
    found += [IdentifierData("doi", _doi(v)) for v in split_list(row.get("doi", ""))]
    return unique(found)


def record_from_row(row: Mapping[str, str]) -> RecordData:
    """The crosswalk from a row of the documented layout (column → cell) to a record.

    Raises ValueError with the reason when the row cannot be a record.
    """
    cell = {column: " ".join(row.get(column, "").split()) for column in COLUMNS}
    if not cell["title"]:
        raise ValueError("the title is empty")
    return RecordData(
        title=cell["title"],
        subtitle=cell["subtitle"],
        contributors=_contributors(row),
        publisher=cell["publisher"],
        place=cell["place"],
        year=_year(cell["year"]),
        edition=cell["edition"],
        extent=cell["extent"],
        languages=_languages(cell["languages"]),
        resource_type=_choice(cell["resource_type"], RESOURCE_TYPES, "book", "resource_type"),
        audience=_choice(cell["audience"], AUDIENCES, "general", "audience"),
        subjects=[SubjectData(label=s) for s in unique(split_list(cell["subjects"]))],
        classifications=[
            ClassificationData(scheme, number)
            for scheme in _CLASSIFICATIONS
            for number in split_list(cell[scheme])
        ],
        identifiers=_identifiers(cell),
        series=cell["series"],
        abstract=row.get("abstract", "").strip(),
        notes=row.get("notes", "").strip(),
        work_key=cell["work_key"],
        control_number=cell["control_number"],
        control_number_source=cell["control_number_source"],
        source_format="csv",
    )


def row_of(record: RecordData) -> list[str]:
    """The cells of a record in ``COLUMNS`` order (``copies`` left empty)."""
    names = {
        column: "; ".join(c.name for c in record.contributors if c.role == role)
        for column, role in _ROLE_COLUMNS
    }
    others = [c for c in record.contributors if c.role not in ("author", "editor", "translator")]
    by_scheme = {
        scheme: "; ".join(i.value for i in record.identifiers if i.scheme == scheme)
        for scheme in ("isbn", "issn", "doi")
    }
    classes = {
        scheme: "; ".join(c.number for c in record.classifications if c.scheme == scheme)
        for scheme in _CLASSIFICATIONS
    }
    cells = {
        **names,
        **by_scheme,
        **classes,
        "title": record.title,
        "subtitle": record.subtitle,
        "contributors": "; ".join(with_role(c, "contributor") for c in others),
        "publisher": record.publisher,
        "place": record.place,
        "year": str(record.year) if record.year else "",
        "edition": record.edition,
        "extent": record.extent,
        "languages": "; ".join(record.languages),
        "resource_type": record.resource_type,
        "audience": record.audience,
        "subjects": "; ".join(s.label for s in record.subjects),
        "series": record.series,
        "abstract": record.abstract,
        "notes": record.notes,
        "work_key": record.work_key,
        "control_number": record.control_number,
        "control_number_source": record.control_number_source,
        "copies": "",
    }
    return [cells[column] for column in COLUMNS]


# --- goodbooks-10k --------------------------------------------------------------------------


@dataclass
class IsbnRecovery:
    """What happened to the ISBN columns of each goodbooks row."""

    from_isbn10: int = 0  # the ISBN-10 column, zero-padded, was valid
    from_isbn13: int = 0  # rebuilt from the ISBN-13 that had become a float
    disagreeing: int = 0  # of from_isbn10: the float pointed elsewhere (the ISBN-10 won)
    ambiguous: int = 0  # two ISBN-13s fit the float and no ISBN-10 could choose: left out
    lost: int = 0  # something was there, but no valid ISBN: left out
    absent: int = 0  # both columns empty

    @property
    def recovered(self) -> int:
        return self.from_isbn10 + self.from_isbn13


_ISBN10_CELL = re.compile(r"^\d{1,9}[\dX]$")


def _padded_isbn10(cell: str) -> str | None:
    """The ISBN-10 column with the leading zeros that became a number lost put back."""
    value = cell.strip().upper()
    return value.zfill(10) if _ISBN10_CELL.match(value) else None


def isbn13_candidates(cell: str) -> list[str]:
    """The valid ISBN-13s that a number like 9.78043902348e+12 can have come from.

    Written in exponent form with 12 significant digits ("%.12g"), the number lost its check
    digit, and its 12th digit was rounded: up when the lost digit was over 5, to even when it
    was exactly 5. So the true ISBN starts with one of two 12-digit prefixes (the printed one,
    or one less); each, completed with its check digit, is a candidate if it prints as the
    cell does. A number written out in full is its own only candidate.
    """
    try:
        number = Decimal(cell.strip())
    except InvalidOperation:
        return []
    if not number.is_finite() or number != number.to_integral_value():
        return []
    value = int(number)
    if not 10**12 <= value < 10**13:
        return []
    if "e" not in cell.casefold():
        exact = str(value)
        return [exact] if exact[:3] in ("978", "979") and ean.is_valid(exact) else []
    written = float(cell)
    candidates = []
    for prefix in sorted({(value - 5) // 10, (value + 5) // 10}):
        completed = prefix * 10 + int(ean.calc_check_digit(str(prefix)))
        if str(prefix)[:3] in ("978", "979") and float(f"{completed:.12g}") == written:
            candidates.append(str(completed))
    return candidates


def recover_isbn13(isbn10_cell: str, isbn13_cell: str, tally: IsbnRecovery) -> str | None:
    """The book's ISBN-13 from goodbooks' two damaged columns, or None (counted in ``tally``).

    The ISBN-10 column lost its leading zeros: padded to ten characters and valid, it is
    exact and wins. Otherwise the ISBN-13 float is rebuilt (``isbn13_candidates``); a
    candidate must agree with the ISBN-10 column's first nine digits when that column has
    any, and two candidates that nothing can choose between are left out.
    """
    padded = _padded_isbn10(isbn10_cell)
    candidates = isbn13_candidates(isbn13_cell)
    if padded and isbn.is_valid(padded):
        found = isbn.to_isbn13(padded)
        tally.from_isbn10 += 1
        tally.disagreeing += bool(candidates) and found not in candidates
        return str(found)
    if padded:
        candidates = [c for c in candidates if c[:12] == "978" + padded[:9]]
    if len(candidates) == 1:
        tally.from_isbn13 += 1
        return candidates[0]
    if len(candidates) > 1:
        tally.ambiguous += 1
    elif isbn10_cell.strip() or isbn13_cell.strip():
        tally.lost += 1
    else:
        tally.absent += 1
    return None


_SUFFIXES = {"jr.", "jr", "sr.", "sr", "ii", "iii", "iv"}
_PARTICLES = {"van", "von", "de", "da", "del", "della", "der", "di", "du", "la", "le", "bin", "ibn"}


def inverted_name(name: str) -> str:
    """ "Forename Surname" as "Surname, Forename" (a name of one word stays as it is).

    Lower-case particles stay with the surname ("Ludwig van Beethoven" → "van Beethoven,
    Ludwig"), a generational suffix goes last ("Martin Luther King Jr." → "King, Martin
    Luther, Jr.").
    """
    words = name.split()
    suffix = words.pop() if len(words) > 2 and words[-1].casefold() in _SUFFIXES else ""
    if len(words) < 2:
        return " ".join([*words, suffix]).strip()
    surname = [words.pop()]
    while len(words) > 1 and words[-1] in _PARTICLES:
        surname.insert(0, words.pop())
    inverted = f"{' '.join(surname)}, {' '.join(words)}"
    return f"{inverted}, {suffix}" if suffix else inverted


def _goodbooks_authors(cell: str) -> list[ContributorData]:
    """Goodbooks lists people "Forename Surname", comma-separated, with no roles."""
    names: list[str] = []
    for part in (p.strip() for p in cell.split(",")):
        if part.casefold() in _SUFFIXES and names:
            names[-1] = f"{names[-1]} {part}"
        elif part:
            names.append(part)
    return unique(ContributorData(name=inverted_name(n)) for n in names)


_SERIES = re.compile(r"^(?P<title>.*?)\s*\((?P<series>[^()]*#[^()]*)\)\s*$")
_SERIES_NUMBER = re.compile(r"^(?P<name>.*?),?\s*#\s*(?P<number>\S+)$")


def _series(text: str) -> list[str]:
    """ "The Hunger Games, #1; Tribute #2" → ["The Hunger Games ; 1", "Tribute ; 2"]."""
    found = []
    for item in split_list(text):
        match = _SERIES_NUMBER.match(item)
        found.append(f"{match['name']} ; {match['number']}" if match else item)
    return found


def goodbooks_record(row: Mapping[str, str], tally: IsbnRecovery) -> RecordData:
    """The crosswalk from a goodbooks-10k books.csv row to a record.

    The series in brackets at the end of the title goes to ``series`` (the first one; others
    to the notes), ``original_publication_year`` ("2008.0", "-720.0") to ``year`` (a year BC
    to the notes), ``work_id`` to the work key "goodreads-<work_id>" and
    ``goodreads_book_id`` to the control number.
    """
    full_title = " ".join(row.get("title", "").split())
    if not full_title:
        raise ValueError("the title is empty")
    match = _SERIES.match(full_title)
    series = _series(match["series"]) if match else []
    title, subtitle = split_title(match["title"] if match else full_title)
    notes = [f"Also in the series {s}" for s in series[1:]]
    original = " ".join(row.get("original_title", "").split())
    if original and original not in (title, full_title, f"{title}: {subtitle}"):
        notes.append(f"Original title: {original}")
    year = None
    try:
        published = int(Decimal(row.get("original_publication_year", "").strip() or "0"))
    except InvalidOperation:
        published = 0
    if published > 0:
        year = published
    elif published < 0:
        notes.append(f"First published {-published} BC")
    language = language_code(row.get("language_code", ""))
    isbn13 = recover_isbn13(row.get("isbn", ""), row.get("isbn13", ""), tally)
    work_id = row.get("work_id", "").strip()
    return RecordData(
        title=title,
        subtitle=subtitle,
        contributors=_goodbooks_authors(row.get("authors", "")),
        year=year,
        languages=[language] if language else [],
        identifiers=[IdentifierData("isbn", isbn13)] if isbn13 else [],
        series=series[0] if series else "",
        notes=". ".join(notes),
        work_key=f"goodreads-{work_id}" if work_id else "",
        control_number=row.get("goodreads_book_id", "").strip(),
        control_number_source="goodreads",
        source_format="csv",
    )


# --- Reading and writing --------------------------------------------------------------------


class _Lines:
    """The stream's lines, decoded one by one, remembering the bytes of the current row."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._row = bytearray()
        self.consumed = 0
        self.bad = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._stream.readline()
        if not line:
            raise StopIteration
        if self.consumed == 0 and line.startswith(codecs.BOM_UTF8):
            self.consumed, line = len(codecs.BOM_UTF8), line[len(codecs.BOM_UTF8) :]
        self.consumed += len(line)
        self._row += line
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self.bad = True
            return line.decode("utf-8", "replace")

    def start_row(self) -> int:
        """Forget the last row; returns the byte offset where the next one starts."""
        self._row.clear()
        self.bad = False
        return self.consumed

    def row_bytes(self) -> bytes:
        return bytes(self._row)


def read(stream: BinaryIO, *, isbn_recovery: IsbnRecovery | None = None) -> Iterator[Parsed]:
    """One ``Parsed`` per data row (blank rows skipped), streamed.

    ``isbn_recovery``, when given, counts what happened to goodbooks ISBNs.
    """
    tally = isbn_recovery if isbn_recovery is not None else IsbnRecovery()
    lines = _Lines(stream)
    reader = csv.reader(lines, strict=True)
    try:
        header = [cell.strip().casefold() for cell in next(reader)]
    except StopIteration:
        return
    except csv.Error as error:
        yield Parsed(1, 0, lines.row_bytes(), error=f"the header row cannot be read: {error}")
        return
    goodbooks = set(header) >= GOODBOOKS_COLUMNS
    if not goodbooks and "title" not in header:
        yield Parsed(
            1, 0, lines.row_bytes(), error="the first row must be a header naming a title column"
        )
        return
    position = 0
    while True:
        offset, line = lines.start_row(), reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            position += 1
            yield Parsed(
                position, offset, lines.row_bytes(), error=f"row {position} (line {line}): {error}"
            )
            continue
        position += 1
        raw = lines.row_bytes()
        where = f"row {position} (line {line})"
        if not any(cell.strip() for cell in cells):
            continue
        if lines.bad:
            yield Parsed(position, offset, raw, error=f"{where}: the bytes are not UTF-8")
            continue
        row = dict(zip(header, cells, strict=False))
        try:
            data = goodbooks_record(row, tally) if goodbooks else record_from_row(row)
        except ValueError as error:
            yield Parsed(position, offset, raw, error=f"{where}: {error}")
            continue
        data.source_data = raw
        yield Parsed(position, offset, raw, data=data, control_number=data.control_number)


def _line(cells: Iterable[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


def write(records: Iterable[RecordData], out: BinaryIO) -> int:
    """The documented layout: the header, then one row per record; returns the count."""
    out.write(_line(COLUMNS))
    count = 0
    for record in records:
        out.write(_line(row_of(record)))
        count += 1
    return count
