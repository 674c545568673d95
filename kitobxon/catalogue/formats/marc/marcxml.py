"""MARCXML (MARC 21 slim): reading a collection safely and writing a record as a <record>
element valid against MARC21slim.xsd.

The mapping decisions are recorded in docs/adr/0013-marc-crosswalk.md.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree
from pymarc import Field, Indicators, Leader, Record, Subfield

from kitobxon.catalogue.formats import Parsed, xmlsafety
from kitobxon.catalogue.formats.marc.iso2709 import (
    _BLANK_INDICATORS,
    _LEADER_LENGTH,
    _nfc,
    _parsed_from_record,
)

MARCXML_NAMESPACE = "http://www.loc.gov/MARC21/slim"


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
