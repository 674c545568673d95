"""The non-MARC crosswalks: Dublin Core, CSV (with goodbooks-10k), BibTeX and RIS.

Pure functions over files: no database. The fixtures in fixtures/other hold the same books in
every format; the real third-party files come from shared/data and are skipped when absent.
"""

from __future__ import annotations

import io
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
from lxml import etree
from stdnum import isbn

from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.formats import Parsed, bibtex, csvformat, dublincore, ris, xmlsafety

FIXTURES = Path(__file__).parent / "fixtures" / "other"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
DOCS = Path(__file__).resolve().parents[3] / "docs"
DC_NS = dublincore.DC

FORMATS = {"dc": dublincore, "csv": csvformat, "bibtex": bibtex, "ris": ris}


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data {path} is not on this machine")
    return path


def read(module: ModuleType, name: str) -> list[Parsed]:
    with open(FIXTURES / name, "rb") as stream:
        return list(module.read(stream))


def records(parsed: list[Parsed]) -> list[RecordData]:
    return [replace(p.data, source_data=b"") for p in parsed if p.ok and p.data]


def errors(parsed: list[Parsed]) -> list[tuple[int, str | None]]:
    return [(p.position, p.error) for p in parsed if not p.ok]


def person(name: str, role: str = "author") -> ContributorData:
    return ContributorData(name=name, role=role)


def subjects(*labels: str) -> list[SubjectData]:
    return [SubjectData(label=label) for label in labels]


# The books of the fixtures, as every format should read them; each test adds what its
# format carries beyond these.
OTKAN = RecordData(
    title="Oʻtkan kunlar",
    subtitle="roman",
    contributors=[person("Qodiriy, Abdulla"), person("Karimov, Naim", "editor")],
    publisher="Gʻafur Gʻulom nomidagi nashriyot",
    place="Toshkent",
    year=2019,
    languages=["uzb"],
    subjects=subjects("Oʻzbek adabiyoti", "Tarixiy roman"),
    identifiers=[IdentifierData("isbn", "978-9943-28-012-0")],
    abstract="Jadidlar maʼrifati va Toshkent hayoti haqida roman.",
)
UTGAN = RecordData(
    title="Ўтган кунлар",
    contributors=[person("Қодирий, Абдулла"), person("Иванов, Пётр", "translator")],
    publisher="Шарқ",
    place="Тошкент",
    year=2010,
    languages=["uzb", "rus"],
    identifiers=[IdentifierData("isbn", "978-9943-01-234-9")],
)
MIYRAS = RecordData(
    title="Qaraqalpaq xalqınıń ádebiy miyrası",
    contributors=[person("Ayımbetov, Qálli")],
    place="Nókis",
    year=2016,
    languages=["kaa"],
    subjects=subjects("Qaraqalpaq ádebiyatı"),
)
YAZYK = RecordData(
    title="Язык и культура",
    subtitle="очерки",
    contributors=[person("Иванов, Иван Петрович"), person("Петров, П.", "editor")],
    year=2003,
    languages=["rus"],
    resource_type="article",
    identifiers=[IdentifierData("issn", "2181-0427"), IdentifierData("doi", "10.1234/yak.2003.15")],
)

# One record with everything the round trips must keep, in every script the library uses.
RICH = RecordData(
    title="Oʻzbek va qaraqalpaq xalq ogʻzaki ijodi",
    subtitle="Qaraqalpaq xalqınıń ǵárezsizlik dáwiri",
    contributors=[
        person("Qodiriy, Abdulla"),
        person("Ayımbetov, Qálli"),
        person("Иванов, Иван Петрович", "editor"),
        person("Смирнова, Ольга", "translator"),
        person("Rasulova, Gulnora", "illustrator"),
        person("Toʻxtayev, Sanʼat", "compiler"),
    ],
    publisher="Gʻafur Gʻulom nomidagi nashriyot",
    place="Toshkent",
    year=2021,
    languages=["uzb", "kaa", "rus"],
    subjects=subjects("Xalq ogʻzaki ijodi", "Фольклор", "Qaraqalpaq ádebiyatı"),
    identifiers=[
        IdentifierData("isbn", "978-9943-28-012-0"),
        IdentifierData("issn", "2181-922X"),
        IdentifierData("doi", "10.1234/folklor.2021.7"),
    ],
)
KEPT = (
    "title",
    "subtitle",
    "contributors",
    "year",
    "publisher",
    "place",
    "identifiers",
    "languages",
    "subjects",
)


def round_trip(module: ModuleType, written: list[RecordData]) -> list[Parsed]:
    out = io.BytesIO()
    assert module.write(written, out) == len(written)
    return list(module.read(io.BytesIO(out.getvalue())))


# --- Every format -------------------------------------------------------------------------


