"""The OAI-PMH 2.0 provider at /oai: every verb, every error, resumption and deleted records.

Every response is validated against the OAI-PMH schema (with oai_dc, MARC21 slim and
oai-identifier for the payloads) from the ``shared/data`` folder beside the repository;
without it the tests skip. The last test harvests the catalogue with Sickle over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from lxml import etree

from kitobxon.catalogue import services
from kitobxon.catalogue.models import Record, RecordStatus, Tombstone
from kitobxon.catalogue.tests.factories import make_record, record_data
from kitobxon.protocols.oai import repository, tokens

XSD = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "oai-pmh-xsd"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
MARC = "{http://www.loc.gov/MARC21/slim}"
DOMAIN = "kitobxon.localhost"
T0 = datetime(2024, 3, 1, 10, 0, 0, 500_000, tzinfo=UTC)

_schema: list[etree.XMLSchema] = []


class _XMLSchemaLocally(etree.Resolver):
    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if system_url.endswith("/xml.xsd"):
            return self.resolve_filename(str(XSD.parent / "dublin-core-xsd" / "xml.xsd"), context)
        return None


def oai_schema() -> etree.XMLSchema:
    """OAI-PMH.xsd with the payload schemas imported, so <metadata> is validated strictly."""
    if not (XSD / "OAI-PMH.xsd").exists():
        pytest.skip(f"the shared OAI-PMH schemas are absent ({XSD} not found)")
    if not _schema:
        imports = {
            "http://www.openarchives.org/OAI/2.0/": "OAI-PMH.xsd",
            "http://www.openarchives.org/OAI/2.0/oai_dc/": "oai_dc.xsd",
            "http://www.openarchives.org/OAI/2.0/oai-identifier": "oai-identifier.xsd",
            "http://www.loc.gov/MARC21/slim": "MARC21slim.xsd",
        }
        schema_imports = "".join(
            f'<xs:import namespace="{ns}" schemaLocation="{(XSD / name).as_uri()}"/>'
            for ns, name in imports.items()
        )
        driver = (
            f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{schema_imports}</xs:schema>'
        )
        parser = etree.XMLParser(no_network=True)
        parser.resolvers.add(_XMLSchemaLocally())
        _schema.append(
            etree.XMLSchema(etree.fromstring(driver, parser, base_url=XSD.as_uri() + "/"))
        )
    return _schema[0]


def valid(body: bytes) -> etree._Element:
    root = etree.fromstring(body)
    schema = oai_schema()
    assert schema.validate(root), f"{schema.error_log}\n{body.decode()[:3000]}"
    return root


def oai(client: Client, method: str = "get", **arguments: str | list[str]) -> etree._Element:
    response = getattr(client, method)("/oai", arguments)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return valid(response.content)


def error_of(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


def identifier(record: Record | int) -> str:
    return f"oai:{DOMAIN}:record:{record if isinstance(record, int) else record.pk}"


@contextmanager
def clock(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> Iterator[None]:
    """The catalogue's services see ``moment`` as now."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


def book(n: int, **overrides: Any) -> Record:
    fields: dict[str, Any] = {"title": f"Kitob {n}", "identifiers": [], "work_key": f"w{n}"}
    return make_record(**{**fields, **overrides})


def never_published(n: int) -> Record:
    """A draft from the start: harvesters never saw it, so it leaves no tombstone."""
    data = record_data(title=f"Kitob {n}", identifiers=[], work_key=f"w{n}")
    saved = services.save_records([data], by=None, status=RecordStatus.DRAFT, targets=[None])
    return saved[0].record


