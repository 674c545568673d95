"""MARC 21 (ISO 2709) and MARCXML: reading real and broken files, the crosswalk, writing.

Most tests read the public MARC test files in the ``shared/data`` folder beside the repository
(pymarc, marc4j, solrmarc, Evergreen and Open Library test suites); they are skipped when it
is absent. No database is needed.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import os
import re
import threading
import time
import tracemalloc
import unicodedata
from itertools import islice
from pathlib import Path
from typing import BinaryIO, cast

import pymarc
import pytest
from lxml import etree
from pymarc import Field, Indicators, Record, Subfield

from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.formats import Parsed
from kitobxon.catalogue.formats.marc import (
    data_from_marc,
    marc_for_export,
    marc_from_data,
    read_marc21,
    read_marcxml,
    write_marc21,
    write_marcxml,
)

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
MARC_SLIM = "http://www.loc.gov/MARC21/slim"
FIXED_DATA = "200101s2019    uz            000 0 uzb d"  # 008: 2019, Uzbekistan, Uzbek


def shared(relative: str) -> Path:
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"the shared MARC test data is absent ({path} not found)")
    return path


def read_file(relative: str) -> list[Parsed]:
    with shared(relative).open("rb") as handle:
        return list(read_marc21(handle))


def ok(parsed: Parsed) -> RecordData:
    """The data of a record that must have been read."""
    assert parsed.data is not None, parsed.error
    return parsed.data


def fields_of(record: Record) -> list[tuple[object, ...]]:
    """A record's fields as plain tuples: tag, indicators and subfields, in order."""
    return [
        (f.tag, f.data)
        if f.control_field
        else (f.tag, f.indicator1, f.indicator2, [(s.code, s.value) for s in f.subfields])
        for f in record.fields
    ]


def without_source(data: RecordData) -> dict[str, object]:
    plain = dataclasses.asdict(data)
    plain.pop("source_format")
    plain.pop("source_data")
    return plain


def iso2709(fields: list[tuple[str, bytes]], leader: bytes = b"00000nam  2200000   4500") -> bytes:
    """A record in ISO 2709 built by hand from (tag, field bytes without terminator)."""
    directory = b""
    body = b""
    for tag, content in fields:
        directory += tag.encode() + b"%04d%05d" % (len(content) + 1, len(body))
        body += content + b"\x1e"
    base = 24 + len(directory) + 1
    length = base + len(body) + 1
    return (
        b"%05d" % length
        + leader[5:12]
        + b"%05d" % base
        + leader[17:]
        + directory
        + b"\x1e"
        + body
        + b"\x1d"
    )


def record_with(*fields: Field, leader: str = "00000nam a2200000 i 4500") -> Record:
    record = Record(leader=leader, force_utf8=True)
    record.add_field(Field(tag="008", data=FIXED_DATA), *fields)
    return record


def datafield(tag: str, indicators: str, *pairs: str) -> Field:
    return Field(
        tag=tag,
        indicators=Indicators(*indicators),
        subfields=[Subfield(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)],
    )


# ---------------------------------------------------------------------------------------------
# Character coding


def test_fsl_utf8_records_whose_leader_claims_marc8_all_read_as_correct_unicode() -> None:
    parsed = read_file("marc-evergreen/FSL.marc")

    assert len(parsed) == 52
    assert all(p.ok for p in parsed)
    assert {p.raw[9:10] for p in parsed} == {b" "}  # leader/09 blank: "MARC-8"
    first, armenian = ok(parsed[0]), ok(parsed[36])
    assert first.title == "Люди с чистой совестью"
    assert first.contributors[0].name == "Вершигора, Петр Петрович"
    assert (first.place, first.publisher, first.year) == ("Москва", "Правда", 1989)
    assert armenian.title == "Դուդուկի կախարդանքը"
    assert armenian.contributors[0].name == "Բաղդասարյան Ռուբիկ"
    trusting_the_leader = pymarc.Record(parsed[0].raw, hide_utf8_warnings=True)
    assert trusting_the_leader["245"]["a"] != "Люди с чистой совестью :"


