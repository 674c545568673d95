"""Crosswalks from a record to the metadata formats the protocols hand out.

Pure functions over ``RecordData``: no database, no request, no settings. Each reuses the
catalogue's own writers (``formats/dublincore.py``, ``formats/marc/export.py``) so that a record
reads the same whether it leaves by export, OAI-PMH, OPDS or SRU. Tested against golden files
in ``protocols/tests/golden/``.
"""

from __future__ import annotations

from lxml import etree

from kitobxon.catalogue.data import RecordData
from kitobxon.catalogue.formats import dublincore
from kitobxon.catalogue.formats.marc.export import marc_for_export
from kitobxon.catalogue.formats.marc.marcxml import MARCXML_NAMESPACE, marcxml_element

OAI_DC_NAMESPACE = dublincore.OAI_DC
DC_NAMESPACE = dublincore.DC
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
MARCXML_SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"

__all__ = [
    "DC_NAMESPACE",
    "MARCXML_NAMESPACE",
    "MARCXML_SCHEMA",
    "OAI_DC_NAMESPACE",
    "OAI_DC_SCHEMA",
    "dublin_core",
    "marcxml",
]


def dublin_core(data: RecordData) -> etree._Element:
    """The record as an ``oai_dc:dc`` element, valid against oai_dc.xsd."""
    element: etree._Element = dublincore.record_element(data)
    return element


def marcxml(data: RecordData) -> etree._Element:
    """The record as a ``marc:record`` element (MARC 21 slim), valid against MARC21slim.xsd:
    the source MARC verbatim when the record came as MARC, otherwise built from the data."""
    return marcxml_element(marc_for_export(data))