@pytest.mark.parametrize("name", FORMATS)
def test_write_then_read_keeps_titles_people_with_roles_imprint_identifiers_and_languages(
    name: str,
) -> None:
    parsed = round_trip(FORMATS[name], [RICH, replace(RICH, title="Ikkinchi jild", year=2022)])

    assert errors(parsed) == []
    first, second = records(parsed)
    assert {field: getattr(first, field) for field in KEPT} == {
        field: getattr(RICH, field) for field in KEPT
    }
    assert (second.title, second.year) == ("Ikkinchi jild", 2022)
    assert first.source_format == name


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("resource_type", csvformat.RESOURCE_TYPES)
def test_write_then_read_keeps_the_resource_type(name: str, resource_type: str) -> None:
    parsed = round_trip(FORMATS[name], [replace(RICH, resource_type=resource_type)])

    assert [r.resource_type for r in records(parsed)] == [resource_type]


class CountingStream(io.BytesIO):
    """Counts how far a reader has read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.furthest = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = super().readline(size)
        self.furthest = max(self.furthest, self.tell())
        return data


@pytest.mark.parametrize("name", FORMATS)
def test_readers_stream_the_first_record_before_reading_the_whole_file(name: str) -> None:
    out = io.BytesIO()
    FORMATS[name].write([replace(RICH, title=f"Kitob {n}") for n in range(3000)], out)
    stream = CountingStream(out.getvalue())

    first = next(iter(FORMATS[name].read(stream)))

    assert first.data is not None and first.data.title == "Kitob 0"
    assert stream.furthest < len(out.getvalue()) / 10


@pytest.mark.parametrize("name", FORMATS)
def test_each_record_keeps_its_own_bytes(name: str) -> None:
    fixture = {"dc": "records.xml", "csv": "records.csv", "bibtex": "records.bib"}
    parsed = read(FORMATS[name], fixture.get(name, "records.ris"))
    data = (FIXTURES / fixture.get(name, "records.ris")).read_bytes()

    for p in parsed:
        assert p.data is None or p.data.source_data == p.raw
        assert p.raw.decode("utf-8").strip()
        if p.offset >= 0:
            assert data[p.offset : p.offset + len(p.raw)] == p.raw
    assert "tkan kunlar" in parsed[0].raw.decode("utf-8")


# --- Shared value rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("en", "eng"),
        ("en-US", "eng"),
        ("en_GB", "eng"),
        ("eng", "eng"),
        ("English", "eng"),
        ("uz", "uzb"),
        ("uz-Cyrl", "uzb"),
        ("oʻzbek tili", "uzb"),
        ("O'zbek", "uzb"),
        ("узбекский", "uzb"),
        ("Qaraqalpaq", "kaa"),
        ("kaa", "kaa"),
        ("ru", "rus"),
        ("русский", "rus"),
        ("fra", "fre"),
        ("de", "ger"),
        ("zho", "chi"),
        ("nl", "dut"),
        ("haw", "haw"),
        ("Klingon", None),
        ("", None),
    ],
)
def test_languages_become_iso_639_2b_codes(written: str, code: str | None) -> None:
    assert dublincore.language_code(written) == code


@pytest.mark.parametrize(
    ("written", "identifier"),
    [
        ("urn:isbn:978-9943-28-012-0", ("isbn", "978-9943-28-012-0")),
        ("ISBN 978-9943-01-234-9 (pbk.)", ("isbn", "978-9943-01-234-9")),
        ("ISBN-13: 9789943012349", ("isbn", "9789943012349")),
        ("0439023483", ("isbn", "0439023483")),
        ("0439023484", ("other", "0439023484")),
        ("ISBN 0439023484", ("isbn", "0439023484")),
        ("urn:issn:2181-0427", ("issn", "2181-0427")),
        ("2181-0427", ("issn", "2181-0427")),
        ("ISSN 2181-922X", ("issn", "2181-922X")),
        ("10.1234/yak.2003.15", ("doi", "10.1234/yak.2003.15")),
        ("doi:10.1234/yak.2003.15", ("doi", "10.1234/yak.2003.15")),
        ("info:doi/10.1234/abc", ("doi", "10.1234/abc")),
        ("https://doi.org/10.1234/abc", ("doi", "10.1234/abc")),
        ("http://dx.doi.org/10.1234/abc", ("doi", "10.1234/abc")),
        ("http://example.org/record/1", ("other", "http://example.org/record/1")),
    ],
)
def test_identifiers_are_recognised_by_their_shape(
    written: str, identifier: tuple[str, str]
) -> None:
    assert dublincore.identifier_of(written) == IdentifierData(*identifier)


@pytest.mark.parametrize(
    ("types", "resource_type"),
    [
        (["Text"], "book"),
        (["text", "info:eu-repo/semantics/article"], "article"),
        (["doc-type:article"], "article"),
        (["http://purl.org/coar/resource_type/c_2f33"], "book"),
        (["http://purl.org/coar/resource_type/c_db06"], "dissertation"),
        (["info:eu-repo/semantics/masterThesis"], "dissertation"),
        (["Sound"], "audio"),
        (["Moving Image"], "video"),
        (["http://purl.org/dc/dcmitype/MovingImage"], "video"),
        (["Dataset"], "dataset"),
        (["Cartographic material"], "map"),
        (["3D model"], "3d_model"),
        (["Image"], None),
    ],
)
def test_type_words_and_uris_name_resource_types(
    types: list[str], resource_type: str | None
) -> None:
    assert dublincore.resource_type_of(types) == resource_type


@pytest.mark.parametrize(
    ("written", "contributor"),
    [
        ("Karimov, Naim (editor)", ("Karimov, Naim", "editor")),
        ("Doe, J. (ed.)", ("Doe, J.", "editor")),
        ("Иванов, Пётр [пер.]", ("Иванов, Пётр", "translator")),
        ("Navoiy, Alisher (1441-1501)", ("Navoiy, Alisher (1441-1501)", "contributor")),
        ("Rasulova, Gulnora (ill.)", ("Rasulova, Gulnora", "illustrator")),
    ],
)
def test_a_role_in_brackets_after_a_name_is_read_as_the_role(
    written: str, contributor: tuple[str, str]
) -> None:
    assert dublincore.contributor_from(written, "contributor") == person(*contributor)


# --- Dublin Core --------------------------------------------------------------------------


def test_dublin_core_records_are_read_field_by_field() -> None:
    parsed = read(dublincore, "records.xml")

    assert records(parsed) == [
        replace(
            OTKAN,
            subjects=subjects("Oʻzbek adabiyoti", "Tarixiy roman", "Jadidlar"),
            identifiers=[
                IdentifierData("isbn", "978-9943-28-012-0"),
                IdentifierData("other", "https://kitobxon.example.uz/records/17"),
            ],
            source_format="dc",
        ),
        replace(
            UTGAN,
            parallel_titles=["Minuvshie dni"],
            place="",
            subjects=subjects("Ўзбек адабиёти"),
            source_format="dc",
        ),
        replace(
            MIYRAS,
            publisher="Bilim",
            abstract="Ǵárezsizlik dáwirindegi izertlewler, Nókis.",
            identifiers=[IdentifierData("isbn", "978-601-7081-23-2")],
            source_format="dc",
        ),
        replace(
            YAZYK,
            publisher="Наука",
            place="Москва",
            subjects=subjects("Языкознание"),
            source_format="dc",
        ),
    ]


def test_a_dublin_core_record_without_title_is_an_error_and_the_others_import() -> None:
    parsed = read(dublincore, "records.xml")

    assert errors(parsed) == [(3, "record 3 (line 39) has no dc:title")]
    assert [p.position for p in parsed if p.ok] == [1, 2, 4, 5]
    assert b"Noma\xca\xbclum muallif" in parsed[2].raw


def test_oai_pmh_list_records_gives_each_metadata_and_skips_deleted_and_about() -> None:
    parsed = read(dublincore, "listrecords.xml")

    assert errors(parsed) == []
    assert [(p.position, p.control_number) for p in parsed] == [
        (1, "oai:kutubxona.example.uz:41"),
        (2, "oai:kutubxona.example.uz:42"),
    ]
    assert records(parsed) == [
        RecordData(
            title="Sanʼat va jamiyat",
            contributors=[person("Rahimova, Dilnoza")],
            year=2022,
            languages=["uzb"],
            resource_type="dissertation",
            control_number="oai:kutubxona.example.uz:41",
            source_format="dc",
        ),
        RecordData(
            title="Аральское море",
            subtitle="атлас",
            year=1998,
            languages=["rus"],
            resource_type="map",
            control_number="oai:kutubxona.example.uz:42",
            source_format="dc",
        ),
    ]


def test_malformed_xml_gives_the_records_before_then_one_error_naming_the_line() -> None:
    parsed = read(dublincore, "truncated.xml")

    assert [r.title for r in records(parsed)] == ["Birinchi kitob", "Ikkinchi kitob"]
    assert len(errors(parsed)) == 1
    position, message = errors(parsed)[0]
    assert position == 3
    assert message is not None and message.startswith("the XML is not well-formed at line 11:")


def test_billion_laughs_is_refused_without_expanding_anything() -> None:
    started = time.monotonic()
    parsed = read(dublincore, "billion-laughs.xml")

    assert [(p.position, p.data, p.error) for p in parsed] == [
        (
            1,
            None,
            "refused: the document's DOCTYPE declares XML entities; Kitobxon never expands "
            "entities (they can read local files or explode in size)",
        )
    ]
    assert time.monotonic() - started < 1


def _xxe(path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{path}">]>\n'
        f'<r xmlns:dc="{DC_NS}"><dc:title>&xxe;</dc:title></r>\n'
    ).encode()


def _blocks_on_fifo(fifo: Path, parse: Callable[[], object]) -> bool:
    """Whether ``parse`` opens ``fifo``: opening a FIFO to read waits for a writer."""
    thread = threading.Thread(target=parse, daemon=True)
    thread.start()
    thread.join(timeout=1)
    opened = thread.is_alive()
    if opened:
        with open(fifo, "wb") as writer:
            writer.write(b"root:x:0:0")
        thread.join(timeout=2)
    return opened


def test_the_fifo_probe_notices_a_parser_that_reads_an_entity_file(tmp_path: Path) -> None:
    fifo = tmp_path / "passwd"
    os.mkfifo(fifo)
    unsafe = etree.XMLParser(resolve_entities=True)

    assert _blocks_on_fifo(fifo, lambda: etree.fromstring(_xxe(fifo), unsafe))


def test_xxe_is_refused_and_the_entity_file_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "passwd"
    os.mkfifo(fifo)
    parsed: list[Parsed] = []

    opened = _blocks_on_fifo(fifo, lambda: parsed.extend(dublincore.read(io.BytesIO(_xxe(fifo)))))

    assert not opened
    assert [(p.position, p.data) for p in parsed] == [(1, None)]
    assert parsed[0].error is not None and "declares XML entities" in parsed[0].error


def test_xxe_never_brings_a_local_file_into_a_record(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("kalit-soʻz-12345", encoding="utf-8")

    parsed = list(dublincore.read(io.BytesIO(_xxe(secret))))

    assert all("kalit" not in repr(p) for p in parsed)
    assert [p.ok for p in parsed] == [False]


@pytest.mark.parametrize(
    "document",
    [
        b'<!-- <a> --><!DOCTYPE r [<!ENTITY x "y">]><r/>',
        b'<?xml version="1.0"?><?pi <b>?><!DOCTYPE r [<!ENTITY % p "y">]><r/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r/>'.encode(
            "utf-16"
        ),
    ],
    ids=["after-a-comment", "parameter-entity", "utf-16"],
)
def test_entity_declarations_are_refused_however_the_prolog_is_dressed(document: bytes) -> None:
    parsed = list(dublincore.read(io.BytesIO(document)))

    assert [p.error for p in parsed] == [
        "refused: the document's DOCTYPE declares XML entities; Kitobxon never expands "
        "entities (they can read local files or explode in size)"
    ]


def test_an_external_dtd_is_refused_and_never_fetched(tmp_path: Path) -> None:
    fifo = tmp_path / "evil.dtd"
    os.mkfifo(fifo)
    document = f'<!DOCTYPE r SYSTEM "file://{fifo}"><r xmlns:dc="{DC_NS}"/>'.encode()
    parsed: list[Parsed] = []

    opened = _blocks_on_fifo(fifo, lambda: parsed.extend(dublincore.read(io.BytesIO(document))))

    assert not opened
    assert [p.error for p in parsed] == [
        "refused: the document's DOCTYPE names an external DTD; Kitobxon never loads one"
    ]


def test_the_parsed_tree_check_refuses_entities_the_byte_scan_did_not_see() -> None:
    tree = etree.fromstring(b'<!DOCTYPE r [<!ENTITY x "y">]><r/>', xmlsafety.safe_parser())

    with pytest.raises(xmlsafety.UnsafeXMLError):
        xmlsafety.refuse_declared_entities(tree)


def test_a_doctype_without_entities_is_read() -> None:
    document = f'<!DOCTYPE r><r xmlns:dc="{DC_NS}"><dc:title>Kitob</dc:title></r>'.encode()

    assert [r.title for r in records(list(dublincore.read(io.BytesIO(document))))] == ["Kitob"]


def _oai_dc_schema() -> etree.XMLSchema:
    return xmlsafety.load_schema(
        FIXTURES / "dc-collection.xsd",
        {
            "http://www.openarchives.org/OAI/2.0/oai_dc.xsd": shared("oai-pmh-xsd", "oai_dc.xsd"),
            "http://www.w3.org/2001/03/xml.xsd": shared("dublin-core-xsd", "xml.xsd"),
        },
    )


def test_dublin_core_writer_output_is_valid_against_the_oai_dc_schema() -> None:
    schema = _oai_dc_schema()
    out = io.BytesIO()
    dublincore.write([RICH, OTKAN, replace(YAZYK, abstract="Control \x01 character")], out)

    document = etree.fromstring(out.getvalue(), xmlsafety.safe_parser())

    assert schema.validate(document), schema.error_log
    assert len(document) == 3


def test_the_oai_dc_schema_check_can_fail() -> None:
    schema = _oai_dc_schema()
    document = etree.fromstring(
        f'<collection><dc xmlns="{dublincore.OAI_DC}"><title/></dc></collection>'.encode()
    )

    assert not schema.validate(document)


def test_dublin_core_writer_puts_place_before_publisher_and_roles_after_names() -> None:
    out = io.BytesIO()
    dublincore.write([RICH], out)
    root = etree.fromstring(out.getvalue())

    def texts(name: str) -> list[str]:
        return [e.text for e in root.iter(f"{{{DC_NS}}}{name}")]

    assert texts("publisher") == ["Toshkent : Gʻafur Gʻulom nomidagi nashriyot"]
    assert texts("creator") == ["Qodiriy, Abdulla", "Ayımbetov, Qálli"]
    assert texts("contributor") == [
        "Иванов, Иван Петрович (editor)",
        "Смирнова, Ольга (translator)",
        "Rasulova, Gulnora (illustrator)",
        "Toʻxtayev, Sanʼat (compiler)",
    ]
    assert texts("identifier") == [
        "urn:isbn:978-9943-28-012-0",
        "urn:issn:2181-922X",
        "https://doi.org/10.1234/folklor.2021.7",
    ]


# Records each sample response holds; schema-invalid ones still give their valid records.
OAI_SAMPLES = {
    "GetRecord.xml": 1,
    "GetRecord_utf8test.xml": 1,
    "ListRecords.xml": 1,
    "ListRecords2.xml": 1,
    "ListRecords3.xml": 1,
    "ListRecords4.xml": 1,
    "ListRecordsBroken.xml": 0,
    "ListSets.xml": 0,
    "Identify.xml": 0,
    "badArgument.xml": 0,
}


@pytest.mark.parametrize(("name", "expected"), OAI_SAMPLES.items())
def test_oai_pmh_sample_responses_read_without_raising(name: str, expected: int) -> None:
    with open(shared("oai-pmh-sample-responses", name), "rb") as stream:
        parsed = list(dublincore.read(stream))

    assert [(r.title, r.source_format) for r in records(parsed)] == [("Sample Title", "dc")] * (
        expected
    )
    assert len(errors(parsed)) == (1 if name == "ListRecordsBroken.xml" else 0)


def test_every_oai_pmh_sample_response_reads_without_raising() -> None:
    folder = shared("oai-pmh-sample-responses")
    for path in sorted(folder.glob("*.xml")):
        with open(path, "rb") as stream:
            assert all(isinstance(p, Parsed) for p in dublincore.read(stream)), path.name


def test_the_utf8_sample_response_keeps_its_chinese_creator() -> None:
    with open(shared("oai-pmh-sample-responses", "GetRecord_utf8test.xml"), "rb") as stream:
        (parsed,) = list(dublincore.read(stream))

    assert parsed.data is not None
    assert parsed.data.contributors == [person("某人")]
    assert parsed.control_number == "oai:test.example.com:1996652"


# --- CSV ----------------------------------------------------------------------------------


def test_csv_rows_are_read_column_by_column() -> None:
    parsed = read(csvformat, "records.csv")

    assert records(parsed) == [
        replace(
            OTKAN,
            edition="3-nashr",
            extent="384 b.",
            audience="youth",
            classifications=[
                ClassificationData("udc", "821.512.133-31"),
                ClassificationData("bbk", "84(5Ў)6"),
            ],
            series="Oʻzbek romani durdonalari",
            abstract="Jadidlar maʼrifati va\nToshkent hayoti haqida roman.",
            work_key="qodiriy-otkan-kunlar",
            control_number="KBX-0001",
            source_format="csv",
        ),
        replace(
            UTGAN,
            subjects=subjects("Ўзбек адабиёти"),
            control_number="KBX-0002",
            source_format="csv",
        ),
        replace(
            MIYRAS,
            publisher="Bilim",
            resource_type="textbook",
            audience="academic",
            abstract="Ǵárezsizlik dáwirindegi izertlewler.",
            identifiers=[IdentifierData("isbn", "978-601-7081-23-2")],
            source_format="csv",
        ),
        replace(
            YAZYK,
            publisher="Наука",
            place="Москва",
            audience="academic",
            subjects=subjects("Языкознание"),
            series="Вопросы языкознания",
            notes="Т. 5. № 2",
            source_format="csv",
        ),
    ]


def test_csv_rows_that_cannot_be_records_are_errors_naming_row_line_and_reason() -> None:
    parsed = read(csvformat, "records.csv")

    assert errors(parsed) == [
        (3, "row 3 (line 5): the title is empty"),
        (6, "row 6 (line 8): year 'kelasi yil' has no four-digit year"),
    ]
    assert [p.position for p in parsed if p.ok] == [1, 2, 4, 5]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("resource_type=novel", "resource_type 'novel' is not one of book, textbook"),
        ("audience=adults", "audience 'adults' is not one of children, youth, general"),
        ("languages=uz; Klingon", "language 'Klingon' is not a known language or ISO 639 code"),
    ],
)
def test_csv_values_outside_the_documented_choices_are_errors(cell: str, reason: str) -> None:
    column, value = cell.split("=")
    document = f"title,{column}\nKitob,{value}\n".encode()

    (parsed,) = list(csvformat.read(io.BytesIO(document)))

    assert parsed.error is not None and parsed.error.startswith(f"row 1 (line 2): {reason}")


def test_a_csv_file_without_a_title_column_is_refused_with_one_error() -> None:
    parsed = list(csvformat.read(io.BytesIO(b"nomi,muallif\nKitob,Qodiriy\n")))

    assert errors(parsed) == [(1, "the first row must be a header naming a title column")]


def test_a_csv_row_with_bytes_that_are_not_utf8_is_one_error_and_the_next_row_imports() -> None:
    document = b"title,year\nBirinchi,2001\n\xff\xfeIkkinchi,2002\nUchinchi,2003\n"

    parsed = list(csvformat.read(io.BytesIO(document)))

    assert errors(parsed) == [(2, "row 2 (line 3): the bytes are not UTF-8")]
    assert [r.title for r in records(parsed)] == ["Birinchi", "Uchinchi"]


def test_a_csv_row_with_broken_quoting_is_one_error_and_the_next_row_imports() -> None:
    document = b'title,year\nBirinchi,2001\n"Ikki"nchi,2002\nUchinchi,2003\n"Tugamagan\n'

    parsed = list(csvformat.read(io.BytesIO(document)))

    assert errors(parsed) == [
        (2, "row 2 (line 3): ',' expected after '\"'"),
        (4, "row 4 (line 5): unexpected end of data"),
    ]
    assert [r.title for r in records(parsed)] == ["Birinchi", "Uchinchi"]


def test_unknown_and_missing_csv_columns_are_fine() -> None:
    document = b"Izoh,TITLE,year\nbekor,Kitob,2020\n"

    assert records(list(csvformat.read(io.BytesIO(document)))) == [
        RecordData(title="Kitob", year=2020, source_format="csv")
    ]


def test_copies_are_read_by_copies_of_and_kept_out_of_the_record() -> None:
    assert csvformat.copies_of({"copies": "TASH:2;NUK:1"}) == {"TASH": 2, "NUK": 1}
    assert csvformat.copies_of({"title": "Kitob"}) == {}
    with pytest.raises(ValueError, match="is not BRANCH:number"):
        csvformat.copies_of({"copies": "TASH:two"})
    assert "TASH" not in repr(records(read(csvformat, "records.csv"))[0])


def test_csv_writer_writes_the_documented_columns_in_the_documented_order() -> None:
    documented = re.findall(r"^\| `([a-z_]+)` \|", (DOCS / "csv-format.md").read_text(), re.M)
    out = io.BytesIO()
    csvformat.write([], out)

    assert tuple(documented) == csvformat.COLUMNS
    assert out.getvalue().decode("utf-8") == ",".join(csvformat.COLUMNS) + "\r\n"


def test_csv_round_trip_keeps_classifications_series_notes_and_work() -> None:
    full = replace(
        RICH,
        edition="2-nashr",
        extent="250 b.",
        audience="children",
        classifications=[ClassificationData("udc", "398"), ClassificationData("bbk", "82.3")],
        series="Xalq merosi",
        abstract='Birinchi qator,\n"ikkinchi" qator; uchinchi',
        notes="Eslatma",
        work_key="folklor",
        control_number="KBX-9",
        control_number_source="UzNL",
    )

    (parsed,) = records(round_trip(csvformat, [full]))

    assert parsed == replace(full, source_format="csv")


# --- goodbooks-10k ------------------------------------------------------------------------


def test_goodbooks_rows_are_read_with_their_own_crosswalk() -> None:
    tally = csvformat.IsbnRecovery()
    with open(FIXTURES / "goodbooks-sample.csv", "rb") as stream:
        parsed = list(csvformat.read(stream, isbn_recovery=tally))

    hunger, potter, odyssey = records(parsed)[:3]
    assert hunger == RecordData(
        title="The Hunger Games",
        contributors=[person("Collins, Suzanne")],
        year=2008,
        languages=["eng"],
        identifiers=[IdentifierData("isbn", "9780439023481")],
        series="The Hunger Games ; 1",
        work_key="goodreads-2792775",
        control_number="2767052",
        control_number_source="goodreads",
        source_format="csv",
    )
    assert (potter.title, potter.series, potter.notes) == (
        "Harry Potter and the Sorcerer's Stone",
        "Harry Potter ; 1",
        "Original title: Harry Potter and the Philosopher's Stone",
    )
    assert potter.contributors == [person("Rowling, J.K."), person("GrandPré, Mary")]
    assert (odyssey.year, odyssey.notes) == (
        None,
        "Original title: Ὀδύσσεια. First published 720 BC",
    )
    assert [p.control_number for p in parsed] == [
        "2767052",
        "3",
        "1381",
        "4865",
        "32423",
        "18478222",
    ]


def test_goodbooks_isbns_are_recovered_from_the_padded_isbn10_or_the_float() -> None:
    tally = csvformat.IsbnRecovery()
    with open(FIXTURES / "goodbooks-sample.csv", "rb") as stream:
        found = [r.isbns() for r in records(list(csvformat.read(stream, isbn_recovery=tally)))]

    assert found == [
        ["9780439023481"],  # isbn 439023483 → 0439023483
        ["9780439554930"],
        ["9780143039952"],
        ["9780671723651"],  # no isbn: 9.78067172365e+12 has one valid completion
        [],  # 9.7804251888e+12: …8798 and …8804 both fit, nothing chooses
        ["9780989794800"],  # 9.7809897948e+12: the float's trailing zero was dropped
    ]
    assert all(isbn.is_valid(number) for numbers in found for number in numbers)
    assert tally == csvformat.IsbnRecovery(from_isbn10=3, from_isbn13=2, ambiguous=1)


@pytest.mark.parametrize(
    ("cell", "candidates"),
    [
        ("9.78043902348e+12", ["9780439023481"]),
        ("9.78074327356e+12", ["9780743273558", "9780743273565"]),  # …565 rounds half to even
        ("9.7804251888e+12", ["9780425188798", "9780425188804"]),
        ("9780439023481", ["9780439023481"]),
        ("2.94001623192e+12", []),
        ("97893806587.0", []),
        ("", []),
    ],
)
def test_isbn13_candidates_are_the_valid_isbns_that_print_as_the_float(
    cell: str, candidates: list[str]
) -> None:
    assert csvformat.isbn13_candidates(cell) == candidates


def test_an_isbn10_column_that_is_not_valid_still_chooses_between_candidates() -> None:
    tally = csvformat.IsbnRecovery()

    found = csvformat.recover_isbn13("812971060", "9.78081297106e+12", tally)

    assert found == "9780812971064"
    assert tally == csvformat.IsbnRecovery(from_isbn13=1)


def test_goodbooks_isbn_recovery_figures_on_the_real_books_csv() -> None:
    tally = csvformat.IsbnRecovery()
    with open(shared("goodbooks-10k", "books.csv"), "rb") as stream:
        parsed = list(csvformat.read(stream, isbn_recovery=tally))
    by_id = {p.data.control_number: p.data for p in parsed if p.data}

    assert len(parsed) == 10_000 and errors(parsed) == []
    assert tally == csvformat.IsbnRecovery(
        from_isbn10=9277, from_isbn13=59, disagreeing=13, ambiguous=68, lost=31, absent=565
    )
    assert tally.recovered == sum(1 for p in parsed if p.data and p.data.isbns()) == 9336
    assert all(isbn.is_valid(n) for p in parsed if p.data for n in p.data.isbns())
    assert by_id["2767052"].isbns() == ["9780439023481"]  # book_id 1, The Hunger Games
    assert by_id["3"].isbns() == ["9780439554930"]  # book_id 2, Harry Potter
    assert by_id["18478222"].isbns() == ["9780989794800"]  # book_id 1512, from the float


# --- BibTeX -------------------------------------------------------------------------------


def test_bibtex_entries_are_read_with_latex_decoded_and_names_turned_round() -> None:
    parsed = read(bibtex, "records.bib")

    assert records(parsed) == [
        replace(
            OTKAN,
            edition="3-nashr",
            series="Oʻzbek romani durdonalari",
            source_format="bibtex",
        ),
        replace(
            UTGAN,
            languages=["uzb"],
            identifiers=[IdentifierData("isbn", "9789943012349")],
            source_format="bibtex",
        ),
        replace(
            MIYRAS,
            publisher="Qaraqalpaq mańlekettik universiteti",
            resource_type="dissertation",
            notes="Ǵárezsizlik dáwirindegi izertlewler",
            source_format="bibtex",
        ),
        replace(
            YAZYK,
            contributors=[
                person("Иванов, Иван Петрович"),
                ContributorData("Институт языкознания", is_organisation=True),
            ],
            series="Вопросы языкознания",
            notes="Vol. 5, no. 2, pp. 45–67",
            source_format="bibtex",
        ),
        RecordData(
            title="Sanʼat va jamiyat",
            contributors=[person("Rahimova, Dilnoza")],
            publisher="Toshkent davlat universiteti",
            year=2022,
            resource_type="article",
            notes="In: Madaniyat masalalari. pp. 10–20",
            source_format="bibtex",
        ),
    ]


def test_a_malformed_bibtex_entry_is_an_error_and_the_others_import() -> None:
    parsed = read(bibtex, "records.bib")

    assert errors(parsed) == [
        (3, "entry at line 34 is malformed: Unexpectedly reached end of file."),
        (6, "entry 'notitle': the entry has no title"),
    ]
    assert [p.position for p in parsed if p.ok] == [1, 2, 4, 5, 7]
    assert parsed[2].raw.startswith(b"@article{broken2020,")


def test_bibtex_citation_keys_are_folded_to_ascii_and_never_repeat() -> None:
    out = io.BytesIO()
    bibtex.write([OTKAN, OTKAN, UTGAN, MIYRAS, RecordData(title="«Qutadgʻu bilig»")], out)

    keys = re.findall(r"^@\w+\{([^,]+),", out.getvalue().decode("utf-8"), re.M)

    assert keys == [
        "qodiriy2019otkan",
        "qodiriy2019otkanb",
        "qodiriy2010otgan",
        "ayimbetov2016qaraqalpaq",
        "qutadgu",
    ]


def test_bibtex_writer_escapes_latex_specials_and_the_reader_restores_them() -> None:
    tricky = RecordData(
        title="50% & more: {braces} $5 #1 under_score ~tilde \\ back",
        contributors=[ContributorData("Oʻzbekiston Fanlar akademiyasi", is_organisation=True)],
    )

    (parsed,) = records(round_trip(bibtex, [tricky]))

    assert (parsed.title, parsed.subtitle) == (
        "50% & more",
        "{braces} $5 #1 under_score ~tilde \\ back",
    )
    assert parsed.contributors == tricky.contributors


# --- RIS ----------------------------------------------------------------------------------


def test_ris_records_are_read_tag_by_tag() -> None:
    parsed = read(ris, "records.ris")

    assert records(parsed) == [
        replace(
            OTKAN,
            edition="3-nashr",
            series="Oʻzbek romani durdonalari",
            source_format="ris",
        ),
        replace(
            UTGAN,
            identifiers=[IdentifierData("isbn", "9789943012349")],
            source_format="ris",
        ),
        replace(
            MIYRAS,
            publisher="Qaraqalpaq mámleketlik universiteti",
            resource_type="dissertation",
            notes="Ǵárezsizlik dáwirindegi izertlewler",
            source_format="ris",
        ),
        replace(
            YAZYK,
            series="Вопросы языкознания",
            notes="Vol. 5, no. 2, pp. 45–67",
            source_format="ris",
        ),
        RecordData(
            title="Sanʼat va jamiyat",
            contributors=[person("Rahimova, Dilnoza", "narrator")],
            year=2022,
            resource_type="audio",
            source_format="ris",
        ),
    ]


def test_broken_ris_records_are_errors_with_their_position_and_the_others_import() -> None:
    parsed = read(ris, "records.ris")

    assert errors(parsed) == [
        (3, "record 3 (line 29): line 31: 'AU - Somebody, A.' is not a tag line (\"XX  - value\")"),
        (6, "record 6 (line 62): no ER line before the next TY"),
    ]
    assert [p.position for p in parsed if p.ok] == [1, 2, 4, 5, 7]


def test_a_ris_id_names_the_record_in_reports_but_is_not_its_control_number() -> None:
    parsed = read(ris, "records.ris")

    assert [(p.control_number, p.data.control_number) for p in parsed if p.data][3] == (
        "ivanov2003",
        "",
    )


def test_a_ris_file_that_ends_inside_a_record_reports_it() -> None:
    document = b"TY  - BOOK\nTI  - Birinchi\nER  - \nTY  - BOOK\nTI  - Ikkinchi\n"

    parsed = list(ris.read(io.BytesIO(document)))

    assert errors(parsed) == [(2, "record 2 (line 4): the file ends before the record's ER line")]


def test_a_ris_continuation_line_is_joined_and_not_taken_for_a_tag() -> None:
    document = "TY  - GEN\nTI  - Sinov\nAB  - Birinchi qator\nAB-test va\n  davomi\nER  - \n"

    (parsed,) = records(list(ris.read(io.BytesIO(document.encode()))))

    assert parsed.abstract == "Birinchi qator AB-test va davomi"


def test_ris_writer_gives_plain_records_ending_with_er() -> None:
    out = io.BytesIO()
    ris.write([YAZYK, MIYRAS], out)
    lines = out.getvalue().decode("utf-8").split("\r\n")

    assert lines[:3] == [
        "TY  - JOUR",
        "TI  - Язык и культура : очерки",
        "AU  - Иванов, Иван Петрович",
    ]
    assert lines.count("ER  - ") == 2
    assert not any(re.match(r"^\d+\.$", line) for line in lines)
