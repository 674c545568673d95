"""MARC 21 in ISO 2709 and MARCXML: reading, the crosswalk to ``RecordData`` and back, writing.

Reading trusts nothing a file says about itself.

* A record ends where leader/00-04 says, if the record terminator (0x1D) is there; otherwise
  the length lies and the record ends at the next terminator. A directory whose numbers are
  wrong (a base address that misses its end, lengths counted in characters instead of
  bytes) is rebuilt from the field terminators when the fields still match its entries one
  for one. Leader/10-11 and 20-23 are MARC 21's constants ("22", "4500").
* Leader/09 often lies about the character coding. The bytes decide: MARC-8 escape sequences
  mean MARC-8, pure ASCII reads the same either way, bytes that decode as UTF-8 are UTF-8, and
  anything else is MARC-8 if every byte exists in MARC-8. MARC-8 becomes Unicode with pymarc's
  converter, its numeric character references ("&#x8ECA;") become the characters they stand
  for, and its ligature halves (U+FE20/FE21) the double diacritic U+0361; all text is NFC.
* A record that cannot be read (damaged leader or directory, truncated, invalid indicator or
  tag, bytes in neither coding, an authority or holdings record) comes out as a ``Parsed``
  with a reason, its raw bytes and its 001 when the directory still finds it, and reading
  goes on with the next record. ``source_data`` keeps the bytes exactly as read.
* MARCXML is read through ``xmlsafety``, like every XML format: a document whose DOCTYPE
  declares entities (XXE, billion laughs) or names an external DTD is refused whole, before
  any record is read. The reader yields one ``Parsed`` error for it rather than raising
  ``UnsafeXMLError``, so an import reports it like any other rejected input, as the Dublin
  Core reader does. Entities are never resolved, no DTD is loaded, nothing is fetched.

The crosswalk follows Koha and Open Library practice where MARC leaves a choice:

* 245 $a $n $p is the title, $b other title information, a $b after " =" a parallel title;
  ISBD punctuation and a closing full stop are dropped, unless the stop ends an initial or an
  abbreviation ("Smith, J.", "Inc."). 880 fields give the other-script forms of the title and
  of names as variants; the romanised 245 stays the title.
* Names keep their inverted heading form ("Surname, Forename"); dates ($d) and LC's
  "[from old catalog]" are left out of the name.
* The year is the first four-digit year of 260/264 $c that is not a copyright date
  ("c1972"), else 008/07-10, else the copyright date. "[s.n.]", "[S.l.]" and the like leave
  the publisher or place empty.
* Languages are 008/35-37 and 041 $a/$d. 041 $h, the language of the original a translation
  was made from, is not a language of the record (as Open Library's ``translated_from``).
* Audience (008/22): a, b, c, j -> children; d -> youth; e (adult), g (general) -> general;
  f (specialized) -> academic.
* Resource type: leader/06-07 as MARC defines them; leader/07 'd' (subunit) is a journal issue;
  a 502 or 008/24-27 'm' makes a thesis; a "Textbooks" genre makes a textbook.
* Subject source from the second indicator: 0 lcsh, 1 lcshac, 2 mesh, 3 nal, 5 cash, 6 rvm,
  7 the $2 code, anything else local; 653 keywords are local subjects.

Writing builds UTF-8 MARC 21 with ISBD punctuation. Rebuilt on a record's source MARC, only
the parts of the description that changed are rewritten (see ``marc_from_data``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

from lxml import etree
from pymarc import Field, Indicators, Leader, Record, Subfield
from pymarc.exceptions import PymarcException
from pymarc.marc8 import marc8_to_unicode
from pymarc.marc8_mapping import CODESETS
from stdnum import isbn as isbn_numbers

from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.formats import Parsed, xmlsafety
from kitobxon.catalogue.identifiers import normalize as normalized_identifier

logger = logging.getLogger(__name__)

MARCXML_NAMESPACE = "http://www.loc.gov/MARC21/slim"

# ---------------------------------------------------------------------------------------------
# Reading ISO 2709

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


def _parsed_from_iso2709(raw: bytes, position: int, offset: int) -> Parsed:
    record, problem = _decoded_iso2709(raw)
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


def _decoded_iso2709(raw: bytes) -> tuple[Record | None, str]:
    """One ISO 2709 record as a Unicode pymarc record, or the reason it cannot be one."""
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


# ---------------------------------------------------------------------------------------------
# Reading MARCXML

_RECORD_TAGS = frozenset({f"{{{MARCXML_NAMESPACE}}}record", "record"})
_ERROR_POSITION = re.compile(r",? line \d+, column \d+$")


def read_marcxml(stream: BinaryIO) -> Iterator[Parsed]:
    """Read MARCXML records (MARC21 slim namespace, or none) one at a time, in constant memory.

    The XML is read through ``xmlsafety``: a document whose DOCTYPE declares entities or
    names an external DTD yields one error and nothing else, and no entity is ever expanded.
    Malformed XML yields every record before the fault, then one error naming the line.
    """
    position = 0
    try:
        for _event, element in xmlsafety.iterparse(stream, events=("end",)):
            if element.tag not in _RECORD_TAGS:
                continue
            position += 1
            yield _parsed_from_element(element, position)
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except xmlsafety.UnsafeXMLError as exc:
        yield Parsed(position + 1, -1, b"", error=str(exc))
    except etree.XMLSyntaxError as exc:
        message = _ERROR_POSITION.sub("", str(exc.msg or exc))
        yield Parsed(position + 1, -1, b"", error=f"malformed XML at line {exc.lineno}: {message}")


def _parsed_from_element(element: etree._Element, position: int) -> Parsed:
    raw = etree.tostring(element, encoding="utf-8")
    record, problem = _record_from_element(element)
    if record is None:
        return Parsed(position, -1, raw, error=problem, control_number=_xml_control_number(element))
    return _parsed_from_record(record, raw, "marcxml", position, -1)


def _record_from_element(element: etree._Element) -> tuple[Record | None, str]:
    """A MARCXML <record> as a Unicode pymarc record (text in NFC), or why it is not one."""
    record = Record(force_utf8=True)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = child.tag.rpartition("}")[2]
        if name == "leader":
            text = (child.text or "").replace("#", " ")
            record.leader = Leader(text[:_LEADER_LENGTH].ljust(_LEADER_LENGTH))
            record.leader.coding_scheme = "a"
        elif name == "controlfield":
            tag = (child.get("tag") or "").strip()
            if not tag:
                return None, f"a controlfield at line {child.sourceline} has no tag"
            if not (tag.isdigit() and tag < "010"):
                return None, f"field {tag} at line {child.sourceline} is a data field, not control"
            record.fields.append(Field(tag=tag, data=_nfc(child.text or "")))
        elif name == "datafield":
            built, problem = _datafield_from_element(child)
            if built is None:
                return None, problem
            record.fields.append(built)
    if not record.fields:
        return None, "the record has no fields"
    return record, ""


def _datafield_from_element(element: etree._Element) -> tuple[Field | None, str]:
    tag = (element.get("tag") or "").strip()
    if not tag:
        return None, f"a datafield at line {element.sourceline} has no tag"
    if tag.isdigit() and tag < "010":
        return None, f"field {tag} at line {element.sourceline} is a control field, not data"
    subfields = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        code = child.get("code")
        if not code:
            return None, f"a subfield of field {tag} at line {child.sourceline} has no code"
        subfields.append(Subfield(code, _nfc(child.text or "")))
    indicators = Indicators(_indicator(element.get("ind1")), _indicator(element.get("ind2")))
    return Field(tag=tag, indicators=indicators, subfields=subfields), ""


def _indicator(value: str | None) -> str:
    if not value or value[0] in _BLANK_INDICATORS:
        return " "
    return value[0]


def _nfc(text: str) -> str:
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _double_diacritics(text)


def _xml_control_number(element: etree._Element) -> str:
    for child in element:
        if isinstance(child.tag, str) and child.get("tag") == "001":
            return (child.text or "").strip()
    return ""


def _record_from_marcxml_bytes(raw: bytes) -> Record | None:
    """The first MARCXML record in ``raw`` (a stored source record), read as safely as any
    imported file."""
    try:
        root = etree.parse(xmlsafety.guarded(io.BytesIO(raw)), xmlsafety.safe_parser()).getroot()
        xmlsafety.refuse_declared_entities(root)
    except (xmlsafety.UnsafeXMLError, etree.XMLSyntaxError):
        return None
    if root.tag not in _RECORD_TAGS:
        root = next(root.iter(*_RECORD_TAGS), None)
        if root is None:
            return None
    record, _problem = _record_from_element(root)
    return record


# ---------------------------------------------------------------------------------------------
# MARC -> RecordData

_CONTRIBUTOR_TAGS = frozenset({"100", "110", "111", "700", "710", "711"})
_SUBJECT_TAGS = frozenset({"600", "610", "611", "630", "648", "650", "651", "653", "655"})
_NOTE_TAGS = frozenset({"500", "502", "504"})
_IDENTIFIER_TAGS = frozenset({"020", "022", "024"})
_CLASSIFICATION_TAGS = frozenset({"050", "080", "082", "084", "090"})
_PARALLEL_TITLE_TAGS = frozenset({"242", "246"})
_SERIES_TAGS = frozenset({"440", "490", "830"})

_NAME_PARTS = {"00": frozenset("abc"), "10": frozenset("ab"), "11": frozenset("acdenq")}
_SUBDIVISIONS = frozenset("vxyz")
_LINKAGE = re.compile(r"(\d{3})-(\d{2,3})")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_COPYRIGHT = re.compile(r"[cp©℗]\s?$")
_FROM_OLD_CATALOG = re.compile(r"\s*\[from old catalog\][\s.,]*$", re.IGNORECASE)
_ISBN_AS_GIVEN = re.compile(r"\d[\dXx-]*")
_ISBD_CLOSING = " /:;=,"
_ABBREVIATIONS = frozenset(
    {"inc", "ltd", "co", "corp", "dept", "bros", "jr", "sr", "etc", "st", "ed", "eds", "comp",
     "hrsg", "mr", "mrs", "dr", "prof", "изд", "ред", "сост", "пер", "вып", "т", "ч", "кн", "др"}
)  # fmt: skip
_UNKNOWN_PLACE_OR_PUBLISHER = frozenset(
    {"sl", "sn", "slsn", "sineloco", "sinenomine", "oo", "ov", "бм", "би", "бмби",
     "placeofpublicationnotidentified", "publishernotidentified"}
)  # fmt: skip

_RELATOR_CODES = {
    "aut": "author",
    "cre": "author",
    "edt": "editor",
    "edc": "editor",
    "trl": "translator",
    "ill": "illustrator",
    "ths": "supervisor",
    "dgs": "supervisor",
    "com": "compiler",
    "nrt": "narrator",
    "drt": "director",
    "fmd": "director",
    "ctb": "contributor",
}
_RELATOR_TERMS = {
    term: role
    for role, terms in {
        "author": "author|joint author|writer|автор|muallif",
        "editor": "editor|ed|eds|editor of compilation|редактор|ред|под ред|muharrir",
        "translator": "translator|tr|trans|переводчик|пер|tarjimon",
        "illustrator": "illustrator|ill|illus|художник|худож|ил|rassom",
        "supervisor": "thesis advisor|degree supervisor|научный руководитель|науч рук|ilmiy rahbar",
        "compiler": "compiler|comp|составитель|сост|tuzuvchi",
        "narrator": "narrator|чтец|диктор",
        "director": "director|film director|режиссер|режиссёр|rejissyor",
        "contributor": "contributor",
    }.items()
    for term in terms.split("|")
}
_SUBJECT_SOURCES = {"0": "lcsh", "1": "lcshac", "2": "mesh", "3": "nal", "5": "cash", "6": "rvm"}
_TEXTBOOK_TERMS = frozenset(
    {"textbooks", "textbook", "учебники", "учебник", "учебное пособие", "учебные пособия",
     "darslik", "darsliklar", "o'quv qo'llanma"}
)  # fmt: skip
_AUDIENCES = {
    "a": "children",
    "b": "children",
    "c": "children",
    "j": "children",
    "d": "youth",
    "e": "general",
    "g": "general",
    "f": "academic",
}
_LANGUAGE_CODES = {  # discontinued MARC codes and ISO 639-2/T codes -> ISO 639-2/B
    "scc": "srp", "scr": "hrv", "mol": "rum", "cam": "khm", "esp": "epo", "eth": "gez",
    "far": "fao", "fri": "fry", "gae": "gla", "gag": "glg", "gal": "orm", "gua": "grn",
    "int": "ina", "iri": "gle", "lan": "oci", "lap": "smi", "mla": "mlg", "sao": "smo",
    "sho": "sna", "snh": "sin", "sso": "sot", "swz": "ssw", "tag": "tgl", "taj": "tgk",
    "tar": "tat", "tsw": "tsn", "max": "glv", "deu": "ger", "fra": "fre", "zho": "chi",
    "ces": "cze", "fas": "per", "nld": "dut", "ell": "gre", "sqi": "alb", "hye": "arm",
    "kat": "geo", "mkd": "mac", "mri": "mao", "msa": "may", "mya": "bur", "ron": "rum",
    "slk": "slo", "bod": "tib", "cym": "wel", "eus": "baq", "isl": "ice",
}  # fmt: skip
_NOT_LANGUAGES = frozenset({"und", "zxx", "|||", "###", "???", "n/a"})


@dataclass
class _Source:
    """A record's fields indexed for the crosswalk: by tag, and 880s by the field they link."""

    record: Record
    by_tag: dict[str, list[Field]]
    alternates: dict[tuple[str, str], list[Field]]
    fixed: str  # 008
    order: dict[int, int]  # id(field) -> its place in the record

    @classmethod
    def of(cls, record: Record) -> _Source:
        by_tag: dict[str, list[Field]] = {}
        order: dict[int, int] = {}
        for place, each in enumerate(record.fields):
            by_tag.setdefault(each.tag, []).append(each)
            order[id(each)] = place
        alternates: dict[tuple[str, str], list[Field]] = {}
        for each in by_tag.get("880", ()):
            link = _linkage(each)
            if link:
                alternates.setdefault(link, []).append(each)
        fixed = by_tag["008"][0].data or "" if "008" in by_tag else ""
        return cls(record, by_tag, alternates, fixed, order)

    def first(self, tag: str) -> Field | None:
        found = self.by_tag.get(tag)
        return found[0] if found else None

    def among(self, tags: frozenset[str]) -> list[Field]:
        """Fields with any of these tags, in record order."""
        groups = [self.by_tag[tag] for tag in tags if tag in self.by_tag]
        if len(groups) <= 1:
            return list(groups[0]) if groups else []
        return sorted((f for group in groups for f in group), key=lambda f: self.order[id(f)])

    def linked(self, linked_field: Field) -> list[Field]:
        """The 880s giving this field in another script ($6 occurrence numbers match)."""
        link = _linkage(linked_field)
        if link is None or link[1].strip("0") == "":
            return []
        return self.alternates.get((linked_field.tag, link[1]), [])


