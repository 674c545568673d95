from __future__ import annotations

import pytest
from django.test import Client

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import User
from kitobxon.catalogue import services
from kitobxon.catalogue.models import Record, RecordStatus
from kitobxon.catalogue.tests.factories import branch, make_item, make_record

PAYLOAD = {
    "title": "Qaraqalpaq dástanı",
    "contributors": [{"name": "Qayıpbergenov, Tólepbergen", "role": "author"}],
    "publisher": "Qaraqalpaqstan",
    "place": "Nókis",
    "year": 1993,
    "languages": ["kaa"],
    "subjects": ["Qaraqalpaq ádebiyatı"],
    "isbn": ["5-8335-0491-0"],
}


def _bearer(user: User) -> dict[str, str]:
    _token, secret = accounts.create_access_token(user, name="test")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.django_db
def test_anyone_reads_published_records_but_not_drafts(client: Client) -> None:
    published = make_record()
    draft = make_record(title="Qoralama", identifiers=[], work_key="")
    services.set_status(draft, RecordStatus.DRAFT, by=None)
    listing = client.get("/api/records").json()
    assert listing["count"] == 1
    assert listing["items"][0]["id"] == published.pk
    one = client.get(f"/api/records/{published.pk}").json()
    assert one["title"] == "Oʻtkan kunlar"
    assert one["contributors"] == [{"name": "Qodiriy, Abdulla", "role": "author"}]
    assert one["identifiers"] == [
        {
            "scheme": "isbn",
            "value": "978-9943-26-911-8",
            "normalized": "9789943269118",
            "is_valid": True,
        }
    ]
    assert client.get(f"/api/records/{draft.pk}").status_code == 404


@pytest.mark.django_db
def test_a_patron_cannot_write_the_catalogue(patron: User) -> None:
    record = make_record()
    headers = _bearer(patron)
    client = Client()
    assert (
        client.post(
            "/api/records", PAYLOAD, content_type="application/json", headers=headers
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/records/{record.pk}/withdraw",
            {},
            content_type="application/json",
            headers=headers,
        ).status_code
        == 403
    )
    assert Record.objects.count() == 1


@pytest.mark.django_db
def test_a_librarian_creates_updates_and_withdraws_a_record(librarian: User) -> None:
    headers = _bearer(librarian)
    client = Client()
    created = client.post("/api/records", PAYLOAD, content_type="application/json", headers=headers)
    assert created.status_code == 201
    body = created.json()
    assert body["identifiers"][0]["normalized"] == "9785833504918"
    assert body["contributors"] == PAYLOAD["contributors"]

    changed = client.put(
        f"/api/records/{body['id']}",
        {**PAYLOAD, "year": 1994},
        content_type="application/json",
        headers=headers,
    )
    assert changed.status_code == 200 and changed.json()["year"] == 1994

    withdrawn = client.post(
        f"/api/records/{body['id']}/withdraw",
        {"reason": "duplicate"},
        content_type="application/json",
        headers=headers,
    )
    assert withdrawn.json()["status"] == "withdrawn"
    assert Client().get(f"/api/records/{body['id']}").status_code == 404


@pytest.mark.django_db
def test_copies_through_the_api(librarian: User, client: Client) -> None:
    record = make_record()
    make_item(record)
    branch("nukus")
    headers = _bearer(librarian)
    added = client.post(
        f"/api/records/{record.pk}/items",
        {"branch": "nukus", "call_number": "84(5Ў)"},
        content_type="application/json",
        headers=headers,
    )
    assert added.status_code == 201
    assert added.json()["branch"] == "nukus" and len(added.json()["barcode"]) == 14
    listing = Client().get(f"/api/records/{record.pk}/items").json()
    assert len(listing) == 2
    patched = client.patch(
        f"/api/items/{added.json()['id']}",
        {"shelf_location": "2-qavat, 14-javon"},
        content_type="application/json",
        headers=headers,
    )
    assert patched.json()["shelf_location"] == "2-qavat, 14-javon"
    taken = client.post(
        f"/api/records/{record.pk}/items",
        {"branch": "nukus", "barcode": added.json()["barcode"]},
        content_type="application/json",
        headers=headers,
    )
    assert taken.status_code == 409


@pytest.mark.django_db
def test_an_unknown_branch_is_explained(librarian: User, client: Client) -> None:
    record = make_record()
    response = client.post(
        f"/api/records/{record.pk}/items",
        {"branch": "nowhere"},
        content_type="application/json",
        headers=_bearer(librarian),
    )
    assert response.status_code == 422
    assert "nowhere" in response.json()["detail"]