def test_the_same_record_in_marc8_and_in_utf8_gives_the_same_text() -> None:
    copies = [
        read_file(f"marc-pymarc/{name}")[0]
        for name in ("marc8.dat", "utf8_with_leader_flag.dat", "utf8_without_leader_flag.dat")
    ]

    assert [c.raw[9:10] for c in copies] == [b" ", b"a", b" "]
    first = without_source(ok(copies[0]))
    assert all(without_source(ok(c)) == first for c in copies[1:])
    assert ok(copies[0]).notes.startswith("Translation of De la solitude à la communauté.")


def test_marc8_test_strings_decode_to_their_unicode_counterparts() -> None:
    marc8_lines = shared("marc-pymarc/test_marc8.txt").read_bytes().split(b"\n")
    utf8_lines = shared("marc-pymarc/test_utf8.txt").read_text(encoding="utf-8").split("\n")
    pairs = [(m, u) for m, u in zip(marc8_lines, utf8_lines, strict=True) if m.strip()]
    raw = iso2709([("500", b"  \x1fa" + m) for m, _ in pairs])

    (parsed,) = read_marc21(io.BytesIO(raw))

    expected = [unicodedata.normalize("NFC", u).strip() for _, u in pairs]
    assert parsed.ok, parsed.error
    assert ok(parsed).notes.split("\n\n") == expected


def test_cyrillic_880_fields_of_a_marc8_record_decode_to_cyrillic() -> None:
    first, second = read_file("marc-marc4j/cyrillic_capital_e.mrc")

    assert ok(first).title == "Vor, shpion i ubiĭt͡sa"
    assert ok(first).title_variants == ["Вор, шпион и убийца"]
    assert ok(first).contributors[0].variants == ["Буйда, Юрий"]
    assert ok(second).title_variants == ["Синдром Петрушки : роман"]


def test_marc8_ligature_halves_become_the_double_diacritic_utf8_records_use() -> None:
    from_marc8 = ok(read_file("marc-solrmarc/specTestRecs.mrc")[72])
    with shared("marc-solrmarc/specTestRecs.xml").open("rb") as handle:
        from_xml = ok(list(read_marcxml(handle))[72])

    assert from_marc8.subtitle == "kino, kotoroe my poteri\u0361ali"
    assert from_marc8.subtitle == from_xml.subtitle


def test_numeric_character_references_in_marc8_stand_for_their_characters() -> None:
    parsed = read_file("marc-marc4j/chinese_mangled_multibyte.mrc")

    assert ok(parsed[2]).title_variants == ok(parsed[3]).title_variants
    assert ok(parsed[2]).title_variants[0].startswith("車輪滾滾")


def test_a_windows_1251_record_is_refused_as_neither_utf8_nor_marc8() -> None:
    parsed = read_file("marc-pymarc/1251.dat")

    assert len(parsed) == 6
    assert not any(p.ok for p in parsed)
    assert all("neither UTF-8 nor MARC-8" in (p.error or "") for p in parsed)
    assert parsed[0].control_number == "ru03-000001RKP"


# ---------------------------------------------------------------------------------------------
# Broken ISO 2709


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("marc-marc4j/bad_leaders_10_11.mrc", 1, {}),
        ("marc-marc4j/bad_oversize_field_bad_directory.mrc", 4, {2: "not a multiple of 12"}),
        ("marc-marc4j/bad_too_long_plus_2.mrc", 2, {1: "over ISO 2709's limit of 99999"}),
        ("marc-marc4j/bad_hathi_records.mrc", 4, {4: "field terminator"}),
        ("marc-marc4j/incomplete_esc_seq.mrc", 0, {1: "MARC-8"}),
        ("marc-marc4j/chinese_mangled_multibyte.mrc", 3, {1: "multibyte (CJK) character cut"}),
        ("marc-marc4j/bad-characters-in-various-fields.mrc", 0, {1: "invalid indicator"}),
        ("marc-marc4j/datos-20161010-slice.mrc", 0, {1: "field terminator"}),
        ("marc-pymarc/bad_indicator.dat", 0, {1: "invalid tag '0 2'"}),
        ("marc-pymarc/bad_subfield_code.dat", 1, {}),
        (
            "marc-pymarc/bad_records.mrc",
            5,
            {4: "not a multiple of 12", 5: "not a multiple of 12", 7: "no fields"},
        ),
    ],
)
def test_broken_files_yield_every_good_record_and_a_reason_for_each_bad_one(
    name: str, good: int, bad: dict[int, str]
) -> None:
    blob = shared(name).read_bytes()

    parsed = list(read_marc21(io.BytesIO(blob)))

    assert sum(p.ok for p in parsed) == good
    errors = {p.position: p for p in parsed if not p.ok}
    assert sorted(errors) == sorted(bad)
    for position, reason in bad.items():
        assert reason in (errors[position].error or "")
        assert blob[errors[position].offset :].startswith(errors[position].raw)


