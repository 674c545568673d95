"""Circulation's JSON API: readers act on their own things, librarians on anyone's; exact JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import Role, User
from kitobxon.catalogue.models import Branch, Item, Record
from kitobxon.circulation import services
from kitobxon.circulation.models import ChargeKind, Loan
from kitobxon.circulation.tests.factories import MONDAY

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "Not found."}
LIBRARIANS_ONLY = {"detail": "Only librarians may do this."}


def _j(value: Any) -> Any:
    """A value as the API writes it (datetimes in UTC with a Z, decimals as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@pytest.fixture
def reader(make_user: Callable[..., User]) -> User:
    return make_user(language="en")


@pytest.fixture
def other(make_user: Callable[..., User]) -> User:
    return make_user(language="en")


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    return make_user(Role.LIBRARIAN, language="en")


def _client(user: User) -> Client:
    _token, secret = accounts.create_access_token(user, name="test")
    return Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})


def _loan_json(loan: Loan, **changes: Any) -> dict[str, Any]:
    loan.refresh_from_db()
    body = {
        "id": loan.pk,
        "item_id": loan.item_id,
        "barcode": loan.item.barcode,
        "record_id": loan.item.record_id,
        "title": "Oʻtkan kunlar",
        "patron_id": loan.patron_id,
        "branch": "toshkent",
        "state": loan.state,
        "loaned_at": _j(loan.loaned_at),
        "due_at": _j(loan.due_at),
        "renewals": loan.renewals,
        "renewed_at": _j(loan.renewed_at),
        "returned_at": _j(loan.returned_at),
        "overdue": loan.is_overdue,
    }
    return {**body, **changes}


def test_a_reader_sees_only_their_own_loans(
    reader: User, other: User, make_copy: Callable[..., Item]
) -> None:
    mine = services.check_out(make_copy(), reader, by=None, at=MONDAY)
    theirs = services.check_out(make_copy(), other, by=None, at=MONDAY)
    client = _client(reader)
    listing = client.get("/api/loans")
    assert listing.status_code == 200
    assert listing.json() == {
        "items": [
            {
                "id": mine.pk,
                "item_id": mine.item_id,
                "barcode": mine.item.barcode,
                "record_id": mine.item.record_id,
                "title": "Oʻtkan kunlar",
                "patron_id": reader.pk,
                "branch": "toshkent",
                "state": "active",
                "loaned_at": "2025-03-03T05:00:00Z",
                "due_at": "2025-03-17T18:59:59Z",
                "renewals": 0,
                "renewed_at": None,
                "returned_at": None,
                "overdue": True,
            }
        ],
        "count": 1,
    }
    assert client.get(f"/api/loans/{mine.pk}").json()["id"] == mine.pk
    response = client.get(f"/api/loans/{theirs.pk}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    response = client.post(f"/api/loans/{theirs.pk}/renew")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    # Asking for someone else's list is the librarians' business.
    response = client.get(f"/api/loans?patron={other.pk}")
    assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    assert Client().get("/api/loans").status_code == 401


def test_a_librarian_lists_a_readers_loans(
    reader: User, staff: User, make_copy: Callable[..., Item]
) -> None:
    loan = services.check_out(make_copy(), reader, by=None, at=MONDAY)
    client = _client(staff)
    assert client.get("/api/loans").json() == {"items": [], "count": 0}
    body = client.get(f"/api/loans?patron={reader.pk}&state=all").json()
    assert body == {"items": [_loan_json(loan)], "count": 1}
    response = client.get("/api/loans?state=borrowed")
    assert (response.status_code, response.json()) == (
        422,
        {"detail": "Unknown state: borrowed"},
    )


def test_a_librarian_checks_out_by_barcode_and_card(
    reader: User, other: User, staff: User, copy: Item
) -> None:
    payload = {"item": copy.barcode, "patron": reader.card_number}
    response = _client(reader).post("/api/loans", payload, content_type="application/json")
    assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    client = _client(staff)
    response = client.post("/api/loans", payload, content_type="application/json")
    assert response.status_code == 201
    loan = Loan.objects.get()
    assert response.json() == _loan_json(loan, overdue=False)
    assert loan.patron_id == reader.pk
    again = client.post(
        "/api/loans",
        {"item": copy.barcode, "patron": other.card_number},
        content_type="application/json",
    )
    assert (again.status_code, again.json()) == (
        409,
        {"detail": "This copy is not available for loan.", "code": "ItemNotAvailable"},
    )
    unknown = client.post(
        "/api/loans",
        {"item": copy.barcode, "patron": "0000"},
        content_type="application/json",
    )
    assert (unknown.status_code, unknown.json()) == (
        422,
        {"detail": "No reader has this library card number."},
    )


def test_a_reader_renews_online_and_is_refused_when_someone_waits(
    reader: User, other: User, record: Record, copy: Item, desk: Branch
) -> None:
    loan = services.check_out(copy, reader, by=None)
    client = _client(reader)
    response = client.post(f"/api/loans/{loan.pk}/renew")
    assert response.status_code == 200
    assert response.json() == _loan_json(loan, renewals=1, overdue=False)
    services.place_hold(record, other, pickup_branch=desk, by=None)
    response = client.post(f"/api/loans/{loan.pk}/renew")
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": "Another reader is waiting for this title, so it cannot be renewed.",
            "code": "HoldWaiting",
        },
    )


