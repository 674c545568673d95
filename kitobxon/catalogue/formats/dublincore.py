"""Simple Dublin Core (oai_dc) records in and out.

The value rules Dublin Core shares with the CSV, BibTeX and RIS crosswalks (language codes,
identifier shapes, "Title : subtitle", "Name (role)", years, type words) are in
``formats/vocabulary.py``.

Reading takes ``oai_dc:dc`` records, OAI-PMH ListRecords and GetRecord responses (each record's
``<metadata>``; deleted records have none and are skipped), a plain ``<record>`` or
``<metadata>`` wrapper, or a bare element holding dc elements. Any element whose children
include dc elements is a record. ``dc:format``, ``relation``, ``rights``, ``coverage`` and
``source`` are not carried. Writing gives a ``<collection>`` of ``oai_dc:dc`` records valid
against the OAI oai_dc schema. DC has no place of publication, so the writer gives
``dc:publisher`` as "Place : Publisher" (ISBD order) and the reader splits it back; roles
other than author and contributor follow the name in brackets: "Karimov, Aziz (translator)".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from lxml import etree

from kitobxon.catalogue.data import RecordData, SubjectData
from kitobxon.catalogue.formats import Parsed, xmlsafety
from kitobxon.catalogue.formats.vocabulary import (
    contributor_from,
    first_year,
    identifier_of,
    identifier_text,
    join_title,
    language_code,
    resource_type_of,
    split_title,
    unique,
    with_role,
)

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI = "http://www.openarchives.org/OAI/2.0/"

# --- Reading --------------------------------------------------------------------------------

_ALIASES = {"abstract": "description", "issued": "date", "created": "date"}
_NOT_RECORDS = {"setDescription", "about", "description"}  # OAI-PMH parts that are not records
_IMPRINT = re.compile(r"^(?P<place>.*?)\s+:(?:\s+(?P<publisher>.*))?$")


def _dc_name(element: Any) -> str | None:
    """The dc element an element is ("title", "creator", …), or None."""
    if not isinstance(element.tag, str):
        return None
    qname = etree.QName(element)
    if qname.namespace not in (DC, DCTERMS):
        return None
    return _ALIASES.get(qname.localname, qname.localname)


def _is_record(element: Any) -> bool:
    return _dc_name(element) is None and any(_dc_name(child) for child in element)


def _outside_metadata(element: Any) -> bool:
    return any(
        etree.QName(ancestor).namespace == OAI and etree.QName(ancestor).localname in _NOT_RECORDS
        for ancestor in element.iterancestors()
    )


def _oai_identifier(element: Any) -> str:
    for ancestor in element.iterancestors(f"{{{OAI}}}record"):
        found = ancestor.findtext(f"{{{OAI}}}header/{{{OAI}}}identifier")
        return (found or "").strip()
    return ""


def _values(element: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for child in element:
        name = _dc_name(child)
        text = " ".join("".join(child.itertext()).split()) if name else ""
        if name and text:
            values.setdefault(name, []).append(text)
    return values


def _imprint(publisher: str) -> tuple[str, str]:
    """(place, publisher) from "Place : Publisher", or ("", publisher)."""
    match = _IMPRINT.match(publisher)
    if match is None:
        return "", publisher
    return match.group("place"), match.group("publisher") or ""


def record_from_values(values: dict[str, list[str]], raw: bytes = b"") -> RecordData:
    """The crosswalk DC → RecordData, for a record that has at least one title."""
    titles = values["title"]
    title, subtitle = split_title(titles[0])
    place, publisher = _imprint(values.get("publisher", [""])[0])
    contributors = [contributor_from(v, "author") for v in values.get("creator", [])]
    contributors += [contributor_from(v, "contributor") for v in values.get("contributor", [])]
    subjects = [part.strip() for value in values.get("subject", []) for part in value.split(";")]
    return RecordData(
        title=title,
        subtitle=subtitle,
        parallel_titles=titles[1:],
        contributors=unique(contributors),
        publisher=publisher,
        place=place,
        year=next((y for y in map(first_year, values.get("date", [])) if y), None),
        languages=unique(language_code(v) for v in values.get("language", [])),
        resource_type=resource_type_of(values.get("type", [])) or "book",
        subjects=[SubjectData(label=s) for s in unique(s for s in subjects if s)],
        identifiers=unique(identifier_of(v) for v in values.get("identifier", [])),
        abstract="\n\n".join(values.get("description", [])),
        source_format="dc",
        source_data=raw,
    )


def _parsed(element: Any, position: int) -> Parsed:
    raw = etree.tostring(element, encoding="utf-8", with_tail=False)
    values = _values(element)
    control_number = _oai_identifier(element)
    if not values.get("title"):
        return Parsed(
            position,
            -1,
            raw,
            error=f"record {position} (line {element.sourceline}) has no dc:title",
            control_number=control_number,
        )
    data = record_from_values(values, raw)
    data.control_number = control_number
    return Parsed(position, -1, raw, data=data, control_number=control_number)


def _release(element: Any) -> None:
    """Free a read record and everything before it, so memory stays flat on big files."""
    element.clear(keep_tail=True)
    node = element
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def read(stream: BinaryIO) -> Iterator[Parsed]:
    """Dublin Core records, one ``Parsed`` each, streamed.

    A record without a title is an error and the next one is read. A document that declares
    entities is refused with one error and never expanded (see ``xmlsafety``). Where the XML
    stops being well-formed, the records before come through, then one error names the line.
    """
    position = 0
    try:
        for _event, element in xmlsafety.iterparse(stream, events=("end",)):
            if not _is_record(element) or _outside_metadata(element):
                continue
            position += 1
            yield _parsed(element, position)
            _release(element)
    except xmlsafety.UnsafeXMLError as error:
        yield Parsed(position + 1, -1, b"", error=str(error))
    except etree.XMLSyntaxError as error:
        yield Parsed(
            position + 1,
            -1,
            b"",
            error=f"the XML is not well-formed at line {error.lineno}: {error.msg}",
        )


# --- Writing --------------------------------------------------------------------------------

_COAR = "http://purl.org/coar/resource_type/"
_DC_TYPES: dict[str, tuple[str, str]] = {
    "book": ("Text", f"{_COAR}c_2f33"),
    "textbook": ("Text", "textbook"),
    "article": ("Text", f"{_COAR}c_6501"),
    "journal": ("Text", f"{_COAR}c_0640"),
    "issue": ("Text", "journal issue"),
    "dissertation": ("Text", f"{_COAR}c_46ec"),
    "audio": ("Sound", f"{_COAR}c_18cc"),
    "video": ("MovingImage", f"{_COAR}c_12ce"),
    "map": ("Image", f"{_COAR}c_12cd"),
    "dataset": ("Dataset", f"{_COAR}c_ddb1"),
    "3d_model": ("PhysicalObject", "3D model"),
}


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (control characters other than
    tab and line ends, lone surrogates), which lxml would refuse."""
    return _NOT_XML.sub("", text)