def test_records_after_an_oversized_one_keep_their_control_numbers() -> None:
    parsed = read_file("marc-marc4j/bad_too_long_plus_2.mrc")

    assert [p.control_number for p in parsed] == ["360944", "360945", "360946"]
    assert [ok(p).control_number for p in parsed[1:]] == ["360945", "360946"]


class RepeatedRecords:
    """A file-like stream of one record repeated, made on the fly so that only the reader
    holds bytes in memory."""

    def __init__(self, record: bytes, count: int) -> None:
        self.record, self.left, self.pending = record, count, b""

    def read(self, size: int = -1) -> bytes:
        while len(self.pending) < size and self.left:
            self.pending += self.record
            self.left -= 1
        chunk, self.pending = self.pending[:size], self.pending[size:]
        return chunk


def test_reading_a_large_file_holds_one_record_at_a_time() -> None:
    note = "Izoh. " * 1600  # two of them: a 19 KB record, 400 of them: about 8 MB
    record = marc_from_data(RecordData(title="Kitob", notes=f"{note}\n\n{note}")).as_marc()
    stream = cast(BinaryIO, RepeatedRecords(record, 400))

    tracemalloc.start()
    try:
        titles = sum(ok(p).title == "Kitob" for p in read_marc21(stream))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert titles == 400
    assert peak < 1_000_000


def test_a_wrong_record_length_resynchronises_on_the_record_terminator() -> None:
    good = marc_from_data(RecordData(title="Birinchi")).as_marc()
    second = marc_from_data(RecordData(title="Ikkinchi")).as_marc()
    lying = b"%05d" % (len(good) + 7) + good[5:]
    bom = b"\xef\xbb\xbf"
    stream = io.BytesIO(bom + lying + b"\r\n" + second + b"garbage without terminator")

    parsed = list(read_marc21(stream))

    assert [ok(p).title for p in parsed[:2]] == ["Birinchi", "Ikkinchi"]
    assert [p.offset for p in parsed[:2]] == [3, 3 + len(lying) + 2]
    assert parsed[2].error and "truncated" in parsed[2].error
    assert parsed[2].raw == b"garbage without terminator"


def test_directory_lengths_counted_in_characters_are_rebuilt_from_the_field_terminators() -> None:
    (parsed,) = read_file(
        "marc-openlibrary/catalog-marc-tests/bin_input/dasrmischepriv00rein_meta.mrc"
    )

    assert parsed.ok, parsed.error
    assert ok(parsed).contributors[0].name == "Rein, Wilhelm"
    assert ok(parsed).year == 1836


def test_reading_keeps_the_raw_bytes_verbatim_as_source_data() -> None:
    blob = shared("marc-marc4j/cyrillic_capital_e.mrc").read_bytes()

    parsed = list(read_marc21(io.BytesIO(blob)))

    assert b"".join(ok(p).source_data for p in parsed) == blob
    assert {ok(p).source_format for p in parsed} == {"marc21"}


def test_authority_records_are_refused_as_not_bibliographic() -> None:
    parsed = read_file("marc-evergreen/auth-subset100.mrc")

    assert parsed and not any(p.ok for p in parsed)
    assert "authority record" in (parsed[0].error or "")


# ---------------------------------------------------------------------------------------------
# The crosswalk