def test_a_librarian_checks_in_and_the_loan_forgets_its_reader(
    reader: User, staff: User, copy: Item, desk: Branch
) -> None:
    loan = services.check_out(copy, reader, by=None)
    payload = {"item": copy.barcode, "branch": "toshkent"}
    response = _client(reader).post("/api/returns", payload, content_type="application/json")
    assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    response = _client(staff).post("/api/returns", payload, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {
        "loan": _loan_json(loan, patron_id=None, state="returned", overdue=False),
        "fine": "0.00",
        "routed": {"status": "available", "hold_id": None, "to_branch": None},
    }


def test_only_librarians_declare_a_loan_lost_or_claimed_returned(
    reader: User, staff: User, make_copy: Callable[..., Item]
) -> None:
    lost = services.check_out(make_copy(price="50000"), reader, by=None)
    claimed = services.check_out(make_copy(), reader, by=None)
    mine = _client(reader)
    for path in (f"/api/loans/{lost.pk}/lost", f"/api/loans/{claimed.pk}/claims-returned"):
        response = mine.post(path)
        assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    client = _client(staff)
    response = client.post(f"/api/loans/{lost.pk}/lost")
    assert response.status_code == 200
    assert response.json() == _loan_json(lost, state="lost", overdue=False)
    response = client.post(f"/api/loans/{claimed.pk}/claims-returned")
    assert response.json() == _loan_json(claimed, state="claims_returned", overdue=False)
    response = client.post(f"/api/loans/{lost.pk}/claims-returned")
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": "This cannot be done in the current state of the loan or hold.",
            "code": "InvalidTransition",
        },
    )
    charges = mine.get("/api/charges").json()
    assert charges["balance"] == "50000.00"
    assert [(c["kind"], c["amount"]) for c in charges["items"]] == [("lost", "50000.00")]


