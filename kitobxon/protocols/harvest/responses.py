"""Reading OAI-PMH responses, tolerantly: what a page says, record by record.

Pure functions, no database. A page that is not well-formed (or declares entities) is one
``PageError``; inside a well-formed page each record stands alone, so a header without an
identifier or a record without metadata is reported and the others still come through —
real repositories send responses that break the schema in small ways.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from kitobxon.catalogue.formats import Parsed, dublincore, marc, xmlsafety

OAI = "http://www.openarchives.org/OAI/2.0/"
_NS = {"oai": OAI}


class PageError(Exception):
    """The page cannot be read at all."""


@dataclass
class OAIRecord:
    identifier: str
    datestamp: str = ""
    deleted: bool = False
    metadata: bytes = b""  # the element inside <metadata>, serialised
    problem: str = ""  # why this record cannot be used, when it cannot


@dataclass
class Page:
    response_date: str = ""
    error_code: str = ""
    error_message: str = ""
    records: list[OAIRecord] = field(default_factory=list)
    resumption_token: str = ""
    complete_list_size: int | None = None
    granularity: str = ""  # from Identify


def _text(element: Any, path: str) -> str:
    found = element.find(path, _NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def parse(body: bytes) -> Page:
    """Read one OAI-PMH response with the catalogue's safe parser."""
    try:
        stream = xmlsafety.guarded(io.BytesIO(body))
        root = etree.parse(stream, xmlsafety.safe_parser()).getroot()
        xmlsafety.refuse_declared_entities(root)
    except xmlsafety.UnsafeXMLError as refused:
        raise PageError(str(refused)) from refused
    except etree.XMLSyntaxError as problem:
        raise PageError(
            f"the response is not well-formed XML (line {problem.lineno}): {problem.msg}"
        ) from problem
    if root.tag != f"{{{OAI}}}OAI-PMH":
        raise PageError(f"the response is not an OAI-PMH document (root element {root.tag})")
    page = Page(response_date=_text(root, "oai:responseDate"))
    error = root.find("oai:error", _NS)
    if error is not None:
        page.error_code = error.get("code", "") or "undefinedError"
        page.error_message = " ".join((error.text or "").split())
        return page
    page.granularity = _text(root, "oai:Identify/oai:granularity")
    for number, record in enumerate(root.iterfind("oai:ListRecords/oai:record", _NS), 1):
        page.records.append(_record(record, number))
    for record in root.iterfind("oai:GetRecord/oai:record", _NS):
        page.records.append(_record(record, 1))
    token = root.find("oai:ListRecords/oai:resumptionToken", _NS)
    if token is not None:
        page.resumption_token = (token.text or "").strip()
        size = token.get("completeListSize", "")
        page.complete_list_size = int(size) if size.isdigit() else None
    return page


def _record(element: Any, number: int) -> OAIRecord:
    header = element.find("oai:header", _NS)
    if header is None:
        return OAIRecord("", problem=f"record {number} of the page has no header")
    found = OAIRecord(
        identifier=_text(header, "oai:identifier"),
        datestamp=_text(header, "oai:datestamp"),
        deleted=header.get("status") == "deleted",
    )
    if not found.identifier:
        found.problem = f"record {number} of the page has a header without an identifier"
        return found
    if found.deleted:
        return found
    metadata = element.find("oai:metadata", _NS)
    content = (
        [child for child in metadata if isinstance(child.tag, str)] if metadata is not None else []
    )
    if metadata is None or not content:
        found.problem = "the record has no metadata"
        return found
    found.metadata = etree.tostring(content[0], encoding="utf-8")
    return found


def crosswalk(record: OAIRecord, prefix: str) -> Parsed:
    """The record's metadata read by the catalogue's own reader for its format."""
    stream = io.BytesIO(record.metadata)
    reader: Iterator[Parsed] = (
        marc.read_marcxml(stream) if prefix == "marc21" else dublincore.read(stream)
    )
    for parsed in reader:
        return parsed
    return Parsed(1, -1, record.metadata, error=f"no {prefix} record in the metadata")