@pytest.fixture
def catalogue(db: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Five published records over three seconds, a map in Russian, a draft never published,
    a withdrawn record and a deleted one."""
    with clock(monkeypatch, T0):
        first = [book(1), book(2)]
    with clock(monkeypatch, T0 + timedelta(seconds=1)):
        second = [book(3, languages=["rus"], resource_type="map"), book(4)]
    with clock(monkeypatch, T0 + timedelta(days=1)):
        third = [book(5)]
        draft = never_published(6)
        withdrawn = book(7)
        gone = book(8)
        gone_id = gone.pk
    with clock(monkeypatch, T0 + timedelta(days=2)):
        services.set_status(withdrawn, RecordStatus.WITHDRAWN, by=None)
        services.delete_record(gone, by=None)
    return {
        "published": first + second + third,
        "draft": draft,
        "withdrawn": withdrawn,
        "deleted": gone_id,
    }


def headers(root: etree._Element) -> list[etree._Element]:
    return list(root.iter(f"{OAI}header"))


def ids(root: etree._Element) -> list[str]:
    return [h.findtext(f"{OAI}identifier") for h in headers(root)]


# --- Identify, ListMetadataFormats, ListSets ------------------------------------------------


def test_identify_describes_the_repository(client: Client, catalogue: dict[str, Any]) -> None:
    root = oai(client, verb="Identify")
    identify = root.find(f"{OAI}Identify")
    assert identify.findtext(f"{OAI}baseURL") == "http://testserver/oai"
    assert identify.findtext(f"{OAI}protocolVersion") == "2.0"
    assert identify.findtext(f"{OAI}earliestDatestamp") == "2024-03-01T10:00:00Z"
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert "@" in identify.findtext(f"{OAI}adminEmail")
    ns = "{http://www.openarchives.org/OAI/2.0/oai-identifier}"
    assert identify.findtext(f".//{ns}repositoryIdentifier") == DOMAIN
    assert root.find(f"{OAI}request").get("verb") == "Identify"


def test_list_metadata_formats_offers_oai_dc_and_marc21(
    client: Client, catalogue: dict[str, Any]
) -> None:
    for arguments in ({}, {"identifier": identifier(catalogue["published"][0])}):
        root = oai(client, verb="ListMetadataFormats", **arguments)
        prefixes = [e.text for e in root.iter(f"{OAI}metadataPrefix")]
        assert prefixes == ["oai_dc", "marc21"]
        schemas = [e.text for e in root.iter(f"{OAI}schema")]
        assert "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd" in schemas


def test_list_metadata_formats_of_an_unknown_record_is_id_does_not_exist(
    client: Client, catalogue: dict[str, Any]
) -> None:
    for unknown in (identifier(999999), identifier(catalogue["draft"]), "oai:else.org:record:1"):
        root = oai(client, verb="ListMetadataFormats", identifier=unknown)
        assert error_of(root) == "idDoesNotExist"


def test_list_sets_names_resource_types_and_the_languages_in_use(
    client: Client, catalogue: dict[str, Any]
) -> None:
    root = oai(client, verb="ListSets")
    specs = [e.text for e in root.iter(f"{OAI}setSpec")]
    assert {"type", "type:book", "type:map", "lang", "lang:uzb", "lang:rus"} <= set(specs)
    assert "lang:eng" not in specs
    assert error_of(oai(client, verb="ListSets", resumptionToken="x")) == "badResumptionToken"


# --- Collections and faculties as sets ------------------------------------------------------


@pytest.fixture
def groups(catalogue: dict[str, Any]) -> dict[str, Any]:
    """A faculty with two published records, a collection with one published and the
    withdrawn record, and an empty collection."""
    philology = services.create_collection(
        code="philology",
        kind="faculty",
        name="Filologiya fakulteti",
        names={"en": "Faculty of Philology", "ru": "Филологический факультет"},
        by=None,
    )
    rare = services.create_collection(
        code="rare-books",
        kind="collection",
        name="Nodir kitoblar",
        names={"en": "Rare books", "ru": "Редкие книги"},
        description="Qoʻlyozmalar va toshbosma kitoblar.",
        by=None,
    )
    empty = services.create_collection(code="maps", kind="collection", name="Xaritalar", by=None)
    published = catalogue["published"]
    for record in (published[0], published[3]):
        services.set_record_collections(record, [philology], by=None)
    services.set_record_collections(published[1], [rare, philology], by=None)
    services.set_record_collections(catalogue["withdrawn"], [rare], by=None)
    return {"philology": philology, "rare": rare, "empty": empty}


def set_names(root: etree._Element) -> dict[str, str]:
    return {
        s.findtext(f"{OAI}setSpec"): s.findtext(f"{OAI}setName") for s in root.iter(f"{OAI}set")
    }


def test_list_sets_names_collections_and_faculties_in_the_repository_language(
    client: Client, groups: dict[str, Any]
) -> None:
    names = set_names(oai(client, verb="ListSets"))
    assert {
        spec: names[spec]
        for spec in ("collection", "collection:rare-books", "faculty", "faculty:philology")
    } == {
        "collection": "Collections",
        "collection:rare-books": "Rare books",
        "faculty": "Faculties and departments",
        "faculty:philology": "Faculty of Philology",
    }
    assert names["collection:maps"] == "Xaritalar"  # no English name: the name itself
    root = oai(client, verb="ListSets")
    described = {
        s.findtext(f"{OAI}setSpec"): s.findtext(f"{OAI}setDescription//{DC}description")
        for s in root.iter(f"{OAI}set")
        if s.find(f"{OAI}setDescription") is not None
    }
    assert described == {"collection:rare-books": "Qoʻlyozmalar va toshbosma kitoblar."}
    russian = Client()
    russian.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    names = set_names(oai(russian, verb="ListSets"))
    assert names["faculty:philology"] == "Филологический факультет"
    assert names["collection:rare-books"] == "Редкие книги"


def test_control_characters_a_librarian_pasted_into_a_set_name_do_not_break_list_sets(
    client: Client, groups: dict[str, Any]
) -> None:
    services.create_collection(
        code="pasted",
        kind="collection",
        name="Nusxa\x0bolingan\x0c nom",
        description="Tavsif\x1b matni\x08",
        by=None,
    )
    root = oai(client, verb="ListSets")  # validated against the schema, as every response
    assert set_names(root)["collection:pasted"] == "Nusxaolingan nom"
    described = {
        s.findtext(f"{OAI}setSpec"): s.findtext(f"{OAI}setDescription//{DC}description")
        for s in root.iter(f"{OAI}set")
    }
    assert described["collection:pasted"] == "Tavsif matni"


def test_list_records_in_collection_and_faculty_sets(
    client: Client, catalogue: dict[str, Any], groups: dict[str, Any]
) -> None:
    published = catalogue["published"]

    def listed(set_spec: str) -> set[str]:
        return set(ids(oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set=set_spec)))

    philology = {identifier(r) for r in (published[0], published[1], published[3])}
    assert listed("faculty:philology") == philology
    assert listed("faculty") == philology
    # The withdrawn record is still in its collection, as a deleted record.
    rare = listed("collection:rare-books")
    assert rare == {identifier(published[1]), identifier(catalogue["withdrawn"])}
    assert listed("collection") == rare
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", set="collection:rare-books")
    deleted = [h.findtext(f"{OAI}identifier") for h in headers(root) if h.get("status")]
    assert deleted == [identifier(catalogue["withdrawn"])]
    assert len(root.findall(f".//{OAI}metadata")) == 1
    for empty_or_unknown, code in (
        ("collection:maps", "noRecordsMatch"),
        ("collection:nowhere", "badArgument"),
        ("faculty:rare-books", "badArgument"),  # a collection's code is not a faculty's
    ):
        root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", set=empty_or_unknown)
        assert error_of(root) == code, empty_or_unknown


def test_headers_list_the_collection_and_faculty_sets_of_each_record(
    client: Client, catalogue: dict[str, Any], groups: dict[str, Any]
) -> None:
    published = catalogue["published"]
    root = oai(
        client, verb="GetRecord", identifier=identifier(published[1]), metadataPrefix="oai_dc"
    )
    assert [s.text for s in root.iter(f"{OAI}setSpec")] == [
        "type:book",
        "lang:uzb",
        "collection:rare-books",
        "faculty:philology",
    ]
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    specs = {
        h.findtext(f"{OAI}identifier"): [s.text for s in h.iter(f"{OAI}setSpec")]
        for h in headers(root)
    }
    assert specs[identifier(published[0])] == ["type:book", "lang:uzb", "faculty:philology"]
    assert specs[identifier(published[4])] == ["type:book", "lang:uzb"]
    assert specs[identifier(catalogue["withdrawn"])] == [
        "type:book",
        "lang:uzb",
        "collection:rare-books",
    ]
    assert specs[identifier(catalogue["deleted"])] == []


def test_a_change_of_collections_gives_the_record_a_new_datestamp(
    client: Client,
    catalogue: dict[str, Any],
    groups: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = catalogue["published"][4]
    later = T0 + timedelta(days=5)
    with clock(monkeypatch, later):
        assert services.set_record_collections(record, [groups["rare"]], by=None)
    with clock(monkeypatch, later + timedelta(days=1)):
        assert not services.set_record_collections(record, [groups["rare"]], by=None)
    root = oai(client, verb="GetRecord", identifier=identifier(record), metadataPrefix="oai_dc")
    assert root.findtext(f".//{OAI}datestamp") == "2024-03-06T10:00:00Z"
    window = {"from": "2024-03-06", "until": "2024-03-06", "set": "collection:rare-books"}
    assert ids(oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **window)) == [
        identifier(record)
    ]


def test_a_set_of_a_faculty_pages_with_resumption_tokens(
    client: Client,
    catalogue: dict[str, Any],
    groups: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(repository, "PAGE_SIZE", 2)
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", set="faculty:philology")
    harvested = ids(root)
    token = root.find(f".//{OAI}resumptionToken")
    assert token.get("completeListSize") == "3"
    root = oai(client, verb="ListRecords", resumptionToken=token.text)
    harvested += ids(root)
    assert sorted(harvested) == sorted(
        identifier(r) for r in (catalogue["published"][i] for i in (0, 1, 3))
    )
    assert not root.find(f".//{OAI}resumptionToken").text


def test_a_page_in_a_set_costs_a_fixed_number_of_queries(
    client: Client,
    catalogue: dict[str, Any],
    groups: dict[str, Any],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    arguments = {"metadataPrefix": "oai_dc", "set": "faculty:philology"}
    # is the set defined, records, 4 prefetches, tombstones, collection sets
    with django_assert_num_queries(8):
        oai(client, verb="ListRecords", **arguments)
    for n in range(10, 30):
        services.set_record_collections(book(n), [groups["philology"], groups["rare"]], by=None)
    with django_assert_num_queries(8):
        root = oai(client, verb="ListRecords", **arguments)
    assert len(ids(root)) == 23
    # is the set defined, records, tombstones, collection sets
    with django_assert_num_queries(4):
        oai(client, verb="ListIdentifiers", **arguments)


# --- GetRecord ------------------------------------------------------------------------------


def test_get_record_in_oai_dc(client: Client, catalogue: dict[str, Any]) -> None:
    record = catalogue["published"][2]
    root = oai(client, verb="GetRecord", identifier=identifier(record), metadataPrefix="oai_dc")
    header = root.find(f".//{OAI}header")
    assert header.get("status") is None
    assert header.findtext(f"{OAI}datestamp") == "2024-03-01T10:00:01Z"
    assert [s.text for s in header.iter(f"{OAI}setSpec")] == ["type:map", "lang:rus"]
    assert root.findtext(f".//{DC}title") == "Kitob 3 : roman"


def test_get_record_in_marc21(client: Client, catalogue: dict[str, Any]) -> None:
    record = catalogue["published"][0]
    root = oai(client, verb="GetRecord", identifier=identifier(record), metadataPrefix="marc21")
    title = root.find(f".//{MARC}datafield[@tag='245']/{MARC}subfield[@code='a']")
    assert title.text == "Kitob 1 :"


def test_get_record_of_withdrawn_and_deleted_records_gives_deleted_headers(
    client: Client, catalogue: dict[str, Any]
) -> None:
    for gone in (catalogue["withdrawn"].pk, catalogue["deleted"]):
        root = oai(client, verb="GetRecord", identifier=identifier(gone), metadataPrefix="oai_dc")
        record = root.find(f".//{OAI}record")
        assert record.find(f"{OAI}header").get("status") == "deleted"
        assert record.findtext(f"{OAI}header/{OAI}datestamp") == "2024-03-03T10:00:00Z"
        assert record.find(f"{OAI}metadata") is None


def test_a_published_record_returned_to_draft_is_deleted_until_it_is_published_again(
    client: Client, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    record = catalogue["published"][0]
    arguments = {"identifier": identifier(record), "metadataPrefix": "oai_dc"}
    with clock(monkeypatch, T0 + timedelta(days=4)):
        services.set_status(record, RecordStatus.DRAFT, by=None)
    root = oai(client, verb="GetRecord", **arguments)
    header = root.find(f".//{OAI}header")
    assert header.get("status") == "deleted"
    assert header.findtext(f"{OAI}datestamp") == "2024-03-05T10:00:00Z"
    assert [s.text for s in header.iter(f"{OAI}setSpec")] == ["type:book", "lang:uzb"]
    assert root.find(f".//{OAI}metadata") is None
    listed = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2024-03-05"})
    assert [(h.findtext(f"{OAI}identifier"), h.get("status")) for h in headers(listed)] == [
        (identifier(record), "deleted")
    ]
    # Edited while a draft: still deleted, with the date it went.
    with clock(monkeypatch, T0 + timedelta(days=5)):
        services.edit_record(
            record, record_data(title="Kitob 1 (tuzatilgan)"), status=RecordStatus.DRAFT, by=None
        )
    header = oai(client, verb="GetRecord", **arguments).find(f".//{OAI}header")
    assert header.get("status") == "deleted"
    assert header.findtext(f"{OAI}datestamp") == "2024-03-05T10:00:00Z"
    with clock(monkeypatch, T0 + timedelta(days=6)):
        services.set_status(record, RecordStatus.PUBLISHED, by=None)
    root = oai(client, verb="GetRecord", **arguments)
    header = root.find(f".//{OAI}header")
    assert header.get("status") is None
    assert header.findtext(f"{OAI}datestamp") == "2024-03-07T10:00:00Z"
    assert root.findtext(f".//{DC}title") == "Kitob 1 (tuzatilgan) : roman"
    assert not Tombstone.objects.filter(record_id=record.pk).exists()


def test_a_withdrawn_record_returned_to_draft_stays_deleted(
    client: Client, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    withdrawn = catalogue["withdrawn"]
    with clock(monkeypatch, T0 + timedelta(days=4)):
        services.set_status(withdrawn, RecordStatus.DRAFT, by=None)
    root = oai(client, verb="GetRecord", identifier=identifier(withdrawn), metadataPrefix="oai_dc")
    header = root.find(f".//{OAI}header")
    assert header.get("status") == "deleted"
    assert header.findtext(f"{OAI}datestamp") == "2024-03-03T10:00:00Z"


def test_get_record_errors(client: Client, catalogue: dict[str, Any]) -> None:
    record = identifier(catalogue["published"][0])
    cases = [
        ({"identifier": record, "metadataPrefix": "mods"}, "cannotDisseminateFormat"),
        (
            {"identifier": identifier(catalogue["draft"]), "metadataPrefix": "oai_dc"},
            "idDoesNotExist",
        ),
        ({"identifier": "not-an-identifier", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"identifier": record}, "badArgument"),
        ({"metadataPrefix": "oai_dc"}, "badArgument"),
        ({"identifier": record, "metadataPrefix": "oai_dc", "set": "type"}, "badArgument"),
    ]
    for arguments, code in cases:
        assert error_of(oai(client, verb="GetRecord", **arguments)) == code, arguments


# --- Lists ----------------------------------------------------------------------------------


def test_list_identifiers_gives_published_and_deleted_records_in_datestamp_order(
    client: Client, catalogue: dict[str, Any]
) -> None:
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    expected = [identifier(r) for r in catalogue["published"]]
    expected += sorted([identifier(catalogue["withdrawn"]), identifier(catalogue["deleted"])])
    assert ids(root) == expected
    deleted = [h.findtext(f"{OAI}identifier") for h in headers(root) if h.get("status")]
    assert deleted == expected[-2:]
    assert root.find(f".//{OAI}resumptionToken") is None


def test_list_records_pages_with_resumption_tokens(
    client: Client, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "PAGE_SIZE", 2)
    harvested: list[str] = []
    cursors: list[tuple[str | None, str | None]] = []
    root = oai(client, verb="ListRecords", metadataPrefix="marc21")
    while True:
        harvested += ids(root)
        token = root.find(f".//{OAI}resumptionToken")
        cursors.append((token.get("cursor"), token.get("completeListSize")))
        if not token.text:
            assert token.get("expirationDate") is None
            break
        expires = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
        assert expires.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(hours=23)
        root = oai(client, verb="ListRecords", resumptionToken=token.text)
    assert len(harvested) == 7 == len(set(harvested))
    assert cursors == [("0", "7"), ("2", "7"), ("4", "7"), ("6", "7")]
    assert len(root.findall(f".//{OAI}metadata")) == 0  # the last page: the two deleted


def test_list_records_in_a_set(client: Client, catalogue: dict[str, Any]) -> None:
    root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", set="type:map")
    assert ids(root) == [identifier(catalogue["published"][2])]
    root = oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="lang:uzb")
    assert identifier(catalogue["published"][2]) not in ids(root)
    assert identifier(catalogue["withdrawn"]) in ids(root)  # still says it was in Uzbek
    assert identifier(catalogue["deleted"]) not in ids(root)  # nothing left to say
    assert error_of(oai(client, verb="ListRecords", metadataPrefix="oai_dc", set="lang:kaa")) == (
        "noRecordsMatch"
    )
    assert error_of(oai(client, verb="ListRecords", metadataPrefix="oai_dc", set="faculty:x")) == (
        "badArgument"
    )


def test_from_and_until_in_both_granularities(client: Client, catalogue: dict[str, Any]) -> None:
    def listed(**window: str) -> list[str]:
        return ids(oai(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **window))

    published = [identifier(r) for r in catalogue["published"]]
    assert listed(until="2024-03-01T10:00:00Z") == published[:2]
    assert (
        listed(**{"from": "2024-03-01T10:00:01Z", "until": "2024-03-01T10:00:01Z"})
        == published[2:4]
    )
    assert listed(**{"from": "2024-03-02", "until": "2024-03-02"}) == published[4:]
    assert len(listed(**{"from": "2024-03-03"})) == 2


def test_window_errors(client: Client, catalogue: dict[str, Any]) -> None:
    cases = [
        ({"from": "2024-03-01", "until": "2024-03-02T00:00:00Z"}, "badArgument"),
        ({"from": "2024-03-01T10:00"}, "badArgument"),
        ({"from": "2024-02-30"}, "badArgument"),
        ({"until": "yesterday"}, "badArgument"),
        ({"from": "2024-03-05", "until": "2024-03-01"}, "badArgument"),
        ({"until": "2000-01-01"}, "noRecordsMatch"),
        ({"from": "2030-01-01T00:00:00Z"}, "noRecordsMatch"),
    ]
    for window, code in cases:
        root = oai(client, verb="ListRecords", metadataPrefix="oai_dc", **window)
        assert error_of(root) == code, window


def test_list_errors(client: Client, catalogue: dict[str, Any]) -> None:
    for verb in ("ListRecords", "ListIdentifiers"):
        assert error_of(oai(client, verb=verb)) == "badArgument"
        assert error_of(oai(client, verb=verb, metadataPrefix="dc")) == "cannotDisseminateFormat"


# --- Resumption tokens ----------------------------------------------------------------------


def first_token(client: Client, verb: str = "ListIdentifiers") -> str:
    root = oai(client, verb=verb, metadataPrefix="oai_dc")
    return str(root.find(f".//{OAI}resumptionToken").text)


def test_tokens_are_stateless_and_survive_a_restart(
    client: Client, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setattr(repository, "PAGE_SIZE", 3)
    token = first_token(client)
    resumption = tokens.decode(token)
    reissued = tokens.encode(resumption)  # what any worker, after any restart, would sign
    for again in (token, reissued):
        root = oai(Client(), verb="ListIdentifiers", resumptionToken=again)
        assert ids(root) == [identifier(r) for r in catalogue["published"][3:5]] + [
            identifier(min(catalogue["withdrawn"].pk, catalogue["deleted"]))
        ]
    settings.SECRET_KEY = "another library's secret key, fifty characters long!!"
    assert error_of(oai(client, verb="ListIdentifiers", resumptionToken=token)) == (
        "badResumptionToken"
    )


def test_records_changed_during_a_harvest_come_at_its_end(
    client: Client, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "PAGE_SIZE", 4)
    token = first_token(client)
    with clock(monkeypatch, T0 + timedelta(days=3)):
        late = book(9)
    root = oai(client, verb="ListIdentifiers", resumptionToken=token)
    assert ids(root)[-1] == identifier(late)
    assert root.find(f".//{OAI}resumptionToken").get("completeListSize") == "8"


def test_expired_tampered_and_foreign_tokens_are_bad(
    client: Client, catalogue: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "PAGE_SIZE", 2)
    token = first_token(client)
    resumption = tokens.decode(token)
    issued_long_ago = tokens.expiry(datetime.now(UTC) - tokens.LIFETIME - timedelta(seconds=5))
    expired = tokens.encode(
        tokens.Resumption(**{**resumption.__dict__, "expires": issued_long_ago})
    )
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (expired, tampered, "", "garbage"):
        assert error_of(oai(client, verb="ListIdentifiers", resumptionToken=bad)) == (
            "badResumptionToken"
        ), bad
    assert error_of(oai(client, verb="ListRecords", resumptionToken=token)) == "badResumptionToken"
    with_other = oai(client, verb="ListIdentifiers", resumptionToken=token, metadataPrefix="oai_dc")
    assert error_of(with_other) == "badArgument"


# --- The protocol's own errors, POST, and cost ----------------------------------------------


def test_bad_verbs_and_arguments(client: Client, catalogue: dict[str, Any]) -> None:
    assert error_of(oai(client)) == "badVerb"
    assert error_of(oai(client, verb="Harvest")) == "badVerb"
    assert error_of(oai(client, verb=["Identify", "Identify"])) == "badVerb"
    root = oai(client, verb="Identify", metadataPrefix="oai_dc")
    assert error_of(root) == "badArgument"
    assert root.find(f"{OAI}request").attrib == {}  # echoes no arguments on badArgument
    repeated = oai(client, verb="ListRecords", metadataPrefix=["oai_dc", "marc21"])
    assert error_of(repeated) == "badArgument"


def test_post_is_answered_like_get(client: Client, catalogue: dict[str, Any]) -> None:
    arguments = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "type:map"}
    assert ids(oai(client, "post", **arguments)) == ids(oai(client, **arguments))
    assert client.put("/oai").status_code == 405


def test_a_page_of_records_costs_a_fixed_number_of_queries(
    client: Client,
    catalogue: dict[str, Any],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    # records, 4 prefetches, tombstones, the sets of the withdrawn ones, collection sets
    with django_assert_num_queries(8):
        oai(client, verb="ListRecords", metadataPrefix="oai_dc")
    for n in range(10, 20):
        book(n)
    with django_assert_num_queries(8):
        oai(client, verb="ListRecords", metadataPrefix="oai_dc")


# --- A real harvester -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sickle_harvests_the_whole_catalogue_over_http(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sickle = pytest.importorskip("sickle")
    oai_schema()
    monkeypatch.setattr(repository, "PAGE_SIZE", 4)
    published = {identifier(book(n)) for n in range(1, 12)}
    withdrawn, deleted = book(20), book(21)
    deleted_id = deleted.pk
    services.set_status(withdrawn, RecordStatus.WITHDRAWN, by=None)
    services.delete_record(deleted, by=None)
    assert Tombstone.objects.count() == 2

    harvester = sickle.Sickle(f"{live_server.url}/oai", max_retries=0)
    seen: dict[str, bool] = {}
    titles: list[str] = []
    for metadata_prefix in ("oai_dc", "marc21"):
        seen.clear()
        for record in harvester.ListRecords(metadataPrefix=metadata_prefix, ignore_deleted=False):
            valid(etree.tostring(record.xml.getroottree().getroot()))
            assert record.header.identifier not in seen
            seen[record.header.identifier] = record.header.deleted
            if metadata_prefix == "oai_dc" and not record.header.deleted:
                titles += record.metadata["title"]
        assert {i for i, gone in seen.items() if not gone} == published
        assert {i for i, gone in seen.items() if gone} == {
            identifier(withdrawn),
            identifier(deleted_id),
        }
    assert len(titles) == 11
    assert harvester.Identify().repositoryIdentifier == DOMAIN
