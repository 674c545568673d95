"""MARC 21 in ISO 2709: cutting a stream into records, repairing damaged leaders and
directories, detecting the character coding from the bytes, and the record bytes a writer
emits.

The mapping decisions are recorded in docs/adr/0013-marc-crosswalk.md.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator
from typing import BinaryIO

from pymarc import Field, Indicators, Record, Subfield
from pymarc.exceptions import PymarcException
from pymarc.marc8 import marc8_to_unicode
from pymarc.marc8_mapping import CODESETS

from kitobxon.catalogue.formats import Parsed
from kitobxon.catalogue.formats.marc.mapping import _control_value, data_from_marc

logger = logging.getLogger(__name__)


_RECORD_TERMINATOR = 0x1D
_FIELD_TERMINATOR = 0x1E
_LEADER_LENGTH = 24
_ENTRY_LENGTH = 12
_ISO2709_MAX_LENGTH = 99999
_READ_SIZE = 1 << 16
_MAX_RECORD_BYTES = 8 << 20
_FILLER = frozenset(b" \t\r\n\x00\x1a")
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"

_UTF8 = "UTF-8"
_MARC8 = "MARC-8"
_MARC8_ESCAPE = re.compile(rb"\x1b[()$,\-bgps]")
_ANSEL_BYTES = bytes(sorted(code for code in CODESETS[0x45] if code > 0x7F))
_NOT_MARC8 = re.compile(b"[^\x00-\x7f" + re.escape(_ANSEL_BYTES) + b"]")
_ODD_SUBFIELD_CODE = re.compile(rb"\x1f[\x80-\xff]")
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))
_BLANK_INDICATORS = ("#", "\\")
_NOT_BIBLIOGRAPHIC = {
    "z": "an authority record",
    "u": "a holdings record",
    "v": "a holdings record",
    "x": "a holdings record",
    "y": "a holdings record",
    "q": "a community information record",
}


def read_marc21(stream: BinaryIO) -> Iterator[Parsed]:
    """Read MARC 21 records in ISO 2709 one at a time, in constant memory.

    Every record yields a ``Parsed``: its data, or the reason it cannot be read. A broken
    record never stops the file.
    """
    for position, (offset, raw) in enumerate(_iso2709_records(stream), start=1):
        yield _parsed_from_iso2709(raw, position, offset)


def _iso2709_records(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Cut a stream into records as (byte offset, bytes), holding one record and one read block.

    A record ends where its leader's record length says, if the record terminator (0x1D) is
    there; otherwise the length is wrong and the record ends at the next terminator. Filler
    between records (line breaks, spaces, NULs, a DOS end-of-file, a byte order mark) is
    skipped.
    """
    buffer = b""
    start = 0  # where the next record begins in buffer
    base = 0  # file offset of buffer[0]
    at_end = False

    def read_more(size: int = _READ_SIZE) -> None:
        nonlocal buffer, start, base, at_end
        block = stream.read(size)
        if not block:
            at_end = True
            return
        buffer = buffer[start:] + block
        base += start
        start = 0

    while True:
        while True:
            while start < len(buffer) and buffer[start] in _FILLER:
                start += 1
            if buffer.startswith(_BYTE_ORDER_MARK, start):
                start += len(_BYTE_ORDER_MARK)
                continue
            if len(buffer) - start >= len(_BYTE_ORDER_MARK) or at_end:
                break
            read_more()
        if start >= len(buffer):
            return
        while len(buffer) - start < 5 and not at_end:
            read_more()
        head = buffer[start : start + 5]
        length = int(head) if head.isdigit() else 0
        end = 0
        if length > _LEADER_LENGTH:
            while len(buffer) - start < length and not at_end:
                read_more()
            if len(buffer) - start >= length and buffer[start + length - 1] == _RECORD_TERMINATOR:
                end = start + length
        if not end:
            found = buffer.find(b"\x1d", start)
            while found < 0 and not at_end and len(buffer) - start < _MAX_RECORD_BYTES:
                searched = len(buffer) - start
                read_more(max(_READ_SIZE, searched))
                found = buffer.find(b"\x1d", start + searched)
            end = found + 1 if found >= 0 else min(len(buffer), start + _MAX_RECORD_BYTES)
        yield base + start, buffer[start:end]
        start = end