def test_uva_records_map_as_a_cataloguer_reads_them() -> None:
    with shared("marc-solrmarc/uva_001_2000.mrc").open("rb") as handle:
        parsed = [ok(p) for p in islice(read_marc21(handle), 73)]

    dance, translation, embassy = parsed[0], parsed[1], parsed[2]
    assert dance.title == (
        "The book of the dance in the 20th century selections from the Jane Bourne Parton "
        "collection of books on the dance"
    )
    assert dance.responsibility == "Adela Spindler Roatcap"
    assert dance.contributors == [ContributorData("Roatcap, Adela Spindler", "author")]
    assert (dance.place, dance.publisher, dance.year) == (
        "Oakland, Calif.",
        "Mills College Library",
        1984,
    )
    assert dance.subjects == [
        SubjectData("Parton, Jane Bourne, -1962 -- Library", scheme="lcsh"),
        SubjectData("Dance -- History -- 20th century", scheme="lcsh"),
    ]
    assert dance.classifications == [ClassificationData("lcc", "GV1619 .R6 1984")]
    assert (dance.control_number, dance.control_number_source) == ("u1", "SIRSI")
    assert (translation.title, translation.subtitle) == (
        "Iskusstvo perevoda i zhiznʹ literatury",
        "ocherki",
    )
    assert translation.contributors == [ContributorData("Fedorov, A. V.", "author")]
    assert translation.publisher == "Sov. pisatelʹ, Leningradskoe otd-nie"
    assert translation.languages == ["rus"]
    assert embassy.contributors[0].name == "Gontaut-Biron, Élie, vicomte de"
    assert (embassy.year, embassy.languages) == (1909, ["ger"])
    assert parsed[3].series == "Etudes orientales ; no. 11"
    assert parsed[34].isbns() == ["0299100200", "0299100243"]
    assert parsed[34].languages == ["eng", "cze"]
    assert parsed[72].isbns() == ["0894680749", "0894680994", "0894680744"]


def test_names_take_their_role_from_relator_codes_and_terms() -> None:
    record = record_with(
        datafield("100", "1 ", "a", "Qodiriy, Abdulla,", "d", "1894-1938.", "e", "author."),
        datafield("700", "1 ", "a", "Smith, J.,", "e", "ed."),
        datafield("700", "1 ", "a", "Karimov, B.", "4", "trl"),
        datafield(
            "700", "1 ", "a", "Ivanova, A.", "4", "http://id.loc.gov/vocabulary/relators/ill"
        ),
        datafield("700", "1 ", "a", "Petrov, P. P.,", "e", "науч. рук."),
        datafield("700", "1 ", "a", "Nobody, N."),
        datafield("710", "2 ", "a", "O'zbekiston Milliy kutubxonasi.", "b", "Nashriyot."),
        datafield("711", "2 ", "a", "Kongress", "n", "(2nd :", "d", "2019 :", "c", "Toshkent)"),
    )

    contributors = data_from_marc(record).contributors

    assert [(c.name, c.role, c.is_organisation) for c in contributors] == [
        ("Qodiriy, Abdulla", "author", False),
        ("Smith, J.", "editor", False),
        ("Karimov, B.", "translator", False),
        ("Ivanova, A.", "illustrator", False),
        ("Petrov, P. P.", "supervisor", False),
        ("Nobody, N.", "contributor", False),
        ("O'zbekiston Milliy kutubxonasi. Nashriyot", "contributor", True),
        ("Kongress (2nd : 2019 : Toshkent)", "contributor", True),
    ]


def test_title_statement_trims_isbd_punctuation_and_joins_part_number_and_name() -> None:
    record = record_with(
        datafield(
            "245",
            "10",
            "a",
            "Tarix.",
            "n",
            "2-qism,",
            "p",
            "Yangi davr :",
            "b",
            "darslik /",
            "c",
            "A. Karimov.",
        ),
        datafield("246", "31", "a", "History."),
        datafield("880", "10", "6", "245-01/(N", "a", "Тарих :", "b", "дарслик /"),
    )

    data = data_from_marc(record)

    assert (data.title, data.subtitle, data.responsibility) == (
        "Tarix. 2-qism, Yangi davr",
        "darslik",
        "A. Karimov",
    )
    assert data.parallel_titles == ["History"]
    assert data.title_variants == ["Тарих : дарслик"]


