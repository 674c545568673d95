"""The record page says what each reader may do with each file and why; librarians manage files
and the licence on their own page; the files API says the same as the pages."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kitobxon.accounts.models import Role, Segment
from kitobxon.digital import samples
from kitobxon.digital.models import Access, DigitalFile, Licence
from kitobxon.digital.services import licences, loans
from kitobxon.digital.tests.factories import attach, record
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


def english(client: Client) -> Client:
    client.cookies["kitobxon_language"] = "en"
    return client


def page(client: Client, record_id: int) -> str:
    response = english(client).get(f"/records/{record_id}/")
    assert response.status_code == 200
    return response.content.decode()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_panel_says_why_for_each_policy(make_user) -> None:
    target = record()
    attach(target, name="open.pdf", access=Access.OPEN, label="Ochiq nusxa")
    attach(target, samples.pdf(["Ikkinchi"]), name="reg.pdf", label="Aʼzolar uchun")
    attach(
        target,
        samples.pdf(["Uchinchi"]),
        name="emb.pdf",
        access=Access.OPEN,
        embargo_until=date(2099, 1, 1),
        label="Embargo",
    )
    anonymous = page(Client(), target.pk)
    assert "Open access." in anonymous
    assert "Sign in to open this file." in anonymous
    assert "Embargoed until" in anonymous
    reader = page(signed_in(make_user(Role.PATRON)), target.pk)
    assert "Open to registered readers." in reader
    assert reader.count('href="/digital/files/') == 2  # read links: open + registered, not embargo
    assert "Manage files" not in reader


def test_a_licensed_title_shows_copies_free_and_the_borrow_button(make_user) -> None:
    target = record()
    attach(target, access=Access.LICENSED)
    licences.save_licence(target, copies=2, loan_days=7, by=None)
    first, second, third = (make_user(Role.PATRON) for _ in range(3))
    assert "Borrow: 2 of 2 copies free." in page(signed_in(first), target.pk)
    loans.borrow(target, first, by=first)
    html = page(signed_in(first), target.pk)
    assert "You are borrowing this title until" in html
    assert "You are borrowing this title." in html  # the file's own reason
    loans.borrow(target, second, by=second)
    html = page(signed_in(third), target.pk)
    assert "Borrow: 0 of 2 copies free." in html
    assert f'action="/digital/records/{target.pk}/wait"' in html


def test_readers_do_not_see_librarian_files_or_the_panel_of_a_record_without_files(
    make_user,
) -> None:
    target = record()
    attach(target, access=Access.LIBRARIANS, label="Ichki hujjat")
    assert "Ichki hujjat" not in page(signed_in(make_user(Role.PATRON)), target.pk)
    assert 'id="digital-heading"' not in page(Client(), record().pk)


def test_librarians_upload_change_and_remove_files_on_their_page(librarian) -> None:
    target = record()
    client = english(signed_in(librarian))
    url = f"/digital/records/{target.pk}/files/"
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("kitob.pdf", samples.pdf(["Salom"]), "application/octet-stream")
    response = client.post(
        url, {"action": "upload", "upload": upload, "label": "Kitob", "access": "open"}
    )
    assert response.status_code == 302
    file = DigitalFile.objects.get(record=target)
    assert (file.label, file.access, file.kind) == ("Kitob", "open", "pdf")
    response = client.post(
        url,
        {
            "action": "change",
            "file": file.pk,
            f"f{file.pk}-label": "Kitob",
            f"f{file.pk}-access": "segments",
            f"f{file.pk}-segments": [Segment.TEACHER],
        },
    )
    assert response.status_code == 302
    file.refresh_from_db()
    assert (file.access, file.segments) == ("segments", ["teacher"])
    refused = client.post(
        url, {"action": "upload", "upload": SimpleUploadedFile("x.pdf", b"<html></html>")}
    )
    assert refused.status_code == 200
    assert "HTML" in refused.content.decode()
    client.post(url, {"action": "licence", "copies": 3, "loan_days": 14})
    assert Licence.objects.get(record=target).copies == 3
    client.post(url, {"action": "remove", "file": file.pk})
    assert not DigitalFile.objects.filter(pk=file.pk).exists()


def test_the_manage_page_is_not_found_for_readers(make_user) -> None:
    target = record()
    reader = signed_in(make_user(Role.PATRON))
    assert reader.get(f"/digital/records/{target.pk}/files/").status_code == 404
    file = attach(target)
    other = attach(record())
    response = signed_in(make_user(Role.LIBRARIAN)).post(
        f"/digital/records/{target.pk}/files/", {"action": "remove", "file": other.pk}
    )
    assert response.status_code == 404
    assert DigitalFile.objects.filter(pk__in=[file.pk, other.pk]).count() == 2


def test_the_files_api_says_what_the_caller_may_do(make_user) -> None:
    target = record()
    open_file = attach(target, access=Access.OPEN)
    licensed = attach(target, samples.pdf(["L"]), access=Access.LICENSED)
    reader = make_user(Role.PATRON)
    rows = english(signed_in(reader)).get(f"/api/digital/records/{target.pk}/files").json()
    assert [(r["id"], r["may_open"], r["reason"]) for r in rows] == [
        (open_file.pk, True, "open"),
        (licensed.pk, False, "borrow"),
    ]
    client = english(signed_in(reader))
    link = client.post(f"/api/digital/files/{open_file.pk}/open")
    assert link.status_code == 200
    assert "/files/" in link.json()["url"]
    refused = client.post(f"/api/digital/files/{licensed.pk}/open")
    assert (refused.status_code, refused.json()["code"]) == (403, "borrow")
    assert refused.json()["detail"] == "Borrow this title to read it."
    hidden = attach(target, samples.pdf(["H"]), access=Access.LIBRARIANS)
    assert client.get(f"/api/digital/files/{hidden.pk}").status_code == 404


def test_librarians_upload_and_change_policies_through_the_api(librarian, make_user) -> None:
    target = record()
    client = signed_in(librarian)
    created = client.post(
        f"/api/digital/records/{target.pk}/files",
        {"upload": SimpleUploadedFile("a.epub", samples.epub([("Bob", "Matn")])), "access": "open"},
    )
    assert created.status_code == 201, created.content
    file_id = created.json()["id"]
    assert created.json()["kind"] == "epub"
    changed = client.patch(
        f"/api/digital/files/{file_id}",
        json.dumps({"access": "registered", "embargo_until": "2099-01-01"}),
        content_type="application/json",
    )
    assert (changed.json()["access"], changed.json()["embargo_until"]) == (
        "registered",
        "2099-01-01",
    )
    assert Entry.objects.filter(subject=f"file:{file_id}", kind="access.granted").count() == 2
    reader = signed_in(make_user(Role.PATRON))
    assert reader.delete(f"/api/digital/files/{file_id}").status_code == 403
    assert client.delete(f"/api/digital/files/{file_id}").status_code == 204


def test_an_app_with_a_personal_access_token_opens_its_link_and_nobody_else_does(
    make_user,
) -> None:
    from kitobxon.accounts.services import create_access_token

    file = attach(record(), samples.pdf(["Token"]), access=Access.REGISTERED)
    reader = make_user(Role.PATRON)
    _token, secret = create_access_token(reader, name="telefon")
    app = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = app.post(f"/api/digital/files/{file.pk}/open").json()["url"]
    response = app.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert Client().get(url).status_code == 403  # the link is the token holder's only
    stranger = Client(HTTP_AUTHORIZATION="Bearer kbx_not-a-token")
    assert stranger.get(url).status_code == 403


def test_a_thumbnail_is_shown_only_to_readers_who_may_open_the_file(
    make_user, django_capture_on_commit_callbacks
) -> None:
    target = record()
    with django_capture_on_commit_callbacks(execute=True):
        registered = attach(target, samples.pdf(["Muqova"]), access=Access.REGISTERED)
    registered.refresh_from_db()
    assert registered.thumbnail
    url = f"/digital/files/{registered.pk}/thumbnail"
    assert Client().get(url).status_code == 404
    response = signed_in(make_user(Role.PATRON)).get(url)
    assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")  # type: ignore[attr-defined]
    assert f'src="{url}"' in page(signed_in(make_user(Role.PATRON)), target.pk)
    assert f'src="{url}"' not in page(Client(), target.pk)
