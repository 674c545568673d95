"""MARC to hand on: the source record verbatim when there is one, and the MARC 21 and MARCXML
writers that refuse what the reader would reject.

The mapping decisions are recorded in docs/adr/0013-marc-crosswalk.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import BinaryIO

from lxml import etree
from pymarc import Record

from kitobxon.catalogue.data import (
    RecordData,
)
from kitobxon.catalogue.formats.marc.building import marc_from_data
from kitobxon.catalogue.formats.marc.iso2709 import (
    _decoded_iso2709,
    _iso2709_of,
    _structure_problem,
)
from kitobxon.catalogue.formats.marc.marcxml import (
    MARCXML_NAMESPACE,
    _record_from_marcxml_bytes,
    marcxml_element,
)

logger = logging.getLogger(__name__)


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