def test_a_title_after_an_equals_sign_is_a_parallel_title_not_a_subtitle() -> None:
    record = record_with(
        datafield("245", "00", "a", "Cyllidebau ysgolion =", "b", "School budgets.")
    )

    data = data_from_marc(record)

    assert (data.title, data.subtitle, data.parallel_titles) == (
        "Cyllidebau ysgolion",
        "",
        ["School budgets"],
    )


def test_publication_year_prefers_the_publication_date_over_copyright_and_008() -> None:
    record = record_with(
        datafield("245", "00", "a", "Kitob"),
        datafield("264", " 1", "a", "[Toshkent] :", "b", "[s.n.],", "c", "[2021?]"),
        datafield("264", " 4", "c", "©2020"),
    )
    copyright_only = record_with(
        datafield("260", "  ", "a", "Tashkent :", "b", "Sharq,", "c", "c1998.")
    )

    data = data_from_marc(record)

    assert (data.place, data.publisher, data.year) == ("Toshkent", "", 2021)
    assert data_from_marc(copyright_only).year == 2019  # 008/07-10 before "c1998"


def test_languages_come_from_008_and_041_as_lowercase_marc_codes() -> None:
    record = record_with(
        datafield("041", "1 ", "a", "UZB", "a", "rus", "a", "engfre", "h", "tur"),
        datafield("041", " 7", "a", "en", "2", "iso639-1"),
    )

    assert data_from_marc(record).languages == ["uzb", "rus", "eng", "fre"]


@pytest.mark.parametrize(
    ("leader", "extra", "expected"),
    [
        ("00000nam a2200000 i 4500", None, "book"),
        ("00000ntm a2200000 i 4500", None, "book"),
        ("00000nas a2200000 i 4500", None, "journal"),
        ("00000nab a2200000 i 4500", None, "article"),
        ("00000naa a2200000 i 4500", None, "article"),
        ("00000nad a2200000 i 4500", None, "issue"),
        ("00000nim a2200000 i 4500", None, "audio"),
        ("00000njm a2200000 i 4500", None, "audio"),
        ("00000ngm a2200000 i 4500", None, "video"),
        ("00000nem a2200000 i 4500", None, "map"),
        ("00000nmm a2200000 i 4500", None, "dataset"),
        ("00000nrm a2200000 i 4500", None, "3d_model"),
        ("00000nam a2200000 i 4500", datafield("502", "  ", "a", "Thesis (Ph.D.)"), "dissertation"),
        (
            "00000nam a2200000 i 4500",
            datafield("655", " 7", "a", "Textbooks.", "2", "lcgft"),
            "textbook",
        ),
    ],
)
def test_resource_type_follows_the_leader_and_the_thesis_and_genre_fields(
    leader: str, extra: Field | None, expected: str
) -> None:
    record = record_with(*([extra] if extra else []), leader=leader)

    assert data_from_marc(record).resource_type == expected


@pytest.mark.parametrize(
    ("code", "audience"),
    [("j", "children"), ("b", "children"), ("d", "youth"), ("e", "general"), ("g", "general"),
     ("f", "academic"), (" ", "general")],
)  # fmt: skip
def test_audience_follows_008_22_of_books(code: str, audience: str) -> None:
    record = record_with()
    record["008"].data = FIXED_DATA[:22] + code + FIXED_DATA[23:]

    assert data_from_marc(record).audience == audience