def _parsed_from_iso2709(raw: bytes, position: int, offset: int, *, lean: bool = True) -> Parsed:
    record, problem = _decoded_iso2709(raw, lean=lean)
    if record is None:
        return Parsed(position, offset, raw, error=problem, control_number=_control_number_in(raw))
    return _parsed_from_record(record, raw, "marc21", position, offset)


def _parsed_from_record(
    record: Record, raw: bytes, source_format: str, position: int, offset: int
) -> Parsed:
    kind = str(record.leader)[6]
    if kind in _NOT_BIBLIOGRAPHIC:
        return Parsed(
            position,
            offset,
            raw,
            error=f"leader/06 '{kind}' makes this {_NOT_BIBLIOGRAPHIC[kind]}, not a "
            "bibliographic record",
            control_number=_control_value(record, "001"),
        )
    try:
        data = data_from_marc(record)
    except Exception as exc:  # one odd record must not stop the file
        logger.exception("MARC record %s could not be mapped", position)
        control_number = _control_value(record, "001")
        return Parsed(
            position,
            offset,
            raw,
            error=f"the record could not be mapped: {exc}",
            control_number=control_number,
        )
    data.source_format = source_format
    data.source_data = raw
    return Parsed(position, offset, raw, data=data, control_number=data.control_number)


def _decoded_iso2709(raw: bytes, *, lean: bool = True) -> tuple[Record | None, str]:
    """One ISO 2709 record as a Unicode pymarc record, or the reason it cannot be one.

    A UTF-8 record with nothing odd in it (the bulk of any import) is split by
    ``_utf8_record``; every other record, and ``lean=False``, goes through pymarc's reader,
    which stays the reference: both give the same record.
    """
    problem = _structure_problem(raw)
    if problem:
        repaired = _repaired_directory(raw)
        if repaired is None or _structure_problem(repaired):
            return None, problem
        raw = repaired
    raw = _with_marc21_constants(raw)
    coding, problem = _coding_of(raw)
    if problem:
        return None, problem
    chunk = _leader_for_pymarc(raw, coding)
    if lean and coding == _UTF8:
        record = _utf8_record(chunk)
        if record is not None:
            return record, ""
    try:
        record = _pymarc_record(chunk, coding)
        problem = _to_unicode(record, coding, plain=raw.isascii() and coding == _UTF8)
    except (PymarcException, ValueError, IndexError, KeyError, TypeError) as exc:
        return None, f"the record cannot be parsed: {exc}"
    if problem:
        return None, problem
    return record, ""


