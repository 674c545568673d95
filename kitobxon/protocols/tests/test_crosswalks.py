"""The crosswalks record → oai_dc and record → MARCXML, against golden files and the schemas.

Golden files are in ``golden/``; regenerate one by deleting it and running the test once
(it writes the file and fails so that the change is seen). The schemas come from the
``shared/data`` folder beside the repository; tests that need them skip without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.protocols.crosswalks import MARCXML_NAMESPACE, dublin_core, marcxml

GOLDEN = Path(__file__).resolve().parent / "golden"
XSD = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "oai-pmh-xsd"
MARC = f"{{{MARCXML_NAMESPACE}}}"


class _XMLSchemaLocally(etree.Resolver):
    """Resolves the W3C xml.xsd the DC schema imports to the shared copy, never the web."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if system_url.endswith("/xml.xsd"):
            return self.resolve_filename(str(XSD.parent / "dublin-core-xsd" / "xml.xsd"), context)
        return None


def schema(name: str) -> etree.XMLSchema:
    path = XSD / name
    if not path.exists():
        pytest.skip(f"the shared OAI-PMH schemas are absent ({path} not found)")
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_XMLSchemaLocally())
    return etree.XMLSchema(etree.parse(str(path), parser))


def full_record() -> RecordData:
    return RecordData(
        title="Oʻtkan kunlar",
        subtitle="roman",
        parallel_titles=["Минувшие дни"],
        title_variants=["Ўткан кунлар"],
        responsibility="Abdulla Qodiriy",
        contributors=[
            ContributorData("Qodiriy, Abdulla", "author", ["Қодирий, Абдулла"]),
            ContributorData("Karimov, Aziz", "translator"),
        ],
        publisher="Sharq",
        place="Toshkent",
        year=2019,
        edition="3-nashr",
        extent="384 b.",
        languages=["uzb", "rus"],
        resource_type="book",
        subjects=[SubjectData("Oʻzbek adabiyoti", {"ru": "Узбекская литература"})],
        classifications=[ClassificationData("udc", "821.512.133")],
        identifiers=[IdentifierData("isbn", "9789943269118")],
        series="Jahon adabiyoti",
        abstract="Oʻzbek adabiyotidagi birinchi roman & <tarixiy>.",
        notes="Qayta nashr.",
        control_number="kx-1",
        control_number_source="KITOBXON",
    )


def minimal_record() -> RecordData:
    return RecordData(title="Xarita", resource_type="map")


RECORDS = {"full": full_record, "minimal": minimal_record}


def _undated(element: etree._Element) -> etree._Element:
    """The MARCXML with 008/00-05 (date entered on file, which is today) fixed."""
    for field in element.iter(f"{MARC}controlfield"):
        if field.get("tag") == "008" and field.text:
            field.text = "000000" + field.text[6:]
    return element


def _matches_golden(element: etree._Element, name: str) -> None:
    text = etree.tostring(element, pretty_print=True, encoding="unicode")
    path = GOLDEN / name
    if not path.exists():
        path.write_text(text, encoding="utf-8")
        pytest.fail(f"golden file {name} written; check it and run again")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", RECORDS)
def test_dublin_core_matches_its_golden_file(name: str) -> None:
    _matches_golden(dublin_core(RECORDS[name]()), f"crosswalk-{name}.oai_dc.xml")


@pytest.mark.parametrize("name", RECORDS)
def test_marcxml_matches_its_golden_file(name: str) -> None:
    _matches_golden(_undated(marcxml(RECORDS[name]())), f"crosswalk-{name}.marcxml.xml")


@pytest.mark.parametrize("name", RECORDS)
def test_dublin_core_is_valid_oai_dc(name: str) -> None:
    oai_dc = schema("oai_dc.xsd")
    element = dublin_core(RECORDS[name]())
    assert oai_dc.validate(element), oai_dc.error_log


@pytest.mark.parametrize("name", RECORDS)
def test_marcxml_is_valid_marc21_slim(name: str) -> None:
    slim = schema("MARC21slim.xsd")
    element = marcxml(RECORDS[name]())
    assert slim.validate(element), slim.error_log


def test_marcxml_hands_on_a_marc_record_verbatim() -> None:
    source = (
        b'<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000cam a2200000 i 4500</leader>'
        b'<controlfield tag="001">ocm123</controlfield>'
        b'<controlfield tag="008">190101s2019    uz            000 0 uzb d</controlfield>'
        b'<datafield tag="245" ind1="0" ind2="0"><subfield code="a">Asl nusxa</subfield>'
        b'<subfield code="h">[local note]</subfield></datafield></record>'
    )
    data = RecordData(title="Boshqa", source_format="marcxml", source_data=source)
    element = marcxml(data)
    assert element.findtext(f"{MARC}controlfield[@tag='001']") == "ocm123"
    assert element.findtext(f"{MARC}controlfield[@tag='008']").startswith("190101")
    assert [s.text for s in element.iter(f"{MARC}subfield")] == ["Asl nusxa", "[local note]"]


def test_dublin_core_drops_characters_xml_cannot_carry() -> None:
    element = dublin_core(RecordData(title="Bell\x07 and\x00 null"))
    assert element.findtext("{http://purl.org/dc/elements/1.1/}title") == "Bell and null"