def test_subjects_identifiers_and_classification_numbers_map_by_their_sources() -> None:
    record = record_with(
        datafield("020", "  ", "a", "978-9943-01-234-5 (pbk.) :", "c", "5000 so'm"),
        datafield("020", "  ", "z", "9789943012340"),
        datafield("022", "  ", "a", "2181-9874"),
        datafield("024", "7 ", "a", "10.1000/xyz123", "2", "doi"),
        datafield("080", "  ", "a", "821.512.133-3"),
        datafield("082", "04", "a", "891.7/3", "2", "23"),
        datafield("084", "  ", "a", "84(5Узб)", "2", "rubbk"),
        datafield("090", "  ", "a", "PL65.U9", "b", "Q63 2019"),
        datafield("600", "10", "a", "Navoiy, Alisher,", "d", "1441-1501", "x", "Criticism."),
        datafield("650", " 7", "a", "Oʻzbek adabiyoti", "y", "20-asr.", "2", "local-uz"),
        datafield("651", " 4", "a", "Toshkent", "x", "Tarix."),
        datafield("653", "  ", "a", "roman", "a", "tarix"),
    )

    data = data_from_marc(record)

    assert data.identifiers == [
        IdentifierData("isbn", "978-9943-01-234-5"),
        IdentifierData("isbn", "9789943012340"),
        IdentifierData("issn", "2181-9874"),
        IdentifierData("doi", "10.1000/xyz123"),
    ]
    assert data.classifications == [
        ClassificationData("udc", "821.512.133-3"),
        ClassificationData("ddc", "891.73"),
        ClassificationData("bbk", "84(5Узб)"),
        ClassificationData("lcc", "PL65.U9 Q63 2019"),
    ]
    assert data.subjects == [
        SubjectData("Navoiy, Alisher, 1441-1501 -- Criticism", scheme="lcsh"),
        SubjectData("Oʻzbek adabiyoti -- 20-asr", scheme="local-uz"),
        SubjectData("Toshkent -- Tarix", scheme="local"),
        SubjectData("roman", scheme="local"),
        SubjectData("tarix", scheme="local"),
    ]


# ---------------------------------------------------------------------------------------------
# Writing, and editing on the source MARC


def test_spec_test_records_survive_marcxml_export_valid_against_the_schema() -> None:
    parsed = read_file("marc-solrmarc/specTestRecs.mrc")
    schema = etree.XMLSchema(etree.parse(str(shared("oai-pmh-xsd/MARC21slim.xsd"))))
    out = io.BytesIO()

    written = write_marcxml([ok(p) for p in parsed], out)
    document = etree.fromstring(out.getvalue())
    back = list(read_marcxml(io.BytesIO(out.getvalue())))

    assert written == len(parsed) == 76
    assert out.getvalue().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert document.tag == f"{{{MARC_SLIM}}}collection"
    assert schema.validate(document), schema.error_log
    assert [fields_of(marc_for_export(ok(b))) for b in back] == [
        fields_of(marc_for_export(ok(p))) for p in parsed
    ]


def test_spec_test_records_survive_marc21_export() -> None:
    parsed = read_file("marc-solrmarc/specTestRecs.mrc")
    out = io.BytesIO()

    written = write_marc21([ok(p) for p in parsed], out)
    back = list(read_marc21(io.BytesIO(out.getvalue())))

    assert written == 76
    assert all(b.ok and b.raw[9:10] == b"a" for b in back)
    assert [fields_of(marc_for_export(ok(b))) for b in back] == [
        fields_of(marc_for_export(ok(p))) for p in parsed
    ]


def test_spec_test_records_read_the_same_from_iso2709_and_from_marcxml() -> None:
    binary = read_file("marc-solrmarc/specTestRecs.mrc")
    with shared("marc-solrmarc/specTestRecs.xml").open("rb") as handle:
        xml = list(read_marcxml(handle))

    assert len(binary) == len(xml) == 76
    assert [without_source(ok(p)) for p in xml] == [without_source(ok(p)) for p in binary]
    assert {ok(p).source_format for p in xml} == {"marcxml"}
    assert ok(xml[0]).source_data.startswith(b"<record")


def test_editing_the_title_on_source_marc_keeps_every_other_field_as_it_was() -> None:
    first = read_file("marc-solrmarc/uva_001-200.mrc")[0]
    base = marc_for_export(ok(first))
    edited = copy.deepcopy(ok(first))
    edited.title = "The book of the dance"

    merged = marc_from_data(edited, base)

    before = [f for f in fields_of(base) if f[0] != "245"]
    assert [f for f in fields_of(merged) if f[0] != "245"] == before
    assert [f[0] for f in fields_of(merged)] == [f[0] for f in fields_of(base)]
    assert merged["245"].get_subfields("a", "c") == [
        "The book of the dance /",
        "Adela Spindler Roatcap.",
    ]
    assert merged["245"].indicators == Indicators("1", "4")
    assert {"035", "040", "596", "911", "970", "999"} <= {f.tag for f in merged.fields}