def _structure_problem(raw: bytes) -> str:
    """Why a record's leader or directory cannot be trusted, in words; "" when they can.

    ISO 2709: a 24-byte leader whose positions 12-16 give the base address of data; a
    directory of 12-byte entries (tag, field length, starting position) ended by a field
    terminator; every field ending with a field terminator; the record with 0x1D.
    """
    size = len(raw)
    if size <= _LEADER_LENGTH + 1:
        return f"the record is only {size} bytes, too short for a leader and a directory"
    if raw[-1] != _RECORD_TERMINATOR:
        return "the record is truncated: it does not end with a record terminator (0x1D)"
    leader = raw[:_LEADER_LENGTH]
    if not leader[:20].isascii():
        return "the leader contains bytes that are not ASCII"
    base_digits = leader[12:17]
    if not base_digits.isdigit():
        return f"leader/12-16 (base address of data) is {base_digits.decode()!r}, not a number"
    base = int(base_digits)
    if base <= _LEADER_LENGTH or base >= size:
        return f"leader/12-16 (base address of data) {base} lies outside the record ({size} bytes)"
    if raw[base - 1] != _FIELD_TERMINATOR:
        return "the directory does not end with a field terminator at the base address of data"
    directory = raw[_LEADER_LENGTH : base - 1]
    if not directory:
        return "the record has no fields"
    if len(directory) % _ENTRY_LENGTH:
        return (
            f"the directory is {len(directory)} bytes, not a multiple of 12: "
            "an entry is damaged or a field is too long for it"
        )
    if _sound_fields(raw, base, directory):
        return ""
    for number, at in enumerate(range(0, len(directory), _ENTRY_LENGTH), start=1):
        entry = directory[at : at + _ENTRY_LENGTH]
        tag = entry[:3]
        if not tag.isalnum():
            return f"directory entry {number} has an invalid tag {tag.decode()!r}"
        if not entry[3:].isdigit():
            return (
                f"directory entry {number} (field {tag.decode()}) has a length or starting "
                "position that is not a number"
            )
        start = base + int(entry[7:12])
        end = start + int(entry[3:7])
        if end >= size or end <= start or raw[end - 1] != _FIELD_TERMINATOR:
            if size > _ISO2709_MAX_LENGTH:
                return (
                    f"the record is {size} bytes, over ISO 2709's limit of 99999, and its "
                    f"directory cannot locate field {tag.decode()}"
                )
            return (
                f"field {tag.decode()} (directory entry {number}) does not end with a field "
                "terminator: the directory's lengths or starting positions are wrong"
            )
        if not (tag.isdigit() and tag < b"010"):
            indicators = raw[start : min(start + 2, end - 1)].split(b"\x1f", 1)[0]
            if indicators.translate(None, _PRINTABLE_ASCII):
                return f"field {tag.decode()} has invalid indicator bytes {indicators!r}"
    return ""


_DIRECTORY_ENTRY = re.compile(rb"([0-9A-Za-z]{3})([0-9]{4})([0-9]{5})")


def _sound_fields(raw: bytes, base: int, directory: bytes) -> bool:
    """The quick check a sound record passes: every entry well formed, every field ending
    with a field terminator inside the record, every data field's indicators printable."""
    entries = _DIRECTORY_ENTRY.findall(directory)
    if len(entries) * _ENTRY_LENGTH != len(directory):
        return False
    last = len(raw) - 1
    for tag, length, start in entries:
        begin = base + int(start)
        end = begin + int(length) - 1
        if not begin <= end < last or raw[end] != _FIELD_TERMINATOR:
            return False
        if (tag >= b"010" or not tag.isdigit()) and raw[begin : begin + 2].translate(
            None, _PRINTABLE_ASCII
        ):
            return False
    return True


def _repaired_directory(raw: bytes) -> bytes | None:
    """The record with its directory rebuilt from the data, when only the directory's numbers
    are wrong: a base address that misses the directory's end, or field lengths counted in
    characters instead of bytes. The tags stay; the fields are the data cut at each field
    terminator. That is safe only when the pieces match the entries one for one, in the
    order of their starting positions."""
    end = raw.find(b"\x1e", _LEADER_LENGTH)
    if end < 0 or (end - _LEADER_LENGTH) % _ENTRY_LENGTH or raw[-1] != _RECORD_TERMINATOR:
        return None
    directory = raw[_LEADER_LENGTH:end]
    entries = [directory[at : at + _ENTRY_LENGTH] for at in range(0, len(directory), _ENTRY_LENGTH)]
    if not entries or not all(e[:3].isalnum() and e[3:].isdigit() for e in entries):
        return None
    starts = [int(e[7:12]) for e in entries]
    if starts != sorted(starts):
        return None
    data = raw[end + 1 : -1]
    pieces = data.split(b"\x1e")
    if pieces[-1] or len(pieces) - 1 != len(entries):
        return None
    rebuilt = []
    start = 0
    for entry, piece in zip(entries, pieces, strict=False):
        rebuilt.append(entry[:3] + b"%04d%05d" % (len(piece) + 1, start))
        start += len(piece) + 1
    base = end + 1
    if any(len(piece) >= 9999 for piece in pieces) or base + start + 1 > _ISO2709_MAX_LENGTH:
        return None
    leader = b"%05d" % (base + start + 1) + raw[5:12] + b"%05d" % base + raw[17:_LEADER_LENGTH]
    return leader + b"".join(rebuilt) + b"\x1e" + data + b"\x1d"