def test_a_reader_places_suspends_resumes_and_cancels_a_hold(
    reader: User, other: User, record: Record, copy: Item, desk: Branch, nukus: Branch
) -> None:
    services.check_out(copy, other, by=None)
    client = _client(reader)
    response = client.post(
        "/api/holds",
        {"record": record.pk, "pickup_branch": "nukus"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    hold_id = body["id"]
    expected = {
        "id": hold_id,
        "record_id": record.pk,
        "title": "Oʻtkan kunlar",
        "item_id": None,
        "patron_id": reader.pk,
        "pickup_branch": "nukus",
        "state": "waiting",
        "position": 1,
        "placed_at": body["placed_at"],
        "expires_on": (timezone.localdate() + timedelta(days=180)).isoformat(),
        "suspended_until": None,
        "pickup_by": None,
    }
    assert body == expected
    assert client.get("/api/holds").json() == [expected]
    again = client.post(
        "/api/holds",
        {"record": record.pk, "pickup_branch": "nukus"},
        content_type="application/json",
    )
    assert (again.status_code, again.json()) == (
        409,
        {"detail": "You already have a hold on this title.", "code": "AlreadyOnHold"},
    )
    until = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.post(
        f"/api/holds/{hold_id}/suspend", {"until": until}, content_type="application/json"
    )
    assert response.json() == {**expected, "state": "suspended", "suspended_until": until}
    past = client.post(
        f"/api/holds/{hold_id}/suspend",
        {"until": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    assert (past.status_code, past.json()) == (
        409,
        {"detail": "Choose a date in the future.", "code": "InvalidDate"},
    )
    assert client.post(f"/api/holds/{hold_id}/resume").json() == expected
    # Another reader cannot touch it.
    stranger = _client(other)
    for path in (f"/api/holds/{hold_id}", f"/api/holds/{hold_id}/cancel"):
        response = stranger.get(path) if path.endswith(str(hold_id)) else stranger.post(path)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    response = client.post(f"/api/holds/{hold_id}/cancel")
    assert response.json() == {
        **expected,
        "state": "cancelled",
        "position": None,
        "patron_id": None,
    }
    assert client.get("/api/holds").json() == []


def test_placing_a_hold_for_another_reader_is_for_librarians(
    reader: User, other: User, staff: User, record: Record, copy: Item, desk: Branch
) -> None:
    payload = {"record": record.pk, "pickup_branch": "toshkent", "patron": other.card_number}
    response = _client(reader).post("/api/holds", payload, content_type="application/json")
    assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    response = _client(staff).post("/api/holds", payload, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["patron_id"] == other.pk
    listing = _client(staff).get(f"/api/holds?patron={other.pk}").json()
    assert [h["id"] for h in listing] == [response.json()["id"]]


def test_librarians_record_payments_and_waivers_and_readers_see_their_balance(
    reader: User, other: User, staff: User
) -> None:
    debit = services.charge(reader.pk, ChargeKind.DAMAGE, Decimal("15000"), by=None, note="torn")
    client = _client(staff)
    payment = {"patron": reader.card_number, "amount": "5000", "note": "cash"}
    response = _client(reader).post(
        "/api/charges/payments", payment, content_type="application/json"
    )
    assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    response = client.post("/api/charges/payments", payment, content_type="application/json")
    assert response.status_code == 201
    paid = response.json()
    assert paid == {
        "id": paid["id"],
        "patron_id": reader.pk,
        "loan_id": None,
        "kind": "payment",
        "amount": "-5000.00",
        "note": "cash",
        "created_at": paid["created_at"],
    }
    too_much = client.post(
        "/api/charges/waivers",
        {"patron": reader.card_number, "amount": "20000", "reason": "kind"},
        content_type="application/json",
    )
    assert (too_much.status_code, too_much.json()) == (
        409,
        {"detail": "The amount is more than the reader owes.", "code": "AmountExceedsBalance"},
    )
    waived = client.post(
        "/api/charges/waivers",
        {"patron": reader.card_number, "amount": "10000", "reason": "first time"},
        content_type="application/json",
    ).json()
    mine = _client(reader).get("/api/charges")
    assert mine.json() == {
        "balance": "0.00",
        "items": [
            {
                "id": debit.pk,
                "patron_id": reader.pk,
                "loan_id": None,
                "kind": "damage",
                "amount": "15000.00",
                "note": "torn",
                "created_at": _j(debit.created_at),
            },
            paid,
            waived,
        ],
    }
    assert client.get(f"/api/charges?patron={reader.pk}").json() == mine.json()
    response = _client(other).get(f"/api/charges?patron={reader.pk}")
    assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    assert _client(other).get("/api/charges").json() == {"balance": "0.00", "items": []}


def test_librarians_read_why_a_reader_may_not_borrow(reader: User, staff: User) -> None:
    block = services.add_block(reader, reason="Unpaid damage", by=staff)
    response = _client(reader).get(f"/api/readers/{reader.pk}/blocks")
    assert (response.status_code, response.json()) == (403, LIBRARIANS_ONLY)
    response = _client(staff).get(f"/api/readers/{reader.pk}/blocks")
    assert response.json() == {
        "patron_id": reader.pk,
        "may_borrow": False,
        "reasons": [{"code": "BlockedByLibrarian", "detail": "Unpaid damage"}],
        "blocks": [
            {
                "id": block.pk,
                "reason": "Unpaid damage",
                "since": _j(block.created_at),
                "until": None,
            }
        ],
    }
    assert _client(staff).get("/api/readers/999999/blocks").status_code == 404