def test_adding_a_contributor_leaves_the_other_names_and_their_authority_links_alone() -> None:
    (parsed,) = read_file("marc-openlibrary/catalog-marc-tests/bin_input/880_Nihon_no_chasho.mrc")
    base = marc_for_export(ok(parsed))
    edited = copy.deepcopy(ok(parsed))
    edited.contributors.append(ContributorData("Karimova, Dilnoza", "translator"))

    merged = marc_from_data(edited, base)

    assert [f for f in fields_of(merged) if f in fields_of(base)] == fields_of(base)
    assert [f for f in fields_of(merged) if f not in fields_of(base)] == [
        ("700", "1", " ", [("a", "Karimova, Dilnoza,"), ("e", "translator."), ("4", "trl")])
    ]
    tags = [f.tag for f in base.fields]
    last_700 = len(tags) - tags[::-1].index("700")
    assert [f.tag for f in merged.fields] == [*tags[:last_700], "700", *tags[last_700:]]
    assert data_from_marc(merged).contributors == edited.contributors


def test_the_catalogues_normalised_copy_of_a_record_changes_nothing_in_its_marc() -> None:
    with shared("marc-solrmarc/uva_001_2000.mrc").open("rb") as handle:
        parsed = list(islice(read_marc21(handle), 35))[-1]
    base = marc_for_export(ok(parsed))
    stored = copy.deepcopy(ok(parsed))  # as the catalogue keeps it and the form sends it back
    stored.identifiers = [
        IdentifierData("isbn", "9780299100209"),
        IdentifierData("isbn", "9780299100247"),
    ]
    stored.notes = stored.notes.replace("\n\n", "\r\n\r\n")
    stored.contributors[0].variants = ["Чапек, Карел"]
    stored.title = f"  {stored.title} "

    merged = marc_from_data(stored, base)

    assert fields_of(merged) == fields_of(base)
    assert merged.get_fields("020")[1].get_subfields("a", "c") == ["0299100243 (pbk.) :", "$7.95"]


def test_an_unchanged_record_rebuilt_on_its_source_marc_is_identical() -> None:
    parsed = read_file("marc-solrmarc/specTestRecs.mrc")

    for each in parsed:
        base = marc_for_export(ok(each))
        assert fields_of(marc_from_data(ok(each), base)) == fields_of(base), each.position


def test_a_new_record_built_from_data_reads_back_as_the_same_data() -> None:
    data = RecordData(
        title="O'tkan kunlar",
        subtitle="roman",
        parallel_titles=["Bygone days"],
        title_variants=["Ўтган кунлар : роман"],
        responsibility="Abdulla Qodiriy ; so'zboshi muallifi N. Karimov",
        contributors=[
            ContributorData("Qodiriy, Abdulla", "author", variants=["Қодирий, Абдулла"]),
            ContributorData("Karimov, N.", "editor"),
            ContributorData(
                "G'afur G'ulom nomidagi nashriyot", "contributor", is_organisation=True
            ),
        ],
        publisher="G'afur G'ulom nomidagi nashriyot ; Sharq",
        place="Toshkent",
        year=2019,
        edition="3-nashr",
        extent="384 b.",
        languages=["uzb", "rus"],
        resource_type="textbook",
        audience="youth",
        subjects=[
            SubjectData("Uzbek fiction -- 20th century", scheme="lcsh"),
            SubjectData("badiiy adabiyot", scheme="local"),
            SubjectData("Textbooks", scheme="lcgft"),
        ],
        classifications=[
            ClassificationData("udc", "821.512.133-31"),
            ClassificationData("bbk", "84(5Узб)"),
        ],
        identifiers=[
            IdentifierData("isbn", "978-9943-03-611-6"),
            IdentifierData("isbn", "9789943000000"),
        ],
        series="Oʻzbek romani ; 1",
        abstract="Birinchi oʻzbek romani.",
        contents="1-qism -- 2-qism",
        notes="Lotin yozuvida.\n\nBibliografiya: 380-383-b.",
        control_number="kx-42",
        control_number_source="UzNL",
    )

    record = marc_from_data(data)
    (parsed,) = read_marc21(io.BytesIO(record.as_marc()))

    assert parsed.ok, parsed.error
    assert without_source(ok(parsed)) == without_source(data)
    assert str(record.leader)[6:10] == "am a"
    fixed = record["008"].data or ""
    assert fixed[6:11] == "s2019" and fixed[35:38] == "uzb"
    assert record["020"]["a"] == "978-9943-03-611-6" and record.get_fields("020")[1]["z"]