def _coding_of(raw: bytes) -> tuple[str, str]:
    """The character coding a record's bytes are really in, whatever leader/09 says.

    MARC-8 escape sequences mean MARC-8. Pure ASCII reads the same in both, except for the
    numeric character references ("&#x8ECA;") by which MARC-8 carries other characters: they
    count when leader/09 says MARC-8. Bytes that decode as UTF-8 are UTF-8: MARC-8 puts a
    diacritic before its base letter, which UTF-8 forbids, so real MARC-8 text practically
    never passes for UTF-8. Bytes that do not decode are MARC-8 when every byte exists in
    MARC-8's default sets (ASCII and ANSEL).
    """
    escaped = b"\x1b" in raw and _MARC8_ESCAPE.search(raw) is not None
    if raw.isascii():
        references = raw[9:10] != b"a" and b"&#x" in raw
        return (_MARC8 if escaped or references else _UTF8), ""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if escaped:
            return _MARC8, ""
        stray = _NOT_MARC8.search(raw)
        if stray is None:
            return _MARC8, ""
        return "", (
            f"the text is neither UTF-8 nor MARC-8: field {_tag_at(raw, exc.start)} has the "
            f"invalid UTF-8 sequence {raw[exc.start : exc.end + 3]!r} and field "
            f"{_tag_at(raw, stray.start())} the byte 0x{raw[stray.start()]:02X}, which MARC-8 "
            "does not have (is it a legacy code page such as Windows-1251 or Latin-1?)"
        )
    if escaped and raw[9:10] != b"a":
        return _MARC8, ""
    return _UTF8, ""


def _with_marc21_constants(raw: bytes) -> bytes:
    """MARC 21 fixes leader/10-11 ("22": two indicators, one-character subfield codes) and
    leader/20-23 ("4500"); damaged ones there are put right."""
    if raw[10:12] == b"22" and raw[20:_LEADER_LENGTH] == b"4500":
        return raw
    return raw[:10] + b"22" + raw[12:20] + b"4500" + raw[_LEADER_LENGTH:]


def _leader_for_pymarc(raw: bytes, coding: str) -> bytes:
    """The record with a leader pymarc accepts: the true length and the true coding."""
    length = b"%05d" % min(len(raw), _ISO2709_MAX_LENGTH)
    scheme = b"a" if coding == _UTF8 else b" "
    if raw[:5] == length and raw[9:10] == scheme:
        return raw
    return length + raw[5:9] + scheme + raw[10:]


