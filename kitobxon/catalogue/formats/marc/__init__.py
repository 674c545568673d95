"""MARC 21 in ISO 2709 and MARCXML: reading, the crosswalk to ``RecordData`` and back, writing.

Reading trusts nothing a file says about itself; the crosswalk follows Koha and Open Library
practice where MARC leaves a choice. The decisions are recorded in
docs/adr/0013-marc-crosswalk.md.
"""

from kitobxon.catalogue.formats.marc.building import marc_from_data
from kitobxon.catalogue.formats.marc.export import marc_for_export, write_marc21, write_marcxml
from kitobxon.catalogue.formats.marc.iso2709 import read_marc21
from kitobxon.catalogue.formats.marc.mapping import data_from_marc
from kitobxon.catalogue.formats.marc.marcxml import MARCXML_NAMESPACE, marcxml_element, read_marcxml

__all__ = [
    "MARCXML_NAMESPACE",
    "data_from_marc",
    "marc_for_export",
    "marc_from_data",
    "marcxml_element",
    "read_marc21",
    "read_marcxml",
    "write_marc21",
    "write_marcxml",
]
