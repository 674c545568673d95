"""The OPDS catalogue: feeds that validate (RELAX NG for 1.2, JSON Schema for 2.0), links that
resolve, pages, search, and acquisition links that follow each reader's access policy."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from lxml import etree

from kitobxon.accounts import services as account_services
from kitobxon.catalogue import services as catalogue_services
from kitobxon.catalogue.languages import language_name
from kitobxon.catalogue.models import RecordStatus
from kitobxon.digital import samples
from kitobxon.digital.models import Access
from kitobxon.digital.services import licences
from kitobxon.digital.services import loans as loan_services
from kitobxon.digital.tests.factories import attach, count_decisions, record
from kitobxon.ledger.models import Entry
from kitobxon.protocols.opds import feeds
from kitobxon.search import indexing

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "opds-schemas"
ATOM_RNC = Path(__file__).resolve().parent / "schema" / "atom.rnc"
LIBRARY_RNC = Path(__file__).resolve().parent / "schema" / "library-simplified.rnc"
A = "{http://www.w3.org/2005/Atom}"
OPDS = "{http://opds-spec.org/2010/catalog}"


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


def schemas() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip(f"the shared OPDS schemas are absent ({SCHEMAS} not found)")
    return SCHEMAS


@pytest.fixture(scope="session")
def rnc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """opds.rnc (1.2) beside RFC 4287's atom.rnc, which it includes, extended by the Library
    Simplified availability elements inside links (``library-simplified.rnc``, which upstream's
    link pattern does not allow: borrow links carry them).

    Upstream writes the IRI exclusion class as ``[ <>{}|^`"\\nrt]``, so every URI holding an
    "r" or a "t" is refused (opds-community/specs#3); the escapes it meant are restored here.
    """
    if shutil.which("jing") is None:
        pytest.skip("jing is not installed (apt-get install jing)")
    folder = tmp_path_factory.mktemp("rnc")
    text = (schemas() / "opds-community-specs" / "1.2" / "opds.rnc").read_text()
    broken = '[ <>{}|^`"\\nrt]'
    assert broken in text
    (folder / "opds.rnc").write_text(text.replace(broken, '[ <>{}|^`"\\n\\r\\t]'))
    shutil.copy(ATOM_RNC, folder / "atom.rnc")
    shutil.copy(LIBRARY_RNC, folder / "library-simplified.rnc")
    return folder / "library-simplified.rnc"


@pytest.fixture(scope="session")
def validator() -> Any:
    """A Draft 7 validator of OPDS 2.0 feeds with every schema in one registry, no network."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    resources = []
    for path in sorted(schemas().rglob("*.schema.json")):
        # The schemas write named groups the ECMA-262 way; Python's re spells them (?P<name>.
        text = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", path.read_text())
        contents = json.loads(text)
        resources.append((contents["$id"], referencing.Resource.from_contents(contents)))
    registry = referencing.Registry().with_resources(resources)
    feed = registry.contents("https://specs.opds.io/schema/feed.schema.json")
    return jsonschema.Draft7Validator(
        feed, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def valid_atom(body: bytes, rnc_path: Path, tmp_path: Path) -> etree._Element:
    document = tmp_path / "feed.xml"
    document.write_bytes(body)
    done = subprocess.run(
        ["jing", "-c", str(rnc_path), str(document)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr + body.decode()
    return etree.fromstring(body)


def valid_json(body: bytes, validator: Any) -> dict[str, Any]:
    document = json.loads(body)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    return document


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def book(title: str, access: str = Access.OPEN, **kwargs: Any):
    file = attach(record(title=title, **kwargs), access=access)
    return file


def catalogue(n: int = 3) -> list[Any]:
    files = [book(f"Kitob {i}", year=2000 + i) for i in range(n)]
    indexing.drain()
    return files


def links(element: etree._Element) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in element.findall(f"{A}link")}


def entry_titles(feed: etree._Element) -> list[str]:
    return [e.findtext(f"{A}title") for e in feed.findall(f"{A}entry")]


def test_every_atom_feed_validates_and_every_link_resolves(rnc, tmp_path) -> None:
    catalogue()
    client = Client()
    seen: set[str] = set()
    queue = ["/opds/"]
    while queue:
        address = queue.pop()
        if address in seen:
            continue
        seen.add(address)
        response = client.get(address)
        assert response.status_code == 200, address
        content_type = response["Content-Type"]
        if not content_type.startswith("application/atom+xml"):
            continue
        feed = valid_atom(response.content, rnc, tmp_path)
        for link in feed.iter(f"{A}link"):
            rel = link.get("rel") or ""
            if rel.endswith("/borrow"):
                continue
            if rel == feeds.SHELF:  # a reader's own: a visitor is asked to sign in
                shelf = client.get(path_of(link.get("href")))
                assert shelf.status_code == 401
                assert shelf["Content-Type"] == "application/opds-authentication+json"
                continue
            queue.append(path_of(link.get("href")))
    assert "/opds/list/new/" in seen
    assert "/opds/by/subjects/" in seen and "/opds/by/languages/" in seen
    assert "/opds/by/types/" in seen and "/opds/opensearch.xml" in seen
    assert any(a.startswith("/opds/list/all/?subject=") for a in seen)
    assert any(a.startswith("/digital/files/") for a in seen)  # the reader pages open
    assert any(a.endswith("/cover.svg") for a in seen)


def test_every_json_feed_validates_and_every_navigation_link_resolves(validator) -> None:
    catalogue()
    client = Client()
    seen: set[str] = set()
    queue = ["/opds/v2/"]
    while queue:
        address = queue.pop()
        if address in seen:
            continue
        seen.add(address)
        response = client.get(address)
        assert response.status_code == 200, address
        assert response["Content-Type"] == "application/opds+json"
        document = valid_json(response.content, validator)
        for link in [*document["links"], *document.get("navigation", [])]:
            if link["rel"] in (feeds.SHELF, "http://opds-spec.org/auth/document"):
                continue  # tested in test_opds_borrow.py
            if not link.get("templated"):
                queue.append(path_of(link["href"]))
    assert {"/opds/v2/list/new/", "/opds/v2/by/subjects/", "/opds/v2/by/types/"} <= seen
    new = json.loads(client.get("/opds/v2/list/new/").content)
    assert [p["metadata"]["title"] for p in new["publications"]] == [
        "Kitob 2",
        "Kitob 1",
        "Kitob 0",
    ]
    first = new["publications"][0]
    assert first["metadata"]["language"] == ["uz"]
    assert first["metadata"]["author"] == [{"name": "Qodiriy, Abdulla"}]
    assert first["links"][-1]["rel"] == feeds.OPEN_ACCESS


def test_an_entry_carries_its_description_cover_and_open_access_link(rnc, tmp_path) -> None:
    file = catalogue(1)[0]
    feed = valid_atom(Client().get("/opds/list/new/").content, rnc, tmp_path)
    (entry,) = feed.findall(f"{A}entry")
    assert entry.findtext(f"{A}title") == "Kitob 0"
    assert entry.findtext(f"{A}author/{A}name") == "Qodiriy, Abdulla"
    assert entry.findtext("{http://purl.org/dc/terms/}language") == "uz"
    assert entry.findtext("{http://purl.org/dc/terms/}issued") == "2000"
    assert entry.findtext(f"{A}summary") == "Oʻzbek adabiyotidagi birinchi roman."
    assert [c.get("term") for c in entry.findall(f"{A}category")] == ["Oʻzbek adabiyoti", "book"]
    found = links(entry)
    assert path_of(found[feeds.IMAGE]) == f"/records/{file.record_id}/cover.svg"
    assert path_of(found[feeds.OPEN_ACCESS]) == f"/digital/files/{file.pk}/"
    indirect = entry.find(f"{A}link[@rel='{feeds.OPEN_ACCESS}']/{OPDS}indirectAcquisition")
    assert indirect is not None and indirect.get("type") == "application/pdf"


def test_pages_link_first_previous_next_and_last(rnc, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(feeds, "PAGE_SIZE", 2)
    catalogue(5)
    client = Client()
    first = valid_atom(client.get("/opds/list/new/").content, rnc, tmp_path)
    assert entry_titles(first) == ["Kitob 4", "Kitob 3"]
    assert "previous" not in links(first)
    assert path_of(links(first)["next"]) == "/opds/list/new/?page=2"
    assert path_of(links(first)["last"]) == "/opds/list/new/?page=3"
    second = valid_atom(client.get("/opds/list/new/?page=2").content, rnc, tmp_path)
    assert entry_titles(second) == ["Kitob 2", "Kitob 1"]
    assert path_of(links(second)["previous"]) == "/opds/list/new/"
    assert second.findtext("{http://a9.com/-/spec/opensearch/1.1/}totalResults") == "5"
    last = valid_atom(client.get("/opds/list/new/?page=3").content, rnc, tmp_path)
    assert entry_titles(last) == ["Kitob 0"]
    assert "next" not in links(last)
    paged = json.loads(client.get("/opds/v2/list/new/?page=2").content)
    rels = {link["rel"]: path_of(link["href"]) for link in paged["links"]}
    assert rels["next"] == "/opds/v2/list/new/?page=3"
    assert rels["previous"] == "/opds/v2/list/new/"
    assert paged["metadata"]["numberOfItems"] == 5


def test_search_finds_through_the_search_backend_and_opensearch_describes_it(
    rnc, tmp_path, validator
) -> None:
    book("Samarqand tarixi")
    book("Buxoro xonligi")
    indexing.drain()
    client = Client()
    description = etree.fromstring(client.get("/opds/opensearch.xml").content)
    template = description.find("{http://a9.com/-/spec/opensearch/1.1/}Url").get("template")
    address = path_of(template.replace("{searchTerms}", "samarqand").replace("{startPage?}", "1"))
    feed = valid_atom(client.get(address).content, rnc, tmp_path)
    assert entry_titles(feed) == ["Samarqand tarixi"]
    document = valid_json(client.get("/opds/v2/search/?q=buxoro").content, validator)
    assert [p["metadata"]["title"] for p in document["publications"]] == ["Buxoro xonligi"]
    nothing = valid_json(client.get("/opds/v2/search/?q=zzzyyyxxx").content, validator)
    assert "publications" not in nothing


def test_facet_feeds_list_values_that_lead_to_their_titles(rnc, tmp_path) -> None:
    book("Русская книга", languages=["rus"])
    book("Oʻzbekcha kitob", languages=["uzb"])
    indexing.drain()
    client = Client()
    languages = valid_atom(client.get("/opds/by/languages/").content, rnc, tmp_path)
    targets = {
        e.findtext(f"{A}title"): links(e)["subsection"] for e in languages.findall(f"{A}entry")
    }
    assert set(targets) == {language_name("rus"), language_name("uzb")}
    russian = valid_atom(client.get(path_of(targets[language_name("rus")])).content, rnc, tmp_path)
    assert entry_titles(russian) == ["Русская книга"]


def test_acquisition_and_borrow_links_follow_the_access_policy(make_user, rnc, tmp_path) -> None:
    open_file = book("Ochiq kitob")
    registered = book("Roʻyxatdagilar uchun", access=Access.REGISTERED)
    licensed = book("Litsenziyali kitob", access=Access.LICENSED)
    librarians = book("Faqat kutubxonachilar", access=Access.LIBRARIANS)
    licences.save_licence(licensed.record, copies=1, loan_days=14, by=None)
    indexing.drain()
    reader = make_user()

    def rels(client: Client) -> dict[str, set[str]]:
        feed = valid_atom(client.get("/opds/list/all/").content, rnc, tmp_path)
        return {
            e.findtext(f"{A}title"): {
                link.get("rel")
                for link in e.findall(f"{A}link")
                if "acquisition" in link.get("rel")
            }
            for e in feed.findall(f"{A}entry")
        }

    anonymous = rels(Client())
    assert anonymous["Ochiq kitob"] == {feeds.OPEN_ACCESS}
    assert anonymous["Roʻyxatdagilar uchun"] == {feeds.ACQUISITION}  # after signing in
    assert anonymous["Litsenziyali kitob"] == {feeds.BORROW}
    assert "Faqat kutubxonachilar" not in anonymous  # no file online for readers
    signed_in = Client()
    signed_in.force_login(reader)
    assert rels(signed_in)["Litsenziyali kitob"] == {feeds.BORROW}
    loan_services.borrow(licensed.record, reader, by=reader)
    holding = rels(signed_in)
    assert holding["Litsenziyali kitob"] == {feeds.ACQUISITION}
    assert holding["Ochiq kitob"] == {feeds.OPEN_ACCESS}
    feed = etree.fromstring(signed_in.get("/opds/list/all/").content)
    hrefs = {path_of(link.get("href")) for link in feed.iter(f"{A}link")}
    assert f"/digital/files/{licensed.pk}/" in hrefs
    borrows = {
        path_of(link.get("href"))
        for link in feed.iter(f"{A}link")
        if link.get("rel") == feeds.BORROW
    }
    assert f"/records/{open_file.record_id}/" not in borrows
    assert f"/digital/files/{librarians.pk}/" not in hrefs
    assert registered.pk


def test_a_bearer_token_is_the_reader_and_a_bad_one_is_refused(make_user, validator) -> None:
    licensed = book("Litsenziyali kitob", access=Access.LICENSED)
    licences.save_licence(licensed.record, copies=1, loan_days=14, by=None)
    indexing.drain()
    reader = make_user()
    loan_services.borrow(licensed.record, reader, by=reader)
    _token, secret = account_services.create_access_token(reader, name="e-reader")
    client = Client()
    document = valid_json(
        client.get("/opds/v2/list/all/", HTTP_AUTHORIZATION=f"Bearer {secret}").content, validator
    )
    (publication,) = document["publications"]
    assert [link["rel"] for link in publication["links"]][-2:] == [feeds.ACQUISITION, feeds.REVOKE]
    anonymous = valid_json(client.get("/opds/v2/list/all/").content, validator)
    assert anonymous["publications"][0]["links"][-1]["rel"] == feeds.BORROW
    refused = client.get("/opds/v2/list/all/", HTTP_AUTHORIZATION="Bearer kbx_forged")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_a_reader_never_sees_a_draft_record_but_a_librarian_does(make_user, librarian) -> None:
    draft = book("Qoralama kitob")
    catalogue_services.set_status(draft.record, RecordStatus.DRAFT, by=None)
    book("Nashr etilgan kitob")
    indexing.drain()
    reader = Client()
    reader.force_login(make_user())
    staff = Client()
    staff.force_login(librarian)
    for address in (
        "/opds/list/all/",
        "/opds/list/new/",
        "/opds/search/?q=kitob",
        "/opds/v2/list/new/",
        "/opds/v2/search/?q=qoralama",
    ):
        assert "Qoralama" not in Client().get(address).content.decode(), address
        assert "Qoralama" not in reader.get(address).content.decode(), address
    assert "Qoralama kitob" in staff.get("/opds/list/all/").content.decode()
    subjects = Client().get("/opds/by/subjects/").content.decode()
    assert "Oʻzbek adabiyoti" in subjects


def test_unknown_lists_and_facets_are_not_found() -> None:
    client = Client()
    assert client.get("/opds/list/everything/").status_code == 404
    assert client.get("/opds/v2/by/authors/").status_code == 404


def test_an_open_downloadable_file_is_acquired_as_its_bytes_with_the_reader_beside_it(
    make_user, rnc, tmp_path, validator
) -> None:
    pages = samples.pdf(["Birinchi sahifa"])
    saved = attach(
        record(title="Yuklanadigan kitob"),
        pages,
        name="Kecha va kunduz.PDF",
        access=Access.OPEN,
        downloadable=True,
    )
    read_only = book("Faqat oʻqiladigan kitob")
    registered = book("Roʻyxatdagilar uchun", access=Access.REGISTERED, downloadable=True)
    indexing.drain()
    door = f"/opds/open/{saved.pk}/kecha-va-kunduz.pdf"
    client = Client()

    feed = valid_atom(client.get("/opds/list/all/").content, rnc, tmp_path)
    entries = {e.findtext(f"{A}title"): e for e in feed.findall(f"{A}entry")}
    found = {link.get("rel"): link for link in entries["Yuklanadigan kitob"].findall(f"{A}link")}
    acquisition = found[feeds.OPEN_ACCESS]
    assert path_of(acquisition.get("href")) == door
    assert acquisition.get("type") == "application/pdf"
    assert acquisition.find(f"{OPDS}indirectAcquisition") is None
    assert path_of(found["related"].get("href")) == f"/digital/files/{saved.pk}/"
    assert found["related"].get("type") == "text/html"
    # Not downloadable, or not open to visitors: the reader page, as before.
    for title, rel in (
        ("Faqat oʻqiladigan kitob", feeds.OPEN_ACCESS),
        ("Roʻyxatdagilar uchun", feeds.ACQUISITION),
    ):
        (link,) = entries[title].findall(f"{A}link[@rel='{rel}']")
        assert link.get("type") == "text/html"
        assert link.find(f"{OPDS}indirectAcquisition").get("type") == "application/pdf"

    document = valid_json(client.get("/opds/v2/list/all/").content, validator)
    (publication,) = [
        p for p in document["publications"] if p["metadata"]["title"] == "Yuklanadigan kitob"
    ]
    by_rel = {link["rel"]: link for link in publication["links"]}
    assert path_of(by_rel[feeds.OPEN_ACCESS]["href"]) == door
    assert by_rel[feeds.OPEN_ACCESS]["type"] == "application/pdf"
    assert "properties" not in by_rel[feeds.OPEN_ACCESS]
    readers = [link for link in publication["links"] if link["rel"] == "alternate"]
    assert [path_of(link["href"]) for link in readers] == [
        f"/records/{saved.record_id}/",
        f"/digital/files/{saved.pk}/",
    ]

    # The door gives the bytes themselves, to a visitor and to an app signing in alike.
    response = client.get(door)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.getvalue() == pages
    reader = make_user(password="a-long-passphrase-1")
    basic = base64.b64encode(f"{reader.email}:a-long-passphrase-1".encode()).decode()
    signed_in = client.get(door, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert signed_in.status_code == 200
    assert signed_in.getvalue() == pages
    # Decided again on each request: what is not open and downloadable is refused there.
    for file in (read_only, registered):
        refused = client.get(f"/opds/open/{file.pk}/book.pdf")
        assert refused.status_code == 403
        assert refused["Content-Type"] == "application/problem+json"
    assert client.get(f"/opds/open/{saved.pk + 1000}/book.pdf").status_code == 404


def test_each_range_request_at_the_open_access_door_is_decided_once_and_granted_once_a_day(
    make_user, settings, monkeypatch
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"opds-grants-{uuid.uuid4().hex}",
        }
    }
    pages = samples.pdf(["Birinchi sahifa"])
    saved = attach(record(), pages, access=Access.OPEN, downloadable=True)
    reader = make_user(password="a-long-passphrase-1")
    basic = base64.b64encode(f"{reader.email}:a-long-passphrase-1".encode()).decode()
    decided = count_decisions(monkeypatch)
    for _request in range(2):
        response = Client().get(
            f"/opds/open/{saved.pk}/book.pdf",
            HTTP_AUTHORIZATION=f"Basic {basic}",
            HTTP_RANGE="bytes=0-9",
        )
        assert response.status_code == 206
        assert response["Content-Range"] == f"bytes 0-9/{len(pages)}"
        assert response["Content-Disposition"].startswith("attachment")
        assert response.getvalue() == pages[:10]
    assert decided == [saved, saved]
    granted = Entry.objects.filter(kind="access.granted", subject=saved.subject, reader__gt="")
    assert [json.loads(entry.body)["data"] for entry in granted] == [
        {"reason": "open", "purpose": "download"}
    ]