def _pymarc_record(chunk: bytes, coding: str) -> Record:
    """pymarc splits the record into fields and subfields. UTF-8 is decoded there; MARC-8 is
    decoded as Latin-1, which keeps every byte, so that only the subfields that need it go
    through the MARC-8 converter afterwards. A non-ASCII subfield code is read as its base
    letter ('á' -> 'a'), without pymarc's warning."""
    force_utf8 = coding == _UTF8
    if _ODD_SUBFIELD_CODE.search(chunk) is None:
        return Record(chunk, force_utf8=force_utf8, file_encoding="latin_1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Record(chunk, force_utf8=force_utf8, file_encoding="latin_1")


_new_field = Field.__new__
_INDICATORS: dict[str, Indicators] = {}  # "1#" -> Indicators("1", " "): immutable, shared


def _indicators_of(head: str) -> Indicators:
    found = _INDICATORS.get(head)
    if found is None:
        first, second = head[0], head[1]
        found = _INDICATORS[head] = tuple.__new__(
            Indicators,
            (
                " " if first in _BLANK_INDICATORS else first,
                " " if second in _BLANK_INDICATORS else second,
            ),
        )
    return found


def _utf8_record(chunk: bytes) -> Record | None:
    """A sound UTF-8 record split into fields and subfields straight from its directory,
    with the text in NFC and blank indicators as ``_to_unicode`` leaves them: what pymarc's
    reader followed by ``_to_unicode`` gives, at a fraction of the cost, because each field
    is decoded once and built without pymarc's argument checks.

    A field already in NFC and without MARC-8's half marks is taken as it is: the subfield
    delimiter and code before each value are ASCII, which NFC never joins to what follows,
    so each value is in NFC too.

    ``None`` for anything out of the ordinary (missing or extra indicators, a non-ASCII
    subfield code, a field that does not decode), which then takes pymarc's path, so that
    odd records keep its exact behaviour and messages.
    """
    if _ODD_SUBFIELD_CODE.search(chunk) is not None:
        return None
    new = tuple.__new__
    indicators_of = _INDICATORS.get
    try:
        base = int(chunk[12:17])
        directory = chunk[_LEADER_LENGTH : base - 1].decode("ascii")
        entries = _ENTRIES.findall(directory)
        if len(entries) * _ENTRY_LENGTH != len(directory):
            return None
        plain = chunk.isascii()
        text = chunk.decode("ascii") if plain else ""
        fields: list[Field] = []
        for tag, length, begin in entries:
            start = base + int(begin)
            end = start + int(length) - 1
            data = text[start:end] if plain else chunk[start:end].decode("utf-8")
            field = _new_field(Field)
            field.tag = tag
            if tag < "010" and tag.isdigit():
                field.control_field = True
                field.data = data if plain else _nfc(data)
                field._indicators = None
                field.subfields = []
                fields.append(field)
                continue
            parts = data.split("\x1f")
            head = parts[0]
            if len(head) != 2 or not head.isascii():
                return None
            if plain or data.isascii() or _is_nfc(data):
                subfields = [new(Subfield, (part[0], part[1:])) for part in parts[1:] if part]
            else:
                subfields = [new(Subfield, (part[0], _nfc(part[1:]))) for part in parts[1:] if part]
            field.control_field = False
            field.data = None
            field._indicators = indicators_of(head) or _indicators_of(head)
            field.subfields = subfields
            fields.append(field)
    except (ValueError, IndexError):
        return None
    if not fields:
        return None
    return Record(fields=fields, force_utf8=True, leader=chunk[:_LEADER_LENGTH].decode("ascii"))


_ENTRIES = re.compile(r"(.{3})(.{4})(.{5})", re.DOTALL)  # tag, length, start


def _is_nfc(text: str) -> bool:
    """Whether ``_nfc`` leaves every part of ``text`` as it is."""
    return unicodedata.is_normalized("NFC", text) and _HALF_MARK.search(text) is None


def _to_unicode(record: Record, coding: str, *, plain: bool) -> str:
    """Turn the record's text into NFC Unicode, with leader/09 'a'; "" or why it cannot be.

    Indicators written '#' or '\\' (the signs for a blank in MARC's documentation and in
    MarcEdit) become blanks.
    """
    if record.leader.coding_scheme != "a":
        record.leader.coding_scheme = "a"
    for each in record.fields:
        if each.control_field:
            if not plain and each.data and _needs_decoding(each.data):
                each.data = _decoded(each.data, coding)
            continue
        indicators = each.indicators
        if indicators is not None and (
            indicators.first in _BLANK_INDICATORS or indicators.second in _BLANK_INDICATORS
        ):
            each.indicators = Indicators(
                " " if indicators.first in _BLANK_INDICATORS else indicators.first,
                " " if indicators.second in _BLANK_INDICATORS else indicators.second,
            )
        if plain:
            continue
        try:
            for at, subfield in enumerate(each.subfields):
                if _needs_decoding(subfield.value):
                    each.subfields[at] = Subfield(subfield.code, _decoded(subfield.value, coding))
        except UnicodeDecodeError as exc:
            return f"the MARC-8 text of field {each.tag} cannot be decoded: {exc.reason}"
        except _CutMultibyte:
            return f"the MARC-8 text of field {each.tag} has a multibyte (CJK) character cut short"
    return ""


class _CutMultibyte(ValueError):
    pass


def _needs_decoding(text: str) -> bool:
    return not text.isascii() or "\x1b" in text or "&#x" in text


def _decoded(text: str, coding: str) -> str:
    """One subfield's text in NFC: UTF-8 is normalised; MARC-8 (held as Latin-1) goes
    through pymarc's converter, each subfield from the default character sets, as pymarc
    does. The converter reports a cut multibyte character only on stderr."""
    if coding == _UTF8:
        return _nfc(text)
    marc8 = text.encode("latin-1")
    if b"\x1b$" not in marc8:
        converted = marc8_to_unicode(marc8, hide_utf8_warnings=True)
    else:
        complaints = io.StringIO()
        with contextlib.redirect_stderr(complaints):
            converted = marc8_to_unicode(marc8, hide_utf8_warnings=True)
        if complaints.getvalue():
            raise _CutMultibyte
    if "&#x" in converted:
        converted = unicodedata.normalize("NFC", _NCR.sub(_character_of, converted))
    return _double_diacritics(converted)


_NCR = re.compile("&#x([0-9A-Fa-f]{2,6});")


def _character_of(reference: re.Match[str]) -> str:
    """MARC-8's lossless conversion writes a character outside its repertoire as a numeric
    character reference, "&#x8ECA;"; it stands for that Unicode character."""
    code = int(reference[1], 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else reference[0]


_HALF_MARK = re.compile("[\ufe20-\ufe23]")
_HALF_MARKS = re.compile(
    "\ufe20([^\ufe20-\ufe23]{1,3}?)\ufe21|\ufe22([^\ufe20-\ufe23]{1,3}?)\ufe23"
)


def _double_diacritics(text: str) -> str:
    """A ligature or double tilde over two letters, which MARC-8 codes as two half marks
    (U+FE20 + U+FE21, U+FE22 + U+FE23), as the one double diacritic Unicode and PCC practice
    use (U+0361, U+0360) - "i︠a︡" becomes "i͡a" - so that a title reads and matches the same
    whichever coding the record came in."""
    if _HALF_MARK.search(text) is None:
        return text
    return _HALF_MARKS.sub(lambda m: "\u0361" + m[1] if m[1] is not None else "\u0360" + m[2], text)


def _directory_entries(raw: bytes) -> Iterator[tuple[str, int, int]]:
    """(tag, start, end) of each field the directory still locates, for error messages."""
    try:
        base = int(raw[12:17])
    except ValueError:
        return
    end_of_directory = raw.find(b"\x1e", _LEADER_LENGTH)
    for at in range(_LEADER_LENGTH, end_of_directory - _ENTRY_LENGTH + 1, _ENTRY_LENGTH):
        entry = raw[at : at + _ENTRY_LENGTH]
        if not entry[3:].isdigit():
            return
        start = base + int(entry[7:12])
        yield entry[:3].decode("ascii", "replace"), start, start + int(entry[3:7])


def _control_number_in(raw: bytes) -> str:
    """The 001 of a record that cannot be read, when its directory still finds it."""
    for tag, start, end in _directory_entries(raw):
        if tag == "001":
            return raw[start:end].strip(b"\x1d\x1e ").decode("utf-8", "replace")
    return ""


def _tag_at(raw: bytes, offset: int) -> str:
    for tag, start, end in _directory_entries(raw):
        if start <= offset < end:
            return tag
    return "(unknown)" if offset >= _LEADER_LENGTH else "leader"


def _nfc(text: str) -> str:
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _double_diacritics(text)


_STRUCTURE_CHARACTERS = re.compile("[\x1d\x1e\x1f]")


def _iso2709_of(record: Record) -> bytes:
    for each in record.fields:
        if each.control_field:
            if each.data and _STRUCTURE_CHARACTERS.search(each.data):
                each.data = _STRUCTURE_CHARACTERS.sub(" ", each.data)
            continue
        if any(_STRUCTURE_CHARACTERS.search(s.value) for s in each.subfields):
            each.subfields = [
                Subfield(s.code, _STRUCTURE_CHARACTERS.sub(" ", s.value)) for s in each.subfields
            ]
    return bytes(record.as_marc())
