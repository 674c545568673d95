"""The reader's digital-loan buttons and page, and the digital loans' JSON API."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import Role, User
from kitobxon.catalogue.models import Record
from kitobxon.core.testing import session_queries
from kitobxon.digital import errors
from kitobxon.digital.models import Access, DigitalLoan, DigitalLoanState, Licence, WaitState
from kitobxon.digital.services import licences
from kitobxon.digital.services import loans as services
from kitobxon.digital.tests import factories

pytestmark = pytest.mark.django_db

API = "/api/digital"


@pytest.fixture
def title(db: None) -> Record:
    return factories.record(title="Kecha va kunduz")


@pytest.fixture
def licence(title: Record) -> Licence:
    return licences.save_licence(title, copies=1, loan_days=14, by=None)


@pytest.fixture
def reader(make_user: Callable[..., User]) -> User:
    return make_user(language="en")


@pytest.fixture
def other(make_user: Callable[..., User]) -> User:
    return make_user(language="en")


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    return make_user(Role.LIBRARIAN, language="en")


def _browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user: User) -> Client:
    _token, secret = accounts.create_access_token(user, name="test")
    return Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _j(value: Any) -> Any:
    """A value as the API writes it (datetimes in UTC with a Z)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _loan_json(loan: DigitalLoan) -> dict[str, Any]:
    loan = DigitalLoan.objects.select_related("licence__record").get(pk=loan.pk)
    return _j(
        {
            "id": loan.pk,
            "record_id": loan.licence.record_id,
            "title": loan.licence.record.title,
            "reader_id": loan.reader_id,
            "state": loan.state,
            "started_at": loan.started_at,
            "due_at": loan.due_at,
            "ended_at": loan.ended_at,
        }
    )


# --- The buttons --------------------------------------------------------------------------