def test_export_gives_the_source_marc_verbatim_in_unicode() -> None:
    (parsed,) = read_file("marc-pymarc/marc8.dat")
    original = pymarc.Record(parsed.raw, hide_utf8_warnings=True)

    exported = marc_for_export(ok(parsed))

    assert str(exported.leader)[9] == "a"
    assert fields_of(exported) == fields_of(original)


# ---------------------------------------------------------------------------------------------
# MARCXML safety and damage


def marcxml(*records: str, prolog: str = "") -> bytes:
    body = "".join(
        f'<record><leader>00000nam a2200000 i 4500</leader><controlfield tag="001">{n}'
        f'</controlfield><datafield tag="245" ind1="0" ind2="0"><subfield code="a">{title}'
        "</subfield></datafield></record>"
        for n, title in enumerate(records, start=1)
    )
    return (
        f'<?xml version="1.0"?>{prolog}<collection xmlns="{MARC_SLIM}">{body}</collection>'.encode()
    )


def test_marcxml_records_without_a_namespace_are_read() -> None:
    document = b'<collection><record><datafield tag="245" ind1="1"><subfield code="a">Kitob'
    document += b"</subfield></datafield></record></collection>"

    (parsed,) = read_marcxml(io.BytesIO(document))

    assert parsed.ok and ok(parsed).title == "Kitob"


def test_an_xxe_entity_declaration_is_refused_without_reading_anything(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWORD")
    prolog = f'<!DOCTYPE collection [<!ENTITY xxe SYSTEM "file://{secret}">]>'

    parsed = list(read_marcxml(io.BytesIO(marcxml("&xxe;", prolog=prolog))))

    assert len(parsed) == 1 and not parsed[0].ok
    assert "DOCTYPE" in (parsed[0].error or "")
    assert "TOP-SECRET" not in repr(parsed)


def test_billion_laughs_is_refused_without_expanding() -> None:
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    started = time.perf_counter()

    parsed = list(read_marcxml(io.BytesIO(marcxml("&lol9;", prolog=f"<!DOCTYPE c [{laughs}]>"))))

    assert time.perf_counter() - started < 1
    assert len(parsed) == 1 and "DOCTYPE" in (parsed[0].error or "")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a POSIX named pipe")
def test_an_external_entity_file_is_never_opened(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # opening it to read would block until someone writes
    padding = "<!--" + "<record>" * 10_000 + "-->"  # a long prolog, with a decoy in a comment
    prolog = f'{padding}<!DOCTYPE collection [<!ENTITY xxe SYSTEM "file://{pipe}">]>'
    document = marcxml("&xxe;", prolog=prolog)
    result: list[Parsed] = []
    reader = threading.Thread(target=lambda: result.extend(read_marcxml(io.BytesIO(document))))

    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # release the parser blocked on the pipe, then fail
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
        pytest.fail("the parser opened the entity's file")

    assert len(result) == 1 and "DOCTYPE" in (result[0].error or "")


def test_malformed_marcxml_yields_the_records_before_the_fault_then_its_line() -> None:
    document = marcxml("Bir", "Ikki", "Uch").replace(b"Uch</subfield>", b"Uch</subfeld>")
    document = document.replace(b"<record>", b"\n<record>")

    parsed = list(read_marcxml(io.BytesIO(document)))

    assert [ok(p).title for p in parsed[:2]] == ["Bir", "Ikki"]
    assert len(parsed) == 3 and not parsed[2].ok
    assert re.match(r"malformed XML at line 4: ", parsed[2].error or "")
    assert parsed[2].position == 3


def test_a_marcxml_record_without_tags_is_refused_and_reading_goes_on() -> None:
    document = marcxml("Bir", "Ikki").replace(b'<controlfield tag="001">1', b"<controlfield>1", 1)

    parsed = list(read_marcxml(io.BytesIO(document)))

    assert "has no tag" in (parsed[0].error or "")
    assert parsed[1].ok and ok(parsed[1]).title == "Ikki"