def _elements(record: RecordData) -> Iterator[tuple[str, str]]:
    yield "title", join_title(record.title, record.subtitle)
    for parallel in record.parallel_titles:
        yield "title", parallel
    for contributor in record.contributors:
        if contributor.role == "author":
            yield "creator", contributor.name
        else:
            yield "contributor", with_role(contributor, "contributor")
    for subject in record.subjects:
        yield "subject", subject.label
    if record.abstract:
        yield "description", record.abstract
    if record.place:
        yield "publisher", f"{record.place} : {record.publisher}".rstrip()
    elif record.publisher:
        yield "publisher", record.publisher
    if record.year:
        yield "date", str(record.year)
    for dc_type in _DC_TYPES.get(record.resource_type, ("Text",)):
        yield "type", dc_type
    for identifier in record.identifiers:
        yield "identifier", identifier_text(identifier)
    for language in record.languages:
        yield "language", language


def record_element(record: RecordData) -> Any:
    """One record as an ``oai_dc:dc`` element."""
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC})
    for name, value in _elements(record):
        if value:
            etree.SubElement(root, f"{{{DC}}}{name}").text = xml_text(value)
    return root


def write(records: Iterable[RecordData], out: BinaryIO) -> int:
    """A ``<collection>`` of ``oai_dc:dc`` records, UTF-8, streamed; returns the count."""
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("collection", nsmap={"oai_dc": OAI_DC, "dc": DC}):
            for record in records:
                xf.write("\n")
                xf.write(record_element(record), pretty_print=True)
                count += 1
            xf.write("\n")
    return count
