"""Borrowing through OPDS as reading apps do: OPDS Authentication, the borrow and revoke links,
the bytes behind a loan, the waiting list, and the reader's shelf, in OPDS 1.2 and 2.0."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from lxml import etree

from conftest import PASSWORD
from kitobxon.accounts import services as account_services
from kitobxon.digital import samples
from kitobxon.digital.models import Access, DigitalLoan, DigitalLoanState, WaitlistEntry
from kitobxon.digital.services import licences
from kitobxon.digital.tests.factories import attach, record
from kitobxon.protocols.opds import feeds
from kitobxon.protocols.tests import test_opds
from kitobxon.protocols.tests.test_opds import path_of, schemas, valid_atom, valid_json
from kitobxon.search import indexing

pytestmark = pytest.mark.django_db

# The catalogue tests' fixtures: validators of both formats, and a storage of its own.
rnc = test_opds.rnc
validator = test_opds.validator
_own_storage = test_opds._own_storage

A = "{http://www.w3.org/2005/Atom}"
OPDS = "{http://opds-spec.org/2010/catalog}"
AUTH_TYPE = "application/opds-authentication+json"
AUTH_REL = "http://opds-spec.org/auth/document"


@pytest.fixture(scope="session")
def json_schema() -> Any:
    """Validators for one OPDS 2.0 publication and for the authentication document."""
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    resources = []
    for path in sorted(schemas().rglob("*.schema.json")):
        text = re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", path.read_text())
        contents = json.loads(text)
        resources.append((contents["$id"], referencing.Resource.from_contents(contents)))
    registry = referencing.Registry().with_resources(resources)

    def make(uri: str) -> Any:
        return jsonschema.Draft7Validator(
            registry.contents(uri),
            registry=registry,
            format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
        )

    return {
        "publication": make("https://specs.opds.io/schema/publication.schema.json"),
        "authentication": make("https://drafts.opds.io/schema/authentication.schema.json"),
    }


def valid(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    errors = sorted(schema.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    return document


def basic(login: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def licensed_title(title: str = "Litsenziyali kitob", copies: int = 1) -> tuple[Any, bytes]:
    data = samples.pdf([f"{title}: birinchi sahifa", "Ikkinchi sahifa"])
    file = attach(record(title=title), data=data, access=Access.LICENSED)
    licences.save_licence(file.record, copies=copies, loan_days=14, by=None)
    indexing.drain()
    return file, data


def link(entry: etree._Element, rel: str) -> etree._Element:
    (found,) = entry.findall(f"{A}link[@rel='{rel}']")
    return found


def availability(element: etree._Element) -> dict[str, dict[str, str]]:
    return {
        name: dict(element.find(f"{OPDS}{name}").attrib)
        for name in ("availability", "holds", "copies")
    }


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_borrow_without_credentials_is_asked_to_authenticate(json_schema) -> None:
    file, _data = licensed_title()
    client = Client()
    response = client.get(f"/opds/borrow/{file.record_id}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Kitobxon", charset="UTF-8"'
    assert response["Content-Type"] == AUTH_TYPE
    document = valid(json.loads(response.content), json_schema["authentication"])
    assert document["authentication"] == [
        {
            "type": "http://opds-spec.org/auth/basic",
            "labels": {"login": "Library card number or e-mail", "password": "Password"},
        }
    ]
    assert path_of(document["id"]) == "/opds/authentication"
    assert {link["rel"]: path_of(link["href"]) for link in document["links"]}["register"] == (
        "/accounts/register/"
    )
    served = client.get("/opds/authentication")
    assert served["Content-Type"] == AUTH_TYPE
    assert json.loads(served.content) == document
    assert not DigitalLoan.objects.exists()


def test_every_feed_links_to_the_authentication_document_and_the_root_to_the_shelf(
    rnc, tmp_path, validator
) -> None:
    licensed_title()
    client = Client()
    root = valid_atom(client.get("/opds/").content, rnc, tmp_path)
    rels = {e.get("rel"): (path_of(e.get("href")), e.get("type")) for e in root.findall(f"{A}link")}
    assert rels[AUTH_REL] == ("/opds/authentication", AUTH_TYPE)
    assert rels[feeds.SHELF][0] == "/opds/shelf/"
    listing = valid_atom(client.get("/opds/list/all/").content, rnc, tmp_path)
    assert path_of(listing.find(f"{A}link[@rel='{AUTH_REL}']").get("href")) == (
        "/opds/authentication"
    )
    document = valid_json(client.get("/opds/v2/").content, validator)
    json_rels = {link["rel"]: path_of(link["href"]) for link in document["links"]}
    assert json_rels[AUTH_REL] == "/opds/authentication"
    assert json_rels[feeds.SHELF] == "/opds/v2/shelf/"
    assert client.get("/opds/shelf/").status_code == 401


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_login(make_user) -> None:
    file, _data = licensed_title()
    reader = make_user()
    client = Client()
    address = f"/opds/borrow/{file.record_id}/"
    wrong = client.get(address, headers=basic(reader.card_number, "not the password"))
    assert wrong.status_code == 401
    assert wrong["Content-Type"] == AUTH_TYPE
    assert client.get(address, HTTP_AUTHORIZATION="Basic !!notbase64").status_code == 401
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.get(address, headers=basic(reader.card_number, "guessing"))
    locked = client.get(address, headers=basic(reader.card_number))
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    assert json.loads(locked.content)["code"] == "locked-out"
    assert int(locked["Retry-After"]) == 900
    assert not DigitalLoan.objects.exists()


def test_a_checked_login_is_remembered_briefly_and_forgotten_when_the_password_changes(
    make_user, monkeypatch
) -> None:
    from django.contrib.auth.hashers import MD5PasswordHasher

    file, _data = licensed_title()
    reader = make_user()
    checks: list[str] = []
    verify = MD5PasswordHasher.verify

    def counted(self: MD5PasswordHasher, password: str, encoded: str) -> bool:
        checks.append(password)
        return verify(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counted)
    client = Client()
    address = f"/opds/borrow/{file.record_id}/"
    assert client.get(address, headers=basic(reader.card_number)).status_code == 201
    assert client.get(address, headers=basic(reader.card_number)).status_code == 200
    assert client.get("/opds/shelf/", headers=basic(reader.card_number)).status_code == 200
    assert len(checks) == 1  # one password check for three requests
    reader.set_password("a brand new passphrase")
    reader.save()
    # The remembered login belonged to the old password: refused at once, not in 5 minutes.
    assert client.get(address, headers=basic(reader.card_number)).status_code == 401
    renewed = client.get(address, headers=basic(reader.card_number, "a brand new passphrase"))
    assert renewed.status_code == 200


def test_basic_by_card_number_borrows_and_the_entry_leads_to_the_files_bytes(
    make_user, rnc, tmp_path
) -> None:
    file, data = licensed_title()
    reader = make_user()
    client = Client()
    response = client.get(f"/opds/borrow/{file.record_id}/", headers=basic(reader.card_number))
    assert response.status_code == 201
    assert response["Content-Type"] == "application/atom+xml;type=entry;profile=opds-catalog"
    entry = valid_atom(response.content, rnc, tmp_path)
    assert entry.tag == f"{A}entry"
    assert entry.findtext(f"{A}title") == "Litsenziyali kitob"
    loan = DigitalLoan.objects.get(reader=reader, state=DigitalLoanState.ACTIVE)
    acquisition = link(entry, feeds.ACQUISITION)
    assert acquisition.get("type") == "application/pdf"
    assert availability(acquisition) == {
        "availability": {
            "status": "available",
            "since": loan.started_at.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "until": loan.due_at.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        },
        "holds": {"total": "0"},
        "copies": {"total": "1", "available": "0"},
    }
    assert path_of(link(entry, feeds.REVOKE).get("href")) == f"/opds/revoke/{file.record_id}/"
    assert not entry.findall(f"{A}link[@rel='{feeds.BORROW}']")

    bytes_url = path_of(acquisition.get("href"))
    assert bytes_url.startswith("/opds/files/")
    assert "sessionid" not in client.cookies
    served = client.get(bytes_url, headers=basic(reader.card_number))
    assert served.status_code == 200
    assert hashlib.sha256(body(served)).hexdigest() == hashlib.sha256(data).hexdigest()
    assert client.get(bytes_url).status_code == 401  # the link alone is not enough
    stranger = make_user()
    assert client.get(bytes_url, headers=basic(stranger.card_number)).status_code == 403

    again = client.post(f"/opds/borrow/{file.record_id}/", headers=basic(reader.email))
    assert again.status_code == 200
    assert DigitalLoan.objects.filter(reader=reader).count() == 1


def test_a_second_reader_is_reserved_first_in_line_and_a_return_frees_the_copy(
    make_user, rnc, tmp_path
) -> None:
    file, _data = licensed_title()
    first, second = make_user(), make_user()
    client = Client()
    address = f"/opds/borrow/{file.record_id}/"
    assert client.get(address, headers=basic(first.card_number)).status_code == 201

    reserved = client.get(address, headers=basic(second.card_number))
    assert reserved.status_code == 201
    entry = valid_atom(reserved.content, rnc, tmp_path)
    borrow = link(entry, feeds.BORROW)
    state = availability(borrow)
    assert state["availability"]["status"] == "reserved"
    assert state["holds"] == {"total": "1", "position": "1"}
    assert state["copies"] == {"total": "1", "available": "0"}
    assert borrow.find(f"{OPDS}indirectAcquisition").get("type") == "application/pdf"
    assert not entry.findall(f"{A}link[@rel='{feeds.ACQUISITION}']")
    assert (
        client.get(address, headers=basic(second.card_number)).status_code == 200
    )  # still waiting
    assert WaitlistEntry.objects.filter(reader=second).count() == 1

    returned = client.get(f"/opds/revoke/{file.record_id}/", headers=basic(first.card_number))
    assert returned.status_code == 200
    after = valid_atom(returned.content, rnc, tmp_path)
    assert not after.findall(f"{A}link[@rel='{feeds.REVOKE}']")
    assert availability(link(after, feeds.BORROW))["availability"]["status"] == "unavailable"

    shelf = valid_atom(
        client.get("/opds/shelf/", headers=basic(second.card_number)).content, rnc, tmp_path
    )
    (waiting,) = shelf.findall(f"{A}entry")
    assert availability(link(waiting, feeds.BORROW))["availability"]["status"] == "ready"
    taken = client.get(address, headers=basic(second.card_number))
    assert taken.status_code == 201
    mine = valid_atom(taken.content, rnc, tmp_path)
    assert availability(link(mine, feeds.ACQUISITION))["availability"]["status"] == "available"
    assert DigitalLoan.objects.get(state=DigitalLoanState.ACTIVE).reader == second


def test_a_reader_leaves_the_waiting_list_through_the_revoke_link(make_user) -> None:
    file, _data = licensed_title()
    first, second = make_user(), make_user()
    client = Client()
    client.get(f"/opds/borrow/{file.record_id}/", headers=basic(first.card_number))
    client.get(f"/opds/borrow/{file.record_id}/", headers=basic(second.card_number))
    left = client.post(f"/opds/revoke/{file.record_id}/", headers=basic(second.card_number))
    assert left.status_code == 200
    assert not WaitlistEntry.objects.filter(reader=second, state__in=["waiting", "offered"])
    nothing = client.post(f"/opds/revoke/{file.record_id}/", headers=basic(second.card_number))
    assert nothing.status_code == 404
    assert json.loads(nothing.content)["detail"] == (
        "You neither borrow this title nor wait for it."
    )


def test_a_session_cookie_alone_cannot_borrow_nor_can_another_site(make_user) -> None:
    file, _data = licensed_title()
    reader = make_user()
    browser = Client()
    browser.force_login(reader)
    address = f"/opds/borrow/{file.record_id}/"
    assert browser.get(address).status_code == 401
    assert browser.post(address).status_code == 401
    assert browser.get("/opds/shelf/").status_code == 200  # reading the shelf is fine
    forged = Client().get(
        address, headers={**basic(reader.card_number), "Sec-Fetch-Site": "cross-site"}
    )
    assert forged.status_code == 403
    assert forged["Content-Type"] == "application/problem+json"
    assert not DigitalLoan.objects.exists()


def test_refusals_are_problem_documents_with_the_readers_sentence(make_user) -> None:
    file, _data = licensed_title()
    licences.save_licence(
        file.record,
        copies=1,
        loan_days=14,
        valid_until=timezone.localdate() - timedelta(days=1),
        by=None,
    )
    unlicensed = attach(record(title="Litsenziyasiz"), access=Access.LICENSED)
    reader = make_user()
    client = Client()
    ended = client.get(f"/opds/borrow/{file.record_id}/", headers=basic(reader.card_number))
    assert ended.status_code == 403
    assert ended["Content-Type"] == "application/problem+json"
    assert json.loads(ended.content) == {
        "type": "about:blank",
        "title": "The request was refused.",
        "status": 403,
        "detail": "The library's licence for this title has expired.",
        "code": "licence-expired",
    }
    missing = client.get(f"/opds/borrow/{unlicensed.record_id}/", headers=basic(reader.card_number))
    assert missing.status_code == 404
    assert json.loads(missing.content)["detail"] == "This title cannot be borrowed online."
    assert client.get("/opds/borrow/999999/", headers=basic(reader.card_number)).status_code == 404


def test_opds2_borrows_with_a_bearer_token_and_validates(make_user, validator, json_schema) -> None:
    file, data = licensed_title()
    reader = make_user()
    _token, secret = account_services.create_access_token(reader, name="Thorium")
    bearer = {"Authorization": f"Bearer {secret}"}
    client = Client()
    listing = valid_json(client.get("/opds/v2/list/all/", headers=bearer).content, validator)
    (publication,) = listing["publications"]
    borrow = publication["links"][-1]
    assert borrow["rel"] == feeds.BORROW
    assert path_of(borrow["href"]) == f"/opds/v2/borrow/{file.record_id}/"
    assert borrow["type"] == "application/opds-publication+json"
    properties = borrow["properties"]
    assert properties["indirectAcquisition"] == [{"type": "application/pdf"}]
    assert path_of(properties["authenticate"]["href"]) == "/opds/authentication"
    assert properties["availability"] == {"state": "available"}
    assert properties["copies"] == {"total": 1, "available": 1}

    response = client.get(path_of(borrow["href"]), headers=bearer)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/opds-publication+json"
    document = valid(json.loads(response.content), json_schema["publication"])
    acquisition = next(x for x in document["links"] if x["rel"] == feeds.ACQUISITION)
    assert acquisition["type"] == "application/pdf"
    assert acquisition["properties"]["availability"]["state"] == "available"
    assert {x["rel"] for x in document["links"]} >= {feeds.REVOKE}
    served = client.get(path_of(acquisition["href"]), headers=bearer)
    assert hashlib.sha256(body(served)).hexdigest() == hashlib.sha256(data).hexdigest()

    shelf = valid_json(client.get("/opds/v2/shelf/", headers=bearer).content, validator)
    assert [p["metadata"]["title"] for p in shelf["publications"]] == ["Litsenziyali kitob"]
    revoke = next(x for x in shelf["publications"][0]["links"] if x["rel"] == feeds.REVOKE)
    assert client.delete(path_of(revoke["href"]), headers=bearer).status_code == 200
    assert not DigitalLoan.objects.filter(state=DigitalLoanState.ACTIVE).exists()
    assert client.get("/opds/v2/borrow/1/", HTTP_AUTHORIZATION="Bearer kbx_forged").status_code == (
        401
    )


def test_the_shelf_lists_loans_then_waits_with_their_links(make_user, rnc, tmp_path) -> None:
    mine, _data = licensed_title("Oʻqilayotgan kitob")
    busy, _other = licensed_title("Band kitob")
    reader, other = make_user(), make_user()
    client = Client()
    client.get(f"/opds/borrow/{busy.record_id}/", headers=basic(other.card_number))
    client.get(f"/opds/borrow/{busy.record_id}/", headers=basic(reader.card_number))
    client.get(f"/opds/borrow/{mine.record_id}/", headers=basic(reader.card_number))
    response = client.get("/opds/shelf/", headers=basic(reader.card_number))
    assert response["Cache-Control"] == "private, no-store"
    shelf = valid_atom(response.content, rnc, tmp_path)
    entries = shelf.findall(f"{A}entry")
    assert [e.findtext(f"{A}title") for e in entries] == ["Oʻqilayotgan kitob", "Band kitob"]
    assert availability(link(entries[0], feeds.ACQUISITION))["availability"]["status"] == (
        "available"
    )
    assert availability(link(entries[1], feeds.BORROW))["availability"]["status"] == "reserved"
    assert all(link(e, feeds.REVOKE) is not None for e in entries)
    others = valid_atom(
        client.get("/opds/shelf/", headers=basic(other.card_number)).content, rnc, tmp_path
    )
    assert [e.findtext(f"{A}title") for e in others.findall(f"{A}entry")] == ["Band kitob"]
