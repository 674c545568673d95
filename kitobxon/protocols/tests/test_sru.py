"""SRU at /sru (explain, searchRetrieve, diagnostics) and the copy-cataloguing client.

Responses validate against the OASIS schemas in ../shared/data/sru-xsd; their schemaLocations
point at docs.oasis-open.org, so the tests copy them with local locations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from lxml import etree

from kitobxon.catalogue.data import ContributorData, IdentifierData, SubjectData
from kitobxon.catalogue.models import Record, RecordStatus
from kitobxon.catalogue.tests.factories import make_record
from kitobxon.protocols.sru import client
from kitobxon.protocols.tests.test_harvest import Repository, repository

__all__ = ["repository"]  # the local HTTP server fixture, shared with the harvester's tests
from kitobxon.search import indexing

XSD = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sru-xsd"
NS = {
    "s": "http://docs.oasis-open.org/ns/search-ws/sruResponse",
    "d": "http://docs.oasis-open.org/ns/search-ws/diagnostic",
    "dc": "http://purl.org/dc/elements/1.1/",
    "marc": "http://www.loc.gov/MARC21/slim",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    if not XSD.is_dir():
        pytest.skip(f"the shared SRU schemas are absent ({XSD} not found)")
    folder = tmp_path_factory.mktemp("sru-xsd")
    for source in XSD.glob("*.xsd"):
        text = source.read_text(encoding="utf-8")
        text = re.sub(r'schemaLocation="[^"]*/([^/"]+\.xsd)"', r'schemaLocation="\1"', text)
        (folder / source.name).write_text(text, encoding="utf-8")
    return etree.XMLSchema(etree.parse(str(folder / "sruResponse.xsd")))


def get(schema: etree.XMLSchema, client_: Client, **params: str) -> etree._Element:
    response = client_.get("/sru", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    schema.assertValid(root)
    return root


def diagnostic_codes(root: etree._Element) -> list[str]:
    return [u.rsplit("/", 1)[1] for u in root.xpath("//d:diagnostic/d:uri/text()", namespaces=NS)]


@pytest.fixture
def catalogue(db: None) -> dict[str, Record]:
    records = {
        "kunlar": make_record(),
        "mehrob": make_record(
            title="Mehrobdan chayon",
            subtitle="",
            work_key="mehrobdan-chayon",
            year=1929,
            identifiers=[IdentifierData("isbn", "978-3-16-148410-0")],
        ),
        "draft": make_record(
            title="Yashirin qoralama kunlar",
            work_key="yashirin",
            identifiers=[IdentifierData("isbn", "978-1-4028-9462-6")],
        ),
    }
    for n in range(12):
        make_record(
            title=f"Tarix darsligi {n}",
            subtitle="",
            work_key=f"tarix-{n}",
            year=2000 + n,
            identifiers=[],
        )
    Record.objects.filter(pk=records["draft"].pk).update(status=RecordStatus.DRAFT)
    indexing.enqueue("record", [records["draft"].pk])
    indexing.drain()
    return records


def test_explain_is_the_default_and_valid(schema: etree.XMLSchema, catalogue: dict) -> None:
    root = get(schema, Client())
    assert etree.QName(root).localname == "explainResponse"
    assert "dc.title" in etree.tostring(root, encoding="unicode")


def test_search_retrieve_by_title_in_dublin_core(schema: etree.XMLSchema, catalogue: dict) -> None:
    root = get(schema, Client(), query='dc.title = "mehrobdan chayon"', recordSchema="dc")
    assert root.findtext("s:numberOfRecords", namespaces=NS) == "1"
    assert root.xpath("//dc:title/text()", namespaces=NS)[0].startswith("Mehrobdan chayon")


def test_search_retrieve_by_isbn_in_marcxml(schema: etree.XMLSchema, catalogue: dict) -> None:
    root = get(schema, Client(), query="bath.isbn = 9783161484100", recordSchema="marcxml")
    assert root.findtext("s:numberOfRecords", namespaces=NS) == "1"
    isbn = root.xpath("//marc:datafield[@tag='020']/marc:subfield[@code='a']/text()", namespaces=NS)
    assert isbn and isbn[0].replace("-", "").startswith("9783161484100")


def test_string_escaping_puts_the_record_in_text(schema: etree.XMLSchema, catalogue: dict) -> None:
    root = get(schema, Client(), query="dc.title=mehrobdan", recordXMLEscaping="string")
    data = root.find(".//s:recordData", NS)
    assert data is not None and len(data) == 0 and "Mehrobdan" in (data.text or "")


def test_paging_covers_every_record_once(schema: etree.XMLSchema, catalogue: dict) -> None:
    seen: list[str] = []
    start = "1"
    while start:
        root = get(
            schema, Client(), query="dc.title = tarix", maximumRecords="5", startRecord=start
        )
        assert root.findtext("s:numberOfRecords", namespaces=NS) == "12"
        seen += root.xpath("//dc:title/text()", namespaces=NS)
        start = root.findtext("s:nextRecordPosition", namespaces=NS) or ""
    assert len(seen) == 12 and len(set(seen)) == 12


def test_an_odd_start_record_is_honoured(schema: etree.XMLSchema, catalogue: dict) -> None:
    root = get(schema, Client(), query="tarix", maximumRecords="4", startRecord="3")
    positions = root.xpath("//s:recordPosition/text()", namespaces=NS)
    assert positions == ["3", "4", "5", "6"]
    assert root.findtext("s:nextRecordPosition", namespaces=NS) == "7"


def test_drafts_are_invisible_to_anonymous_callers(
    schema: etree.XMLSchema, catalogue: dict
) -> None:
    root = get(schema, Client(), query="dc.title = yashirin")
    assert root.findtext("s:numberOfRecords", namespaces=NS) == "0"
    assert not root.xpath("//dc:title", namespaces=NS)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"query": "title = (fish"}, "10"),
        ({"query": "dc.publisher = sharq"}, "16"),
        ({"query": "dc.title within fish"}, "19"),
        ({"query": "dc.title any/stem fish"}, "20"),
        ({"query": "a prox b"}, "37"),
        ({"query": "fish*"}, "28"),
        ({"query": "kunlar", "recordSchema": "mods"}, "66"),
        ({"query": "kunlar", "recordXMLEscaping": "json"}, "71"),
        ({"query": "kunlar", "maximumRecords": "many"}, "6"),
        ({"query": "kunlar", "startRecord": "900"}, "61"),
        ({"query": "kunlar", "version": "3.0"}, "5"),
        ({"operation": "searchRetrieve", "query": ""}, "7"),
    ],
)
def test_diagnostics(schema: etree.XMLSchema, catalogue: dict, params: dict, code: str) -> None:
    root = get(schema, Client(), **params)
    assert diagnostic_codes(root) == [code]


def test_version_1_2_requests_are_answered(schema: etree.XMLSchema, catalogue: dict) -> None:
    root = get(schema, Client(), version="1.2", query="mehrobdan", recordPacking="xml")
    assert root.findtext("s:version", namespaces=NS) == "1.2"
    assert root.findtext("s:numberOfRecords", namespaces=NS) == "1"


# --- sorting ----------------------------------------------------------------------------------


def titles(root: etree._Element) -> list[str]:
    return [t.split(" : ")[0] for t in root.xpath("//dc:title/text()", namespaces=NS)]


def years(root: etree._Element) -> list[str]:
    return root.xpath("//dc:date/text()", namespaces=NS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mehrobdan or kunlar sortBy dc.title", ["Mehrobdan chayon", "Oʻtkan kunlar"]),
        ("mehrobdan or kunlar sortBy title/sort.ascending", ["Mehrobdan chayon", "Oʻtkan kunlar"]),
        (
            "mehrobdan or kunlar sortBy dc.date/sort.descending",
            ["Oʻtkan kunlar", "Mehrobdan chayon"],
        ),
        ("mehrobdan or kunlar SORTBY dc.date/descending", ["Oʻtkan kunlar", "Mehrobdan chayon"]),
        (
            "mehrobdan or kunlar sortBy dc.date/sort.ascending",
            ["Mehrobdan chayon", "Oʻtkan kunlar"],
        ),
        (
            '> dc = "info:srw/cql-context-set/1/dc-v1.1" mehrobdan or kunlar'
            " sortBy dc.date/sort.descending",
            ["Oʻtkan kunlar", "Mehrobdan chayon"],
        ),
    ],
)
def test_sort_by_orders_the_records(
    schema: etree.XMLSchema, catalogue: dict, query: str, expected: list[str]
) -> None:
    root = get(schema, Client(), query=query)
    assert diagnostic_codes(root) == []
    assert titles(root) == expected


def test_sorted_paging_covers_every_year_in_order(schema: etree.XMLSchema, catalogue: dict) -> None:
    seen: list[str] = []
    start = "1"
    while start:
        root = get(
            schema,
            Client(),
            query="dc.title = tarix sortBy dc.date/sort.descending/sort.missingLow",
            maximumRecords="5",
            startRecord=start,
        )
        seen += years(root)
        start = root.findtext("s:nextRecordPosition", namespaces=NS) or ""
    assert seen == [str(year) for year in range(2011, 1999, -1)]


@pytest.mark.parametrize("version", ["1.1", "1.2", "2.0"])
def test_the_sort_keys_parameter_sorts_too(
    schema: etree.XMLSchema, catalogue: dict, version: str
) -> None:
    newest = get(schema, Client(), version=version, query="tarix", sortKeys="dc.date,,0")
    assert years(newest)[:3] == ["2011", "2010", "2009"]
    oldest = get(schema, Client(), version=version, query="tarix", sortKeys="date,dc,1,0,highValue")
    assert years(oldest)[:3] == ["2000", "2001", "2002"]
    by_title = get(schema, Client(), version=version, query="mehrobdan or kunlar", sortKeys="title")
    assert titles(by_title) == ["Mehrobdan chayon", "Oʻtkan kunlar"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"query": "kunlar sortBy dc.creator"}, "88"),
        ({"query": "kunlar sortBy cql.serverChoice"}, "88"),
        ({"query": "kunlar sortBy dc.title/sort.descending"}, "90"),
        ({"query": "kunlar sortBy dc.title dc.date"}, "84"),
        ({"query": "kunlar sortBy dc.title/sort.respectCase"}, "91"),
        ({"query": "kunlar sortBy dc.date/sort.missingOmit"}, "92"),
        ({"query": "kunlar sortBy dc.date/sort.descending/sort.missingHigh"}, "92"),
        ({"query": "kunlar sortBy dc.title/sort.locale=uz"}, "82"),
        ({"query": "kunlar sortBy dc.title/sort.ignoreAccents"}, "82"),
        ({"query": "kunlar sortBy dc.title/marc.ascending"}, "82"),
        ({"query": "kunlar", "sortKeys": "title,marcxml"}, "87"),
        ({"query": "kunlar", "sortKeys": "title,,down"}, "90"),
        ({"query": "kunlar", "sortKeys": "title,,1,yes"}, "91"),
        ({"query": "kunlar", "sortKeys": "date,,1,0,lowValue", "version": "1.1"}, "92"),
        ({"query": "kunlar", "sortKeys": "title date"}, "84"),
        ({"query": "kunlar", "sortKeys": ",dc"}, "6"),
        ({"query": "kunlar sortBy dc.title", "sortKeys": "title"}, "96"),
    ],
)
def test_sorts_we_cannot_give_are_diagnosed(
    schema: etree.XMLSchema, catalogue: dict, params: dict, code: str
) -> None:
    root = get(schema, Client(), **params)
    assert diagnostic_codes(root) == [code]
    assert root.findtext("s:numberOfRecords", namespaces=NS) == "0"


def test_explain_marks_the_sortable_indexes(schema: etree.XMLSchema, catalogue: dict) -> None:
    root = get(schema, Client())
    zeerex = {"z": "http://explain.z3950.org/dtd/2.0/"}
    sortable = root.xpath("//z:index[@sort='true']/z:title/text()", namespaces=zeerex)
    assert sorted(sortable) == ["dc.date", "dc.title"]


# --- indexes ----------------------------------------------------------------------------------


@pytest.fixture
def kecha(catalogue: dict) -> Record:
    """A record by another author, on another subject, with a word only in its abstract."""
    found = make_record(
        title="Kecha va kunduz",
        subtitle="",
        work_key="kecha-va-kunduz",
        contributors=[ContributorData("Choʻlpon, Abdulhamid", "author")],
        subjects=[SubjectData("Jadidlar", {})],
        abstract="Roman Turkiston mustamlakasi haqida.",
        identifiers=[],
    )
    indexing.drain()
    return found


def found_titles(root: etree._Element) -> list[str]:
    return [t.split(" : ")[0] for t in root.xpath("//dc:title/text()", namespaces=NS)]


@pytest.mark.parametrize("index", ["dc.creator", "dc.author", "creator"])
def test_search_retrieve_by_creator(schema: etree.XMLSchema, kecha: Record, index: str) -> None:
    root = get(schema, Client(), query=f'{index} = "choʻlpon"', recordSchema="dc")
    assert diagnostic_codes(root) == []
    assert found_titles(root) == ["Kecha va kunduz"]
    assert root.xpath("//dc:creator/text()", namespaces=NS) == ["Choʻlpon, Abdulhamid"]
    others = get(schema, Client(), query=f"{index} = qodiriy", maximumRecords="100")
    assert "Kecha va kunduz" not in found_titles(others)
    assert {"Oʻtkan kunlar", "Mehrobdan chayon"} <= set(found_titles(others))


def test_search_retrieve_by_subject(schema: etree.XMLSchema, kecha: Record) -> None:
    root = get(schema, Client(), query="dc.subject = jadidlar", recordSchema="marcxml")
    assert root.findtext("s:numberOfRecords", namespaces=NS) == "1"
    subject = root.xpath(
        "//marc:datafield[@tag='650']/marc:subfield[@code='a']/text()", namespaces=NS
    )
    assert subject == ["Jadidlar"]
    # The subject index is not the title: a word of the title is not a subject.
    none = get(schema, Client(), query="dc.subject = kecha")
    assert none.findtext("s:numberOfRecords", namespaces=NS) == "0"


def test_cql_anywhere_reaches_the_abstract(schema: etree.XMLSchema, kecha: Record) -> None:
    root = get(schema, Client(), query="cql.anywhere = turkiston")
    assert found_titles(root) == ["Kecha va kunduz"]
    assert found_titles(get(schema, Client(), query="cql.anywhere all choʻlpon jadidlar")) == [
        "Kecha va kunduz"
    ]
    title_only = get(schema, Client(), query="dc.title = turkiston")
    assert title_only.findtext("s:numberOfRecords", namespaces=NS) == "0"


#: Every index docs/protocols.md promises.
PROMISED = [
    "bath.isbn",
    "cql.anywhere",
    "cql.keywords",
    "cql.serverchoice",
    "dc.author",
    "dc.creator",
    "dc.date",
    "dc.subject",
    "dc.title",
]

#: A term each index finds something with (the others take a word of a title).
TERMS = {
    "creator": "qodiriy",
    "author": "qodiriy",
    "subject": "jadidlar",
    "date": "2019",
    "isbn": "9789943269118",
}


def test_explain_lists_every_index_and_each_one_searches(
    schema: etree.XMLSchema, kecha: Record
) -> None:
    root = get(schema, Client(), operation="explain")
    zeerex = {"z": "http://explain.z3950.org/dtd/2.0/"}
    listed = root.xpath("//z:indexInfo/z:index/z:title/text()", namespaces=zeerex)
    assert sorted(listed) == PROMISED
    sets = set(root.xpath("//z:indexInfo/z:set/@name", namespaces=zeerex))
    for index in root.xpath("//z:indexInfo/z:index", namespaces=zeerex):
        (name,) = index.xpath("z:map/z:name", namespaces=zeerex)
        assert name.get("set") in sets
        term = TERMS.get(name.text or "", "kunlar")
        answer = get(schema, Client(), query=f"{name.get('set')}.{name.text} = {term}")
        assert diagnostic_codes(answer) == [], name.text
        assert answer.findtext("s:numberOfRecords", namespaces=NS) != "0", name.text


# --- copy cataloguing over real HTTP against our own /sru --------------------------------------


@pytest.mark.django_db(transaction=True)
def test_copy_cataloguing_imports_once_and_then_updates(live_server, librarian) -> None:
    original = make_record(
        title="Kecha va kunduz",
        subtitle="",
        work_key="kecha-va-kunduz",
        year=1936,
        identifiers=[IdentifierData("isbn", "978-9943-01-234-8")],
    )
    indexing.drain()
    base = f"{live_server.url}/sru"
    found = client.search_remote(base, 'dc.title = "kecha va kunduz"')
    assert [(f.data.title, f.isbn.replace("-", "")) for f in found] == [
        ("Kecha va kunduz", "9789943012348")
    ]
    browser = Client()
    browser.force_login(librarian)
    params = {"target": base, "query": 'dc.title = "kecha va kunduz"'}
    page = browser.get("/cataloguing/copy/", params)
    assert page.status_code == 200 and "9789943012348" in page.content.decode().replace("-", "")
    again = browser.post("/cataloguing/copy/", {**params, "position": "1"})
    assert again.status_code == 302
    assert Record.objects.count() == 1 and Record.objects.get().pk == original.pk

    Record.objects.all().delete()  # as if we were the other library, without the record
    first = client.import_found(found[0], by=librarian)
    assert first.created and Record.objects.count() == 1
    imported = Record.objects.get()
    assert imported.title == "Kecha va kunduz" and imported.pk != original.pk
    second = client.import_found(found[0], by=librarian)
    assert not second.created and second.record_id == imported.pk
    assert Record.objects.count() == 1


def test_copy_cataloguing_creates_a_new_record_through_the_page(
    librarian, repository: Callable[..., Repository]
) -> None:
    """Another library's SRU server: our own /sru's answer for a record, served by a local
    server after the record is gone here, so the page finds nothing to match and creates."""
    original = make_record(
        title="Kecha va kunduz",
        subtitle="",
        work_key="kecha-va-kunduz",
        year=1936,
        identifiers=[IdentifierData("isbn", "978-9943-01-234-8")],
    )
    indexing.drain()
    query = 'dc.title = "kecha va kunduz"'
    params = {"query": query, "recordSchema": "marcxml", "maximumRecords": "20"}
    answer = Client().get("/sru", params).content
    Record.objects.filter(pk=original.pk).delete()
    other = repository(lambda asked: (200, {}, answer))
    browser = Client()
    browser.force_login(librarian)

    done = browser.post(
        "/cataloguing/copy/",
        {"target": other.url("/sru"), "query": query, "position": "1"},
        follow=True,
    )

    imported = Record.objects.get()
    assert imported.pk != original.pk
    assert (imported.title, imported.year) == ("Kecha va kunduz", 1936)
    assert done.redirect_chain == [(imported.get_absolute_url(), 302)]
    assert "The record is imported." in done.content.decode()
    assert other.requests[0]["query"] == query
    assert other.requests[0]["operation"] == "searchRetrieve"


def test_copy_cataloguing_is_for_librarians_only(patron_client: Client) -> None:
    assert patron_client.get("/cataloguing/copy/").status_code == 404