def _linkage(linked_field: Field) -> tuple[str, str] | None:
    """$6 Linkage as (tag, occurrence number): '880-01' or '245-01/(N'."""
    value = linked_field.get("6")
    match = _LINKAGE.match(value) if value else None
    return (match[1], match[2]) if match else None


def data_from_marc(record: Record) -> RecordData:
    """A MARC 21 bibliographic record as ``RecordData``, the way a cataloguer reads it."""
    source = _Source.of(record)
    title, subtitle, responsibility, parallel = _title_statement(source.first("245"))
    if not title:
        title = _fallback_title(source) or subtitle
        subtitle = "" if title == subtitle else subtitle
    place, publisher, year = _publication(source)
    return RecordData(
        title=title,
        subtitle=subtitle,
        parallel_titles=_unique(parallel + _parallel_titles(source)),
        title_variants=_title_variants(source),
        responsibility=responsibility,
        contributors=_contributors(source),
        publisher=publisher,
        place=place,
        year=year,
        edition=_edition(source),
        extent=_extent(source),
        languages=_languages(source),
        resource_type=_resource_type(source),
        audience=_audience(source),
        subjects=_unique(
            [found for each in source.among(_SUBJECT_TAGS) for found in _subjects_of(each, source)]
        ),
        classifications=_unique(
            [
                found
                for each in source.among(_CLASSIFICATION_TAGS)
                for found in _classifications_of(each, source)
            ]
        ),
        identifiers=_unique(
            [
                found
                for each in source.among(_IDENTIFIER_TAGS)
                for found in _identifiers_of(each, source)
            ]
        ),
        series=_series(source),
        abstract=_paragraphs(source, frozenset({"520"})),
        contents=_paragraphs(source, frozenset({"505"})),
        notes=_paragraphs(source, _NOTE_TAGS),
        control_number=_control_value(record, "001"),
        control_number_source=_control_value(record, "003"),
    )


