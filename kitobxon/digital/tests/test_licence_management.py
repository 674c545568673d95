"""Librarians set and remove a title's licence on their page and over the API, under the same
rules; a licence is never removed from under readers borrowing the title. Uploads over the API
take the "chosen reader segments" policy with its segments."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from kitobxon.accounts.models import Role, Segment, User
from kitobxon.catalogue.models import Record
from kitobxon.digital import errors, samples
from kitobxon.digital.models import Access, DigitalFile, DigitalLoan, Licence, WaitlistEntry
from kitobxon.digital.services import licences, loans
from kitobxon.digital.tests.factories import attach, record
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def title() -> Record:
    target = record(title="Oʻtkan kunlar")
    attach(target, access=Access.LICENSED)
    return target


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def put(client: Client, record_id: int, body: dict) -> Any:
    return client.put(
        f"/api/digital/records/{record_id}/licence",
        json.dumps(body),
        content_type="application/json",
    )


# --- The API -------------------------------------------------------------------------------


def test_a_librarian_creates_then_changes_a_licence_over_the_api(
    title: Record, librarian: User
) -> None:
    client = signed_in(librarian)
    created = put(client, title.pk, {"copies": 2, "loan_days": 7, "supplier": "Kitob.uz"})
    assert created.status_code == 201, created.content
    assert created.json() == {
        "record_id": title.pk,
        "copies": 2,
        "loan_days": 7,
        "valid_until": None,
        "valid": True,
        "out": 0,
        "free": 2,
        "waiting": 0,
    }
    changed = put(client, title.pk, {"copies": 3, "loan_days": 14, "valid_until": "2099-01-01"})
    assert changed.status_code == 200
    assert (changed.json()["copies"], changed.json()["valid_until"]) == (3, "2099-01-01")
    licence = Licence.objects.get(record=title)
    assert (licence.copies, licence.loan_days, licence.supplier) == (3, 14, "")


def test_invalid_licence_values_answer_422_in_the_librarian_s_language(
    title: Record, make_user: Callable[..., User]
) -> None:
    russian = signed_in(make_user(Role.LIBRARIAN, language="ru"))
    response = put(russian, title.pk, {"copies": 0, "loan_days": 400})
    assert response.status_code == 422
    with translation.override("ru"):
        sentence = gettext("The request is not valid.")
    assert sentence != "The request is not valid."  # the catalogue has it in Russian
    assert response.json()["detail"] == sentence
    assert set(response.json()["errors"]) == {"copies", "loan_days"}
    assert not Licence.objects.exists()


def test_only_librarians_manage_licences_and_unknown_records_are_not_found(
    title: Record, librarian: User, patron: User
) -> None:
    reader = signed_in(patron)
    assert put(reader, title.pk, {"copies": 1, "loan_days": 7}).status_code == 403
    assert reader.delete(f"/api/digital/records/{title.pk}/licence").status_code == 403
    assert Client().delete(f"/api/digital/records/{title.pk}/licence").status_code == 401
    assert not Licence.objects.exists()
    client = signed_in(librarian)
    assert put(client, 999_999, {"copies": 1, "loan_days": 7}).status_code == 404
    assert client.delete("/api/digital/records/999999/licence").status_code == 404
    assert client.delete(f"/api/digital/records/{title.pk}/licence").status_code == 404


def test_a_licence_is_removed_over_the_api_only_when_nobody_borrows_the_title(
    title: Record, librarian: User, patron: User, make_user: Callable[..., User]
) -> None:
    licence = licences.save_licence(title, copies=1, loan_days=7, by=None)
    loan = loans.borrow(title, patron, by=patron)
    waiting = make_user()
    loans.join_waitlist(title, waiting, by=waiting)
    client = signed_in(librarian)
    url = f"/api/digital/records/{title.pk}/licence"

    refused = client.delete(url)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": str(errors.LicenceInUse.default_message),
        "code": "LicenceInUse",
    }
    assert Licence.objects.filter(pk=licence.pk).exists()

    loans.return_loan(loan, by=patron)  # the copy is offered to the reader waiting
    assert client.delete(url).status_code == 204
    assert not Licence.objects.filter(record=title).exists()
    assert not DigitalLoan.objects.exists()
    assert not WaitlistEntry.objects.exists()
    assert client.get(url).status_code == 404


# --- The librarian's page ------------------------------------------------------------------


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_page_removes_a_licence_and_refuses_while_loans_are_out(
    title: Record, librarian: User, patron: User
) -> None:
    licences.save_licence(title, copies=1, loan_days=7, by=None)
    url = f"/digital/records/{title.pk}/files/"
    client = signed_in(librarian)
    page = client.get(url).content.decode()
    assert 'value="remove_licence"' in page
    assert "Remove licence" in page

    loan = loans.borrow(title, patron, by=patron)
    refused = client.post(url, {"action": "remove_licence"})
    assert refused.status_code == 200  # the page again, saying why
    assert _messages(refused) == [str(errors.LicenceInUse.default_message)]
    assert "1 of 1 copies are out." in refused.content.decode()
    assert Licence.objects.filter(record=title).exists()

    loans.return_loan(loan, by=patron)
    removed = client.post(url, {"action": "remove_licence"})
    assert removed.status_code == 302
    assert _messages(removed) == ["The licence is removed."]
    assert not Licence.objects.filter(record=title).exists()
    assert 'value="remove_licence"' not in client.get(url).content.decode()


def test_removing_a_licence_takes_a_csrf_token_and_a_librarian(
    title: Record, librarian: User, patron: User
) -> None:
    licences.save_licence(title, copies=1, loan_days=7, by=None)
    url = f"/digital/records/{title.pk}/files/"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(librarian)
    assert strict.post(url, {"action": "remove_licence"}).status_code == 403
    assert signed_in(patron).post(url, {"action": "remove_licence"}).status_code == 404
    assert Licence.objects.filter(record=title).exists()


# --- Segments on upload --------------------------------------------------------------------


def _upload(client: Client, record_id: int, **fields: object) -> Any:
    upload = SimpleUploadedFile("kitob.pdf", samples.pdf(["Segment"]))
    return client.post(f"/api/digital/records/{record_id}/files", {"upload": upload, **fields})


def test_an_upload_over_the_api_takes_its_reader_segments(
    librarian: User, make_user: Callable[..., User]
) -> None:
    target = record()
    response = _upload(
        signed_in(librarian),
        target.pk,
        access="segments",
        segments=[Segment.TEACHER, Segment.RESEARCHER],
    )
    assert response.status_code == 201, response.content
    assert response.json()["segments"] == ["researcher", "teacher"]
    file = DigitalFile.objects.get(record=target)
    entry = Entry.objects.filter(subject=file.subject, kind="access.granted").get()
    assert json.loads(entry.body)["data"]["segments"] == ["researcher", "teacher"]
    teacher = signed_in(make_user(segment=Segment.TEACHER))
    student = signed_in(make_user(segment=Segment.STUDENT))
    assert teacher.post(f"/api/digital/files/{file.pk}/open").status_code == 200
    assert student.post(f"/api/digital/files/{file.pk}/open").status_code == 403


def test_an_upload_with_unknown_or_no_segments_is_refused(librarian: User) -> None:
    target = record()
    client = signed_in(librarian)
    unknown = _upload(client, target.pk, access="segments", segments=["astronauts"])
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "Unknown reader segment: astronauts"
    none = _upload(client, target.pk, access="segments")
    assert none.status_code == 422
    assert none.json()["detail"] == "Choose at least one reader segment."
    assert not DigitalFile.objects.filter(record=target).exists()


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"access": "everyone"}, "Unknown access policy."),
        (
            {"access": "segments", "segments": ["pilots", "astronauts"]},
            "Unknown reader segment: astronauts, pilots",
        ),
        ({"access": "segments"}, "Choose at least one reader segment."),
    ],
)
def test_the_page_and_the_api_refuse_a_policy_with_the_same_sentence(
    librarian: User, fields: dict[str, Any], sentence: str
) -> None:
    target = record()
    client = signed_in(librarian)
    api = _upload(client, target.pk, **fields)
    assert (api.status_code, api.json()) == (422, {"detail": sentence})
    upload = SimpleUploadedFile("kitob.pdf", samples.pdf(["Segment"]))
    page = client.post(
        f"/digital/records/{target.pk}/files/", {"action": "upload", "upload": upload, **fields}
    )
    assert page.status_code == 200
    errors = page.context["upload_form"].errors
    assert [message for messages in errors.values() for message in messages] == [sentence]
    file = attach(target)
    changed = client.patch(
        f"/api/digital/files/{file.pk}", json.dumps(fields), content_type="application/json"
    )
    assert (changed.status_code, changed.json()) == (422, {"detail": sentence})
    assert list(DigitalFile.objects.filter(record=target)) == [file]