def test_a_reader_borrows_from_the_record_page_and_goes_back_to_it(
    title: Record, licence: Licence, reader: User
) -> None:
    response = _browser(reader).post(reverse("digital:borrow", args=[title.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("catalogue:record", args=[title.pk])
    loan = DigitalLoan.objects.get(reader=reader)
    assert loan.state == DigitalLoanState.ACTIVE
    [message] = _messages(response)
    assert message.startswith("You are borrowing “Kecha va kunduz” until ")


def test_a_refusal_is_shown_in_the_reader_s_language(
    title: Record, licence: Licence, make_user: Callable[..., User]
) -> None:
    services.borrow(title, make_user(), by=None)
    russian = make_user(language="ru")

    response = _browser(russian).post(reverse("digital:borrow", args=[title.pk]))

    assert response.status_code == 302
    with translation.override("ru"):
        assert _messages(response) == [str(errors.NoCopyFree.default_message)]
    assert not DigitalLoan.objects.filter(reader=russian).exists()


def test_the_buttons_take_posts_with_a_csrf_token_only(
    title: Record, licence: Licence, reader: User
) -> None:
    client = _browser(reader)
    assert client.get(reverse("digital:borrow", args=[title.pk])).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reader)
    assert strict.post(reverse("digital:borrow", args=[title.pk])).status_code == 403
    assert not DigitalLoan.objects.exists()


def test_visitors_are_sent_to_sign_in_and_back_to_the_record(
    client: Client, title: Record, licence: Licence
) -> None:
    response = client.post(reverse("digital:borrow", args=[title.pk]))
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("accounts:login") + "?next=" + reverse("catalogue:record", args=[title.pk])
    )


def test_an_unpublished_record_is_not_found(reader: User, licence: Licence, title: Record) -> None:
    Record.objects.filter(pk=title.pk).update(status="draft")
    for name in ("borrow", "wait", "unwait"):
        assert _browser(reader).post(reverse(f"digital:{name}", args=[title.pk])).status_code == 404


def test_a_reader_cannot_return_another_reader_s_loan(
    title: Record, licence: Licence, reader: User, other: User
) -> None:
    loan = services.borrow(title, other, by=None)

    response = _browser(reader).post(reverse("digital:return", args=[loan.pk]))

    assert response.status_code == 404
    loan.refresh_from_db()
    assert loan.state == DigitalLoanState.ACTIVE


def test_a_reader_returns_early_and_goes_back_to_the_page_they_came_from(
    title: Record, licence: Licence, reader: User
) -> None:
    loan = services.borrow(title, reader, by=None)
    account = reverse("digital:account")

    response = _browser(reader).post(reverse("digital:return", args=[loan.pk]), {"next": account})

    assert response["Location"] == account
    loan.refresh_from_db()
    assert loan.state == DigitalLoanState.RETURNED
    # Somewhere else is not "back".
    again = services.borrow(title, reader, by=None)
    response = _browser(reader).post(
        reverse("digital:return", args=[again.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("catalogue:record", args=[title.pk])


def test_a_reader_joins_and_leaves_the_waiting_list(
    title: Record, licence: Licence, reader: User, make_user: Callable[..., User]
) -> None:
    services.borrow(title, make_user(), by=None)
    client = _browser(reader)

    joined = client.post(reverse("digital:wait", args=[title.pk]))
    assert joined["Location"] == reverse("catalogue:record", args=[title.pk])
    assert _messages(joined) == [
        "You are on the waiting list, number 1. We will e-mail you when a copy is free for you."
    ]
    assert reader.digital_waits.get().state == WaitState.WAITING
    twice = client.post(reverse("digital:wait", args=[title.pk]))
    # Messages wait in the session until a page shows them.
    assert _messages(twice)[1:] == ["You are already on the waiting list for this title."]
    left = client.post(reverse("digital:unwait", args=[title.pk]))
    assert _messages(left)[2:] == ["You have left the waiting list for “Kecha va kunduz”."]
    assert reader.digital_waits.get().state == WaitState.CANCELLED


# --- The account page ---------------------------------------------------------------------


def test_the_account_page_lists_loans_offers_and_places_in_queues(
    reader: User, make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    reading = factories.record(title="Oʻqilayotgan kitob")
    licences.save_licence(reading, copies=1, loan_days=14, by=None)
    file = factories.attach(reading, access=Access.LICENSED)
    loan = services.borrow(reading, reader, by=None)
    queued = factories.record(title="Navbatdagi kitob")
    licences.save_licence(queued, copies=1, loan_days=14, by=None)
    services.borrow(queued, make_user(), by=None)
    services.join_waitlist(queued, make_user(), by=None)
    services.join_waitlist(queued, reader, by=None)
    kept = factories.record(title="Saqlangan kitob")
    licences.save_licence(kept, copies=1, loan_days=14, by=None)
    returning = services.borrow(kept, make_user(), by=None)
    services.join_waitlist(kept, reader, by=None)
    services.return_loan(returning, by=None)
    client = _browser(reader)
    client.cookies["django_language"] = "en"

    # The reader and their permissions (4), their loans, the loans' first files, their waits,
    # and their one place in a queue.
    with django_assert_num_queries(8 + session_queries()):
        response = client.get(reverse("digital:account"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{reverse("digital:reader", args=[file.pk])}"' in html
    assert f'action="{reverse("digital:return", args=[loan.pk])}"' in html
    assert "Oʻqilayotgan kitob" in html
    assert "Navbatdagi kitob" in html
    assert "<dt>Place on the waiting list</dt><dd>2</dd>" in html
    assert "Saqlangan kitob" in html
    assert f'action="{reverse("digital:borrow", args=[kept.pk])}"' in html
    assert 'name="next" value="/account/digital/"' in html


def test_the_account_page_is_for_signed_in_readers(client: Client) -> None:
    response = client.get(reverse("digital:account"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_librarian_s_account_page_shows_only_their_own_loans(
    title: Record, licence: Licence, staff: User, reader: User
) -> None:
    services.borrow(title, reader, by=None)
    html = _browser(staff).get(reverse("digital:account")).content.decode()
    assert "Kecha va kunduz" not in html


# --- The JSON API -------------------------------------------------------------------------


def test_a_reader_borrows_and_returns_through_the_api(
    title: Record, licence: Licence, reader: User
) -> None:
    api = _api(reader)

    borrowed = api.post(f"{API}/records/{title.pk}/borrow")

    assert borrowed.status_code == 201
    loan = DigitalLoan.objects.get(reader=reader)
    assert borrowed.json() == _loan_json(loan)
    again = api.post(f"{API}/records/{title.pk}/borrow")
    assert again.status_code == 409
    assert again.json() == {
        "detail": "You are already borrowing this title.",
        "code": "AlreadyBorrowed",
    }

    returned = api.post(f"{API}/loans/{loan.pk}/return")

    assert returned.status_code == 200
    assert returned.json() == _loan_json(loan)
    assert returned.json()["state"] == "returned"
    twice = api.post(f"{API}/loans/{loan.pk}/return")
    assert twice.status_code == 409
    assert twice.json()["code"] == "InvalidTransition"


def test_the_api_answers_404_for_another_reader_s_loan_and_401_without_a_caller(
    title: Record, licence: Licence, reader: User, other: User, client: Client
) -> None:
    loan = services.borrow(title, other, by=None)

    assert _api(reader).post(f"{API}/loans/{loan.pk}/return").json() == {"detail": "Not found."}
    assert _api(reader).post(f"{API}/loans/{loan.pk}/return").status_code == 404
    assert client.post(f"{API}/records/{title.pk}/borrow").status_code == 401
    assert client.get(f"{API}/loans").status_code == 401
    loan.refresh_from_db()
    assert loan.state == DigitalLoanState.ACTIVE


def test_readers_list_their_own_loans_and_librarians_everyone_s(
    title: Record, reader: User, other: User, staff: User
) -> None:
    licences.save_licence(title, copies=3, loan_days=14, by=None)
    mine = services.borrow(title, reader, by=None)
    theirs = services.borrow(title, other, by=None)

    own = _api(reader).get(f"{API}/loans")
    assert own.json() == {"items": [_loan_json(mine)], "count": 1}
    assert _api(reader).get(f"{API}/loans", {"reader": other.pk}).status_code == 403

    everyone = _api(staff).get(f"{API}/loans").json()
    assert [item["id"] for item in everyone["items"]] == [mine.pk, theirs.pk]
    narrowed = _api(staff).get(f"{API}/loans", {"reader": other.pk}).json()
    assert narrowed == {"items": [_loan_json(theirs)], "count": 1}
    # A librarian may return a reader's loan.
    assert _api(staff).post(f"{API}/loans/{theirs.pk}/return").status_code == 200
    assert _api(staff).get(f"{API}/loans", {"state": "returned"}).json()["count"] == 1
    assert _api(staff).get(f"{API}/loans", {"state": "lost"}).status_code == 422


def test_the_waiting_list_through_the_api(
    title: Record, licence: Licence, reader: User, other: User, make_user: Callable[..., User]
) -> None:
    services.borrow(title, make_user(), by=None)
    services.join_waitlist(title, other, by=None)

    joined = _api(reader).post(f"{API}/records/{title.pk}/waitlist")

    assert joined.status_code == 201
    entry = reader.digital_waits.get()
    assert joined.json() == _j(
        {
            "id": entry.pk,
            "record_id": title.pk,
            "title": "Kecha va kunduz",
            "state": "waiting",
            "created_at": entry.created_at,
            "offered_until": None,
            "position": 2,
        }
    )
    twice = _api(reader).post(f"{API}/records/{title.pk}/waitlist")
    assert (twice.status_code, twice.json()["code"]) == (409, "AlreadyWaiting")

    left = _api(reader).delete(f"{API}/records/{title.pk}/waitlist")

    assert left.status_code == 204
    entry.refresh_from_db()
    assert entry.state == WaitState.CANCELLED
    gone = _api(reader).delete(f"{API}/records/{title.pk}/waitlist")
    assert (gone.status_code, gone.json()["code"]) == (409, "NotWaiting")


def test_anyone_reads_how_many_copies_of_a_title_are_free(
    client: Client, title: Record, reader: User, make_user: Callable[..., User]
) -> None:
    licences.save_licence(
        title, copies=2, loan_days=7, valid_until=timezone.localdate() + timedelta(days=30), by=None
    )
    services.borrow(title, make_user(), by=None)

    response = client.get(f"{API}/records/{title.pk}/licence")

    assert response.status_code == 200
    assert response.json() == {
        "record_id": title.pk,
        "copies": 2,
        "loan_days": 7,
        "valid_until": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "valid": True,
        "out": 1,
        "free": 1,
        "waiting": 0,
    }
    untitled = factories.record(title="Litsenziyasiz")
    assert client.get(f"{API}/records/{untitled.pk}/licence").status_code == 404