def _unique(items: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


def _control_value(record: Record, tag: str) -> str:
    for each in record.fields:
        if each.tag == tag:
            return (each.data or "").strip() if each.control_field else ""
    return ""


def _without_final_stop(text: str) -> str:
    """A full stop ending a MARC subfield is ISBD punctuation, except after an initial
    ("Smith, J."), inside an abbreviation with stops ("U.S.A."), after a known abbreviation
    ("Inc.", "ред.") or in an ellipsis."""
    if not text.endswith(".") or text.endswith(".."):
        return text
    words = text[:-1].split()
    word = words[-1].lstrip("([") if words else ""
    if (len(word) == 1 and word.isalpha()) or "." in word or word.lower() in _ABBREVIATIONS:
        return text
    return text[:-1].rstrip()


def _bare(value: str) -> str:
    """A subfield's value without the ISBD punctuation that introduces the next element
    (" /", " :", " ;", " =", ",") and without a closing full stop."""
    return _without_final_stop(_without_isbd_closing(value))


def _without_isbd_closing(value: str) -> str:
    """The value without trailing ISBD separators, including a stray stop after one
    ("Москва :.")."""
    text = value.strip()
    while text and (
        text[-1] in _ISBD_CLOSING or (text[-1] == "." and text[:-1].rstrip()[-1:] in _ISBD_CLOSING)
    ):
        text = text[:-1].rstrip()
    return text


def _title_statement(statement: Field | None) -> tuple[str, str, str, list[str]]:
    """245 as (title, other title information, statement of responsibility, parallel titles).

    The title proper is $a with the number ($n) and name ($p) of a part: "Title. Part 2,
    Name". $b is other title information, or a parallel title when ISBD's " =" precedes it.
    """
    if statement is None:
        return "", "", "", []
    title = ""
    subtitles: list[str] = []
    parallel: list[str] = []
    responsibility: list[str] = []
    previous_code, previous = "", ""
    for code, value in statement.subfields:
        if code == "a":
            title = f"{title} {_bare(value)}".strip()
        elif code in ("n", "p"):
            part = _bare(value)
            if part and title:
                title += (", " if code == "p" and previous_code == "n" else ". ") + part
            elif part:
                title = part
        elif code == "b":
            part = _bare(value)
            if part:
                (parallel if previous.rstrip().endswith("=") else subtitles).append(part)
        elif code == "c":
            responsibility.append(_bare(value))
        if code not in ("6", "8"):
            previous_code, previous = code, value
    return title, " : ".join(subtitles), " ".join(r for r in responsibility if r), parallel


def _fallback_title(source: _Source) -> str:
    """A record without a 245 $a: the 245 in another script (an unlinked 880), the varying
    form (246), the uniform title (240, 130) or an uncontrolled related title (740)."""
    candidates = [
        f for (tag, _occ), found in source.alternates.items() if tag == "245" for f in found
    ]
    for tag in ("246", "240", "130", "740"):
        candidates.extend(source.by_tag.get(tag, ()))
    for each in candidates:
        title = _title_statement(each)[0]
        if title:
            return title
    return ""


def _title_variants(source: _Source) -> list[str]:
    """Every 880 that gives the 245 in another script, linked or not: "title : subtitle"."""
    variants: list[str] = []
    for (tag, _occurrence), alternates in source.alternates.items():
        if tag != "245":
            continue
        for each in alternates:
            title, subtitle, _responsibility, _parallel = _title_statement(each)
            text = f"{title} : {subtitle}" if title and subtitle else title or subtitle
            if text and text not in variants:
                variants.append(text)
    return variants


def _parallel_titles(source: _Source) -> list[str]:
    return [found for each in source.among(_PARALLEL_TITLE_TAGS) for found in _titles_of(each)]


def _titles_of(varying: Field, source: _Source | None = None) -> list[str]:
    """246 (varying form) and 242 (translation by the cataloguing agency): $a, $n, $p, $b."""
    title, subtitle, _responsibility, _parallel = _title_statement(varying)
    text = f"{title} : {subtitle}" if title and subtitle else title or subtitle
    return [text] if text else []


def _contributors(source: _Source) -> list[ContributorData]:
    """Main and added entries in record order. A name/title entry ($t) names the author of a
    contained (second indicator 2) or related work: that person joins the contributors only
    if not there already, as the author of a contained work or as a contributor."""
    found: list[ContributorData] = []
    for each in source.among(_CONTRIBUTOR_TAGS):
        if "t" not in each:
            found.extend(_contributors_of(each, source))
            continue
        for work_author in _contributors_of(each, source):
            if all(work_author.name != known.name for known in found):
                found.append(work_author)
    return found


def _contributor_items(entry: Field, source: _Source) -> list[ContributorData]:
    """What a field adds to the contributors when the form edits them: a name/title entry is
    about another work, so it is never rebuilt from the form."""
    return [] if "t" in entry else _contributors_of(entry, source)


def _contributors_of(entry: Field, source: _Source) -> list[ContributorData]:
    """1XX main entry or 7XX added entry: a person (X00), organisation (X10) or meeting (X11).

    The role comes from the relator code ($4) or term ($e, or $j for meetings); without one
    a main entry, or the author of a contained work, is an author and any other added entry
    a contributor.
    """
    kind = entry.tag[1:]
    name = _name_of(entry, kind)
    if not name:
        return []
    is_author = entry.tag.startswith("1") or ("t" in entry and entry.indicator2 == "2")
    role = _role_of(entry, kind) or ("author" if is_author else "contributor")
    variants = _unique(
        [
            variant
            for alternate in source.linked(entry)
            if (variant := _name_of(alternate, kind)) and variant != name
        ]
    )
    return [ContributorData(name=name, role=role, variants=variants, is_organisation=kind != "00")]


def _name_of(entry: Field, kind: str) -> str:
    """The name heading: $a $b $c for a person, $a $b for an organisation, $a $q $e $n $d $c
    for a meeting; LC's "[from old catalog]" note is not part of it."""
    parts = _NAME_PARTS.get(kind, _NAME_PARTS["00"])
    text = " ".join(v.strip() for c, v in entry.subfields if c in parts and v.strip())
    return _bare(_FROM_OLD_CATALOG.sub("", text))


def _role_of(entry: Field, kind: str) -> str | None:
    for code in entry.get_subfields("4"):
        role = _RELATOR_CODES.get(code.strip().rstrip("/").rsplit("/", 1)[-1].lower().strip(". "))
        if role:
            return role
    for term in entry.get_subfields("j" if kind == "11" else "e"):
        role = _RELATOR_TERMS.get(" ".join(re.sub(r"[.()\[\],;:]", " ", term).lower().split()))
        if role:
            return role
    return None


def _publication(source: _Source) -> tuple[str, str, int | None]:
    """Place, publisher and year of publication.

    The publication statement is 264 with second indicator 1, else 260, else any other 264
    but the copyright notice, else an unlinked 880 standing for one. The year is the first
    four-digit year of its $c that is not a copyright date, else 008/07-10 (Date 1), else a
    copyright date ($c, or 264 with second indicator 4).
    """
    statements = source.among(frozenset({"260", "264"})) or [
        f
        for (tag, _occ), found in source.alternates.items()
        if tag in ("260", "264")
        for f in found
    ]
    statement = next(
        (s for s in statements if s.tag == "264" and s.indicator2 == "1"),
        next(
            (s for s in statements if s.tag == "260"),
            next((s for s in statements if s.indicator2 != "4"), None),
        ),
    )
    parts = _statement_parts(statement, statements)
    places = [p for p in map(_place_or_publisher, parts["a"]) if p]
    publishers = [p for p in map(_place_or_publisher, parts["b"]) if p]
    year = _first_year(parts["c"], copyright=False)
    if year is None:
        year = _first_year([source.fixed[7:11]]) if source.fixed[7:11].isdigit() else None
    if year is None:
        year = _first_year(parts["c"])
    if year is None:
        notices = [s for s in statements if s.tag == "264" and s.indicator2 == "4"]
        year = _first_year([v for s in notices for v in s.get_subfields("c")])
    return (places[0] if places else ""), " ; ".join(publishers), year


def _statement_parts(statement: Field | None, statements: list[Field]) -> dict[str, list[str]]:
    """Place ($a), publisher ($b) and date ($c) of a publication statement; one that lacks an
    element takes it from the next statement of its kind, for records that split one
    statement over several fields (260 $a in one, 260 $b $c in the next)."""
    parts: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    if statement is None:
        return parts
    kin = [statement] + [
        s
        for s in statements
        if s is not statement and s.tag == statement.tag and s.indicator2 == statement.indicator2
    ]
    for code, values in parts.items():
        values.extend(next((s.get_subfields(code) for s in kin if code in s), []))
    return parts


def _place_or_publisher(value: str) -> str:
    """A place ($a) or publisher ($b) as printed, without ISBD punctuation or the brackets of a
    cataloguer's addition; "[S.l.]", "[s.n.]", "[Б. м.]" and the like say it is unknown."""
    text = _without_isbd_closing(value)
    if (text.startswith("[") and text.endswith("]")) or text.count("[") != text.count("]"):
        text = _without_isbd_closing(text.strip("[]"))
    key = re.sub(r"[\s.,:\[\]]", "", text.lower())
    return "" if key in _UNKNOWN_PLACE_OR_PUBLISHER else text


def _first_year(values: Iterable[str], *, copyright: bool = True) -> int | None:
    """The first plausible four-digit year; with ``copyright=False`` a copyright or phonogram
    date ("c1972", "©1972", "p1990") does not count, since it is not the publication date."""
    for value in values:
        for match in _YEAR.finditer(value):
            year = int(match[1])
            if not copyright and _COPYRIGHT.search(value[: match.start()]):
                continue
            if 1000 <= year <= 2100:
                return year
    return None


def _edition(source: _Source) -> str:
    statement = source.first("250")
    if statement is None:
        return ""
    text = " ".join(v.strip() for v in statement.get_subfields("a", "b") if v.strip())
    return text.rstrip(_ISBD_CLOSING).strip()


def _extent(source: _Source) -> str:
    description = source.first("300")
    if description is None:
        return ""
    text = " ".join(v.strip() for v in description.get_subfields("a") if v.strip())
    return text.rstrip(" :;+,").strip()


def _languages(source: _Source) -> list[str]:
    """008/35-37 and 041 $a (text) and $d (sung or spoken text), as ISO 639-2/B codes.

    041 with second indicator 7 uses another code list and is skipped; an obsolete practice
    ran several codes together in one subfield ("engfre").
    """
    found: list[str] = []
    candidates = [source.fixed[35:38]] if len(source.fixed) >= 38 else []
    for each in source.by_tag.get("041", ()):
        if each.indicator2 == "7":
            continue
        for value in each.get_subfields("a", "d"):
            packed = value.replace(" ", "").replace("-", "")
            if len(packed) % 3 == 0:
                candidates.extend(packed[i : i + 3] for i in range(0, len(packed), 3))
    for candidate in candidates:
        code = candidate.strip().lower()
        code = _LANGUAGE_CODES.get(code, code)
        if len(code) == 3 and code.isalpha() and code not in _NOT_LANGUAGES and code not in found:
            found.append(code)
    return found


def _resource_type(source: _Source) -> str:
    """Leader/06 (type of record) and /07 (bibliographic level), 502 and 008/24-27."""
    leader = str(source.record.leader)
    kind, level = leader[6], leader[7]
    if kind in ("a", "t"):
        if level in ("a", "b"):
            return "article"
        if level == "d":
            return "issue"
        if level in ("s", "i"):
            return "journal"
        if "502" in source.by_tag or "m" in source.fixed[24:28]:
            return "dissertation"
        if _is_textbook(source):
            return "textbook"
        return "book"
    return {
        "i": "audio",
        "j": "audio",
        "g": "video",
        "e": "map",
        "f": "map",
        "m": "dataset",
        "r": "3d_model",
    }.get(kind, "book")


def _is_textbook(source: _Source) -> bool:
    """A genre/form heading (655 $a, or a $v form subdivision) saying "Textbooks"."""
    for each in source.among(_SUBJECT_TAGS):
        codes = ("a", "v") if each.tag == "655" else ("v",)
        for value in each.get_subfields(*codes):
            if _bare(value).lower() in _TEXTBOOK_TERMS:
                return True
    return False


def _audience(source: _Source) -> str:
    """008/22 (target audience) of books, music, visual materials and computer files."""
    leader = str(source.record.leader)
    has_audience = leader[6] in "acdgijkmort" and not (leader[6] in "at" and leader[7] in "bis")
    if not has_audience or len(source.fixed) < 23:
        return "general"
    return _AUDIENCES.get(source.fixed[22], "general")


def _subjects_of(heading: Field, source: _Source | None = None) -> list[SubjectData]:
    """A 6XX subject access point: the heading, then its form ($v), general ($x),
    chronological ($y) and geographic ($z) subdivisions, joined with " -- "."""
    scheme = _subject_scheme(heading)
    if heading.tag == "653":
        terms = map(_bare, heading.get_subfields("a"))
        return [SubjectData(label=term, scheme="local") for term in terms if term]
    relator = "j" if heading.tag == "611" else "e"
    main = " ".join(
        v.strip()
        for c, v in heading.subfields
        if c.isalpha() and c not in _SUBDIVISIONS and c != relator and v.strip()
    )
    parts = [_bare(main)] + [_bare(v) for c, v in heading.subfields if c in _SUBDIVISIONS]
    label = " -- ".join(p for p in parts if p)
    return [SubjectData(label=label, scheme=scheme)] if label else []


def _subject_scheme(heading: Field) -> str:
    if heading.indicator2 == "7":
        source = (heading.get("2") or "").strip().lower()
        return source or "local"
    return _SUBJECT_SOURCES.get(heading.indicator2, "local")


def _classifications_of(number: Field, source: _Source | None = None) -> list[ClassificationData]:
    """080 UDC ($a with its common auxiliaries $x), 082 DDC (segmentation marks dropped),
    050/090 LCC ($a with the item number $b), 084 BBK (source $2 rubbk) or UDC ($2 udc)."""
    tag = number.tag
    if tag == "080":
        text = "".join(v.strip() for v in number.get_subfields("a", "x"))
        return [ClassificationData("udc", text)] if text else []
    if tag == "082":
        return [
            ClassificationData("ddc", v.replace("/", "").replace("'", "").strip())
            for v in number.get_subfields("a")
            if v.strip()
        ]
    if tag in ("050", "090"):
        item = " ".join(v.strip() for v in number.get_subfields("b") if v.strip())
        return [
            ClassificationData("lcc", f"{v.strip()} {item}".strip())
            for v in number.get_subfields("a")
            if v.strip()
        ]
    origin = (number.get("2") or "").strip().lower()
    scheme = "bbk" if origin.startswith("rubbk") or origin == "bbk" else None
    scheme = "udc" if origin.startswith("udc") else scheme
    if scheme is None:
        return []
    return [ClassificationData(scheme, v.strip()) for v in number.get_subfields("a") if v.strip()]


def _identifiers_of(number: Field, source: _Source | None = None) -> list[IdentifierData]:
    """020 $a ISBN without its qualifier ("(pbk.)"), and 020 $z, a cancelled or invalid ISBN
    that is kept for the identifier service to flag; 022 $a ISSN; 024 with first indicator 7
    and $2 doi a DOI; any other 024 (EAN, ISMN, URN...) an other identifier."""
    if number.tag == "020":
        found = []
        for value in number.get_subfields("a", "z"):
            match = _ISBN_AS_GIVEN.search(value)
            text = match[0].rstrip("-") if match else value.strip()
            if text:
                found.append(IdentifierData("isbn", text))
        return found
    if number.tag == "022":
        return [IdentifierData("issn", v.strip()) for v in number.get_subfields("a") if v.strip()]
    is_doi = number.indicator1 == "7" and (number.get("2") or "").strip().lower() == "doi"
    scheme = "doi" if is_doi else "other"
    return [IdentifierData(scheme, v.strip()) for v in number.get_subfields("a") if v.strip()]


def _series(source: _Source) -> str:
    """Series statements (490, or 440 before 2008) as transcribed, "Title ; numbering";
    830 (the series added entry) only when there is no statement. Several series are each
    put in parentheses, as ISBD does."""
    statements = [s for s in map(_series_statement, source.among(frozenset({"440", "490"}))) if s]
    if not statements:
        statements = [s for s in map(_series_statement, source.by_tag.get("830", ())) if s]
    if len(statements) <= 1:
        return statements[0] if statements else ""
    return " ".join(f"({s})" for s in statements)


def _series_statement(statement: Field) -> str:
    title = _bare(" ".join(v.strip() for v in statement.get_subfields("a") if v.strip()))
    numbering = _bare(" ".join(v.strip() for v in statement.get_subfields("v") if v.strip()))
    return f"{title} ; {numbering}" if title and numbering else title


def _paragraphs(source: _Source, tags: frozenset[str]) -> str:
    return "\n\n".join(p for each in source.among(tags) for p in _paragraphs_of(each))


def _paragraphs_of(note: Field, source: _Source | None = None) -> list[str]:
    """A note's text: its lettered subfields in order. A 502 without $a is rendered from its
    parts: "Thesis (degree)--Granting institution, year"."""
    if note.tag == "502" and "a" not in note:
        degree, granting, year = (" ".join(note.get_subfields(c)) for c in ("b", "c", "d"))
        text = "Thesis" + (f" ({degree.strip()})" if degree.strip() else "")
        text += f"--{granting.strip()}" if granting.strip() else ""
        text += f", {year.strip()}" if year.strip() else ""
        return [text]
    text = " ".join(v.strip() for c, v in note.subfields if c.isalpha() and c != "u" and v.strip())
    return [text] if text else []


# ---------------------------------------------------------------------------------------------
# RecordData -> MARC

_RECORD_TYPES = {  # resource type -> leader/06 (type of record), leader/07 (bibliographic level)
    "book": "am",
    "textbook": "am",
    "dissertation": "am",
    "article": "ab",
    "journal": "as",
    "issue": "ad",
    "audio": "im",
    "video": "gm",
    "map": "em",
    "dataset": "mm",
    "3d_model": "rm",
}
_AUDIENCE_CODES = {"children": "j", "youth": "d", "general": "g", "academic": "f"}
_SUBJECT_INDICATORS = {source: indicator for indicator, source in _SUBJECT_SOURCES.items()}
_ROLE_RELATORS = {
    "author": ("author", "aut"),
    "editor": ("editor", "edt"),
    "translator": ("translator", "trl"),
    "illustrator": ("illustrator", "ill"),
    "supervisor": ("thesis advisor", "ths"),
    "compiler": ("compiler", "com"),
    "narrator": ("narrator", "nrt"),
    "director": ("director", "drt"),
    "contributor": ("contributor", "ctb"),
}
_CLASSIFICATION_TAG = {"udc": "080", "ddc": "082", "lcc": "050", "bbk": "084"}
_TERMINAL = (".", "?", "!", "-", ")", "]")


def marc_from_data(data: RecordData, base: Record | None = None) -> Record:
    """A MARC 21 record (Unicode, leader/09 'a') for the data.

    With ``base``, the record's source MARC, every field the crosswalk does not own stays as
    it was and where it was, and an owned field is rebuilt only when the part of the data it
    carries changed: a subject added in the cataloguing form leaves the other subjects' $0
    authority links, the 035s, 040 and the local 9XX fields alone.
    """
    if base is None:
        return _new_record(data)
    return _merged_record(data, base)


def _new_record(data: RecordData) -> Record:
    record = Record(leader=_new_leader(data), force_utf8=True)
    building = _Building(record, _next_occurrences(None))
    record.add_field(Field(tag="008", data=_new_fixed_data(data)))
    for area in _AREAS:
        for built in area.build(data, area.value(data), building):
            record.add_ordered_field(built)
    return record


def _merged_record(data: RecordData, base: Record) -> Record:
    record = copy.deepcopy(base)
    derived = data_from_marc(base)
    source = _Source.of(record)
    building = _Building(record, _next_occurrences(record), base=source)
    dropped = building.dropped
    added: list[Field] = []
    for area in _AREAS:
        wanted = area.value(data)
        if _sameness(wanted) == _sameness(area.value(derived)):
            continue
        owned = [each for each in record.fields if area.owns(each)]
        if area.items_of is None:
            dropped.update(id(each) for each in owned)
            added.extend(area.build(data, wanted, building))
            continue
        remaining = list(zip(_sameness(wanted), wanted, strict=True))
        from_fields: list[Any] = []
        for each in owned:
            keys = _sameness(area.items_of(each, source))
            from_fields.extend(keys)
            trial = list(remaining)
            if all(_take(trial, key) for key in keys):
                remaining = trial
            else:
                dropped.add(id(each))
        elsewhere = _sameness(area.value(derived))
        for key in from_fields:
            if key in elsewhere:
                elsewhere.remove(key)
        for key in elsewhere:
            _take(remaining, key)
        added.extend(area.build(data, [item for _key, item in remaining], building))
    dropped.update(id(alternate) for alternate in _alternates_of(record, dropped))
    record.fields = [each for each in record.fields if id(each) not in dropped]
    for each in added:
        record.add_ordered_field(each)
    _update_fixed_data(record, data, derived)
    return record


def _take(items: list[tuple[Any, Any]], key: Any) -> bool:
    """Remove the first (key, item) with this key; say whether there was one."""
    for at, (candidate, _item) in enumerate(items):
        if candidate == key:
            del items[at]
            return True
    return False


def _sameness(items: list[Any]) -> list[Any]:
    """What must match for a field to stand for an item of the data: text with its spacing
    and Unicode form evened out, an identifier in its normalised form (ISBN-13), a name by
    name and role, a subject by heading and source. Other-script variants of a name and the
    translations of a subject heading are Kitobxon's own additions that MARC does not
    carry, so a difference there does not rebuild a field."""
    return [_same(item) for item in items]


def _same(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(unicodedata.normalize("NFC", value).split())
    if isinstance(value, IdentifierData):
        return ("id", value.scheme, normalized_identifier(value.scheme, value.value).value)
    if isinstance(value, ContributorData):
        return ("name", _same(value.name), value.role)
    if isinstance(value, SubjectData):
        return ("subject", _same(value.label), value.scheme)
    if isinstance(value, ClassificationData):
        return ("class", value.scheme, _same(value.number))
    if isinstance(value, tuple | list):
        return tuple(_same(part) for part in value)
    return value


def _alternates_of(record: Record, dropped: set[int]) -> list[Field]:
    """880s linked to a dropped field, and the unlinked 880s of a dropped 245."""
    links: set[tuple[str, str]] = set()
    drops_title = False
    for each in record.fields:
        if id(each) not in dropped or each.tag == "880":
            continue
        drops_title = drops_title or each.tag == "245"
        link = _linkage(each)
        if link and link[0] == "880":
            links.add((each.tag, link[1]))
    found = []
    for each in record.fields:
        link = _linkage(each) if each.tag == "880" else None
        if link and (link in links or (drops_title and link[0] == "245")):
            found.append(each)
    return found


@dataclass
class _Building:
    """What building fields needs to know: the record so far, the next 880 occurrence
    number, and the source MARC when the record is rebuilt on it."""

    record: Record
    occurrences: Iterator[int]
    base: _Source | None = None
    dropped: set[int] = field(default_factory=set)  # id() of the source fields left out

    def has_main_entry(self) -> bool:
        return any(
            each.tag in ("100", "110", "111") and id(each) not in self.dropped
            for each in self.record.fields
        )


def _next_occurrences(record: Record | None) -> Iterator[int]:
    used = [0]
    for each in record.fields if record is not None else ():
        link = _linkage(each)
        if link and link[1].isdigit():
            used.append(int(link[1]))
    number = max(used)
    while True:
        number += 1
        yield number


@dataclass(frozen=True)
class _Area:
    """A part of the description the cataloguing form edits, and the MARC fields carrying it.

    ``value`` gives the part from a ``RecordData``; ``build`` makes fields for it. An area
    with ``items_of`` is a list (subjects, names...): the items each field carries let an
    unchanged field be kept when another item of the list changes.
    """

    owns: Callable[[Field], bool]
    value: Callable[[RecordData], list[Any]]
    build: Callable[[RecordData, list[Any], _Building], list[Field]]
    items_of: Callable[[Field, _Source], list[Any]] | None = None


def _area(
    tags: Iterable[str],
    value: Callable[[RecordData], list[Any]],
    build: Callable[[RecordData, list[Any], _Building], list[Field]],
    items_of: Callable[[Field, _Source], list[Any]] | None = None,
    owns: Callable[[Field], bool] | None = None,
) -> _Area:
    """An area owning the fields with these tags (or those ``owns`` picks)."""
    tag_set = frozenset(tags)
    return _Area(owns or (lambda each: each.tag in tag_set), value, build, items_of)


def _punctuated(
    tag: str, indicators: str, parts: list[tuple[str, str, str]], *, closing: bool = True
) -> Field:
    """A data field from (code, value, punctuation that introduces it) with ISBD punctuation:
    each separator ends the subfield before, and the field ends with a full stop - unless a
    stop there would read as part of an initial or abbreviation ("Smith, J"), which the
    reader keeps."""
    subfields: list[Subfield] = []
    for code, value, introduced_by in parts:
        if subfields and introduced_by:
            last = subfields[-1]
            subfields[-1] = Subfield(last.code, last.value + introduced_by)
        subfields.append(Subfield(code, value))
    if closing and subfields:
        last = subfields[-1]
        stopped = last.value + "."
        if not last.value.endswith(_TERMINAL) and _without_final_stop(stopped) == last.value:
            subfields[-1] = Subfield(last.code, stopped)
    return Field(tag=tag, indicators=Indicators(*indicators), subfields=subfields)


def _plain(tag: str, indicators: str, parts: list[tuple[str, str]]) -> Field:
    return Field(
        tag=tag,
        indicators=Indicators(*indicators),
        subfields=[Subfield(code, value) for code, value in parts],
    )


def _control_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    found = []
    if data.control_number:
        found.append(Field(tag="001", data=data.control_number))
    if data.control_number_source:
        found.append(Field(tag="003", data=data.control_number_source))
    return found


def _identifier_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    """ISBN in 020 $a, or $z when it is not a valid ISBN; ISSN 022; DOI 024 7_ $2 doi;
    any other identifier 024 8_."""
    found = []
    for identifier in items:
        if identifier.scheme == "isbn":
            code = "a" if isbn_numbers.is_valid(identifier.value) else "z"
            found.append(_plain("020", "  ", [(code, identifier.value)]))
        elif identifier.scheme == "issn":
            found.append(_plain("022", "  ", [("a", identifier.value)]))
        elif identifier.scheme == "doi":
            found.append(_plain("024", "7 ", [("a", identifier.value), ("2", "doi")]))
        else:
            found.append(_plain("024", "8 ", [("a", identifier.value)]))
    return found


def _language_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    """041 lists every language when there is more than one (008/35-37 holds the first)."""
    if len(data.languages) < 2:
        return []
    return [_plain("041", "0 ", [("a", code) for code in data.languages])]


def _classification_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    found = []
    for number in items:
        tag = _CLASSIFICATION_TAG.get(number.scheme)
        if tag == "050":
            whole, _space, item = number.number.partition(" ")
            parts = [("a", whole)] + ([("b", item)] if item else [])
            found.append(_plain("050", " 4", parts))
        elif tag == "082":
            found.append(_plain("082", "04", [("a", number.number)]))
        elif tag == "084":
            found.append(_plain("084", "  ", [("a", number.number), ("2", "rubbk")]))
        elif tag == "080":
            found.append(_plain("080", "  ", [("a", number.number)]))
    return found


def _contributor_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    """The first author is the main entry (100 or 110) when the record has none; everyone
    else is an added entry (700, 710). Other-script forms go to linked 880s."""
    found = []
    main_entry_free = not building.has_main_entry()
    for contributor in items:
        is_main = main_entry_free and contributor.role == "author"
        main_entry_free = main_entry_free and not is_main
        tag = ("1" if is_main else "7") + ("10" if contributor.is_organisation else "00")
        found.extend(_name_fields(contributor, tag, building))
    return found


def _name_fields(contributor: ContributorData, tag: str, building: _Building) -> list[Field]:
    personal = "1 " if "," in contributor.name else "0 "
    indicators = "2 " if contributor.is_organisation else personal
    default_role = "author" if tag.startswith("1") else "contributor"
    relator: list[tuple[str, str, str]] = []
    if contributor.role != default_role:
        term, code = _ROLE_RELATORS.get(contributor.role, (contributor.role, ""))
        relator = [("e", term, ",")] + ([("4", code, "")] if code else [])
    entry = _punctuated(tag, indicators, [("a", contributor.name, ""), *relator[:1]])
    entry.subfields.extend(Subfield(code, value) for code, value, _sep in relator[1:])
    fields = [entry]
    if contributor.variants:
        occurrence = f"{next(building.occurrences):02d}"
        entry.subfields.insert(0, Subfield("6", f"880-{occurrence}"))
        for variant in contributor.variants:
            fields.append(_plain("880", indicators, [("6", f"{tag}-{occurrence}"), ("a", variant)]))
    return fields


def _title_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    """245 with ISBD punctuation; the other-script forms in 880s linked to it. Rebuilt on
    source MARC, it keeps the general material designation ($h) and the nonfiling
    characters when the title still begins the same way."""
    previous = building.base.first("245") if building.base else None
    nonfiling = "0"
    if previous is not None and previous.indicator2.isdigit():
        skip = int(previous.indicator2)
        old = previous.get("a") or ""
        if skip and old[:skip].lower() == data.title[:skip].lower():
            nonfiling = previous.indicator2
    parts: list[tuple[str, str, str]] = [("a", data.title, "")]
    medium = previous.get("h") if previous is not None else None
    if medium:
        parts.append(("h", medium.strip().rstrip(_ISBD_CLOSING).strip(), ""))
    if data.subtitle:
        parts.append(("b", data.subtitle, " :"))
    if data.responsibility:
        parts.append(("c", data.responsibility, " /"))
    main_entry = "1" if building.has_main_entry() or _has_author(data) else "0"
    statement = _punctuated("245", main_entry + nonfiling, parts)
    fields = [statement]
    if data.title_variants:
        occurrence = f"{next(building.occurrences):02d}"
        statement.subfields.insert(0, Subfield("6", f"880-{occurrence}"))
        link = ("6", f"245-{occurrence}")
        fields.extend(
            _plain("880", main_entry + "0", [link, ("a", variant)])
            for variant in data.title_variants
        )
    return fields


def _has_author(data: RecordData) -> bool:
    return any(c.role == "author" for c in data.contributors)


def _parallel_title_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    return [_plain("246", "31", [("a", title)]) for title in items]


def _edition_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    return [_plain("250", "  ", [("a", data.edition)])] if data.edition else []


def _publication_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    """264 with second indicator 1 (RDA), or 260 when the source MARC used 260."""
    if not (data.place or data.publisher or data.year):
        return []
    parts: list[tuple[str, str, str]] = []
    if data.place:
        parts.append(("a", data.place, ""))
    for name in (p.strip() for p in data.publisher.split(" ; ")):
        if name:
            parts.append(("b", name, " :"))
    if data.year:
        parts.append(("c", str(data.year), ","))
    closing = bool(data.year)  # a place or publisher keeps its own stops ("Calif.")
    if building.base is not None and "260" in building.base.by_tag:
        return [_punctuated("260", "  ", parts, closing=closing)]
    return [_punctuated("264", " 1", parts, closing=closing)]


def _extent_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    return [_plain("300", "  ", [("a", data.extent)])] if data.extent else []


def _series_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    """490 0_ (series statement, not traced): $a title, $v numbering."""
    text = data.series.strip()
    if not text:
        return []
    if text.startswith("(") and text.endswith(")") and ") (" in text:
        statements = text[1:-1].split(") (")
    else:
        statements = [text]
    found = []
    for statement in statements:
        title, _separator, numbering = statement.rpartition(" ; ")
        if not title:
            title, numbering = numbering, ""
        parts = [("a", title + (" ;" if numbering else ""))] + (
            [("v", numbering)] if numbering else []
        )
        found.append(_plain("490", "0 ", parts))
    return found


def _note_fields(tag: str, indicators: str) -> Callable[..., list[Field]]:
    def build(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
        return [_plain(tag, indicators, [("a", text)]) for text in items]

    return build


def _subject_fields(data: RecordData, items: list[Any], building: _Building) -> list[Field]:
    """650 topical terms: the heading in $a and its subdivisions in $x; the source in the
    second indicator, or 7 with $2. A textbook gets the genre term "Textbooks" (655)."""
    found = []
    for subject in items:
        heading, *subdivisions = [p.strip() for p in subject.label.split(" -- ")]
        indicator = _SUBJECT_INDICATORS.get(
            subject.scheme, "4" if subject.scheme == "local" else "7"
        )
        parts = [("a", heading)] + [("x", part) for part in subdivisions]
        if indicator == "7":
            parts.append(("2", subject.scheme))
        tag = "655" if subject.scheme == "lcgft" else "650"
        found.append(_plain(tag, " " + indicator, parts))
    is_labelled = any(s.label.lower() in _TEXTBOOK_TERMS for s in data.subjects)
    if data.resource_type == "textbook" and building.base is None and not is_labelled:
        found.append(_plain("655", " 7", [("a", "Textbooks"), ("2", "lcgft")]))
    return found


def _paragraph_items(text: str) -> list[str]:
    """Paragraphs are separated by a blank line (whatever line endings a browser sent)."""
    return [p.strip() for p in _BLANK_LINE.split(text) if p.strip()]


_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")


def _owns_publication(each: Field) -> bool:
    return each.tag == "260" or (each.tag == "264" and each.indicator2 == "1")


_AREAS: tuple[_Area, ...] = (
    _area(
        ("001", "003"),
        lambda d: [(d.control_number, d.control_number_source)],
        _control_fields,
    ),
    _area(_IDENTIFIER_TAGS, lambda d: list(d.identifiers), _identifier_fields, _identifiers_of),
    _area(("041",), lambda d: [tuple(d.languages)], _language_fields),
    _area(
        _CLASSIFICATION_TAGS,
        lambda d: list(d.classifications),
        _classification_fields,
        _classifications_of,
    ),
    _area(
        _CONTRIBUTOR_TAGS,
        lambda d: list(d.contributors),
        _contributor_fields,
        _contributor_items,
    ),
    _area(
        ("245",),
        lambda d: [(d.title, d.subtitle, d.responsibility, tuple(d.title_variants))],
        _title_fields,
    ),
    _area(
        _PARALLEL_TITLE_TAGS, lambda d: list(d.parallel_titles), _parallel_title_fields, _titles_of
    ),
    _area(("250",), lambda d: [d.edition], _edition_fields),
    _area(
        ("260", "264"),
        lambda d: [(d.place, d.publisher, d.year)],
        _publication_fields,
        owns=_owns_publication,
    ),
    _area(("300",), lambda d: [d.extent], _extent_fields),
    _area(_SERIES_TAGS, lambda d: [d.series], _series_fields),
    _area(
        _NOTE_TAGS, lambda d: _paragraph_items(d.notes), _note_fields("500", "  "), _paragraphs_of
    ),
    _area(
        ("505",), lambda d: _paragraph_items(d.contents), _note_fields("505", "0 "), _paragraphs_of
    ),
    _area(
        ("520",), lambda d: _paragraph_items(d.abstract), _note_fields("520", "  "), _paragraphs_of
    ),
    _area(_SUBJECT_TAGS, lambda d: list(d.subjects), _subject_fields, _subjects_of),
)


def _new_leader(data: RecordData) -> str:
    """New record ('n'), type and level from the resource type, UTF-8 ('a'), ISBD
    punctuation included ('i')."""
    kind_level = _RECORD_TYPES.get(data.resource_type, "am")
    return f"00000n{kind_level} a2200000 i 4500"


def _new_fixed_data(data: RecordData, entered: date | None = None) -> str:
    """008 for a new record: date entered, date type and Date 1, unknown place ('xx '),
    target audience and thesis code where the format defines them, language."""
    kind_level = _RECORD_TYPES.get(data.resource_type, "am")
    if data.resource_type == "journal":
        dates = f"c{data.year:04d}9999" if data.year else "uuuuuuuuu"
    else:
        dates = f"s{data.year:04d}    " if data.year else "nuuuuuuuu"
    material = [" "] * 17  # 008/18-34
    if _has_audience(kind_level):
        material[22 - 18] = _AUDIENCE_CODES.get(data.audience, " ")
    if kind_level[0] == "a" and kind_level[1] not in "bis":
        material[24 - 18] = "m" if data.resource_type == "dissertation" else " "
        material[29 - 18 : 32 - 18] = ["0", "0", "0"]
        material[33 - 18] = "|"
    language = data.languages[0] if data.languages else "und"
    entered_on = (entered or date.today()).strftime("%y%m%d")
    return f"{entered_on}{dates}xx {''.join(material)}{language} d"


def _has_audience(kind_level: str) -> bool:
    return kind_level[0] in "acdgijkmort" and not (kind_level[0] in "at" and kind_level[1] in "bis")


def _update_fixed_data(record: Record, data: RecordData, derived: RecordData) -> None:
    """Leader/06-07 and 008 change only where the data they code changed; a record made a
    textbook gets the genre term that says so."""
    leader = list(str(record.leader))
    if data.resource_type != derived.resource_type:
        leader[6:8] = list(_RECORD_TYPES.get(data.resource_type, "am"))
        if data.resource_type == "textbook":
            record.add_ordered_field(_plain("655", " 7", [("a", "Textbooks"), ("2", "lcgft")]))
    leader[9] = "a"
    record.leader = Leader("".join(leader))
    fixed_field = next((each for each in record.fields if each.tag == "008"), None)
    if fixed_field is None:
        record.add_ordered_field(Field(tag="008", data=_new_fixed_data(data)))
        return
    fixed = list((fixed_field.data or "").ljust(40)[:40])
    if data.year != derived.year:
        fixed[6:11] = list(f"s{data.year:04d}" if data.year else "nuuuu")
    if data.audience != derived.audience and _has_audience("".join(leader[6:8])):
        fixed[22] = _AUDIENCE_CODES.get(data.audience, " ")
    if data.resource_type != derived.resource_type and data.resource_type == "dissertation":
        fixed[24] = "m"
    if data.languages != derived.languages:
        fixed[35:38] = list(data.languages[0] if data.languages else "und")
    fixed_field.data = "".join(fixed)


# ---------------------------------------------------------------------------------------------
# Export and writing


def marc_for_export(data: RecordData) -> Record:
    """The record as MARC to hand on: its source MARC verbatim (in Unicode, leader/09 'a')
    when it came as MARC 21 or MARCXML, otherwise built from the data."""
    record = _source_record(data)
    return record if record is not None else marc_from_data(data)


def _source_record(data: RecordData) -> Record | None:
    if not data.source_data:
        return None
    if data.source_format == "marc21":
        record, _problem = _decoded_iso2709(bytes(data.source_data))
        return record
    if data.source_format == "marcxml":
        return _record_from_marcxml_bytes(bytes(data.source_data))
    return None


def write_marc21(records: Iterable[RecordData], out: BinaryIO) -> int:
    """Write records as MARC 21 in ISO 2709, UTF-8; returns how many were written.

    A record this reader would refuse (over 99999 bytes, a field over 9999) is logged and
    left out rather than written broken.
    """
    written = 0
    for data in records:
        raw = _iso2709_of(marc_for_export(data))
        problem = _structure_problem(raw)
        if problem:
            logger.warning("record %r not written as MARC 21: %s", data.title, problem)
            continue
        out.write(raw)
        written += 1
    return written


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


def write_marcxml(records: Iterable[RecordData], out: BinaryIO) -> int:
    """Write a MARCXML collection (MARC21 slim, UTF-8, with an XML declaration), streaming
    record by record; returns how many were written. Values MARCXML's schema forbids
    (indicators other than a digit, lower-case letter or blank; characters XML cannot
    carry) are written as blanks."""
    written = 0
    with etree.xmlfile(out, encoding="utf-8") as document:
        document.write_declaration()
        with document.element(
            f"{{{MARCXML_NAMESPACE}}}collection", nsmap={None: MARCXML_NAMESPACE}
        ):
            for data in records:
                document.write(marcxml_element(marc_for_export(data)))
                document.flush()
                written += 1
    return written


_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INDICATOR_CHARACTERS = frozenset("0123456789abcdefghijklmnopqrstuvwxyz ")
_SUBFIELD_CODES = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?{}_^`~[]\\"
)


def marcxml_element(record: Record) -> etree._Element:
    """A pymarc record as a MARCXML <record> element valid against MARC21slim.xsd."""
    namespace = f"{{{MARCXML_NAMESPACE}}}"
    element = etree.Element(f"{namespace}record", nsmap={None: MARCXML_NAMESPACE})
    etree.SubElement(element, f"{namespace}leader").text = _xml_leader(str(record.leader))
    for each in record.fields:
        if each.control_field:
            control = etree.SubElement(element, f"{namespace}controlfield", tag=each.tag)
            control.text = _XML_FORBIDDEN.sub(" ", each.data or "")
            continue
        datafield = etree.SubElement(
            element,
            f"{namespace}datafield",
            tag=each.tag,
            ind1=each.indicator1 if each.indicator1 in _INDICATOR_CHARACTERS else " ",
            ind2=each.indicator2 if each.indicator2 in _INDICATOR_CHARACTERS else " ",
        )
        for code, value in each.subfields:
            subfield = etree.SubElement(
                datafield, f"{namespace}subfield", code=code if code in _SUBFIELD_CODES else "?"
            )
            subfield.text = _XML_FORBIDDEN.sub(" ", value)
    return element


def _xml_leader(leader: str) -> str:
    """The leader as MARC21slim.xsd's pattern allows it, with leader/09 'a' (Unicode)."""
    text = list(leader[:_LEADER_LENGTH].ljust(_LEADER_LENGTH))
    for at in range(_LEADER_LENGTH):
        allowed = _LEADER_PATTERN[at]
        if text[at] not in allowed:
            text[at] = _LEADER_DEFAULT[at]
    text[9] = "a"
    if "".join(text[20:24]) not in ("4500", "    "):
        text[20:24] = list("4500")
    return "".join(text)


_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_LEADER_PATTERN = (
    [_DIGITS | {" "}] * 5
    + [_ALNUM | {" "}, _ALNUM]
    + [_ALNUM | {" "}] * 3
    + [frozenset("2 ")] * 2
    + [_DIGITS | {" "}] * 5
    + [_ALNUM | {" "}] * 3
    + [_DIGITS | {" "}] * 4
)
_LEADER_DEFAULT = "00000 a   2200000   4500"
