"""Who gets a signed link, and who gets bytes through it: decided again on every request."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _

from kitobxon.accounts.models import Segment, User
from kitobxon.catalogue import services as catalogue
from kitobxon.catalogue.models import RecordStatus
from kitobxon.digital import errors, links
from kitobxon.digital.models import Access, DigitalFile, DigitalLoan, DigitalLoanState
from kitobxon.digital.services import access, licences, loans
from kitobxon.digital.services import files as file_services
from kitobxon.digital.tests import factories
from kitobxon.ledger.models import Entry
from kitobxon.ledger.services import pseudonym


@pytest.fixture(autouse=True)
def _fresh_grants(settings: Any) -> None:
    """Each test its own cache: "granted today" keys name the file and reader ids, which a
    rolled-back SQLite database hands out again (clearing a shared Redis would hit others)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"grants-{uuid.uuid4().hex}",
        }
    }


def opening(user: Any, file: DigitalFile, purpose: str = "view", ip: str = "127.0.0.1") -> str:
    """``open_file`` as a page or API call makes it, for ``user`` at address ``ip``."""
    request = RequestFactory().get("/", REMOTE_ADDR=ip)
    request.user = user
    return access.open_file(request, file, purpose=purpose)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def grants(file: DigitalFile) -> list[dict[str, Any]]:
    entries = Entry.objects.filter(kind="access.granted", subject=file.subject, reader__gt="")
    return [json.loads(entry.body) for entry in entries.order_by("id")]


# --- open_file --------------------------------------------------------------------------------


def test_a_registered_reader_gets_a_link_that_serves_the_file(
    patron: User, patron_client: Client
) -> None:
    file = factories.attach(access=Access.REGISTERED)
    url = opening(patron, file)
    assert url.startswith("/files/") and url.endswith("/book.pdf")
    response = patron_client.get(url)
    assert response.status_code == 200
    assert response["ETag"] == f'"{file.sha256}"'


def test_an_anonymous_reader_is_refused_a_registered_file(db: None) -> None:
    file = factories.attach(access=Access.REGISTERED)
    with pytest.raises(errors.AccessDenied) as refused:
        opening(AnonymousUser(), file)
    assert refused.value.message == _("Sign in to open this file.")


def test_an_anonymous_reader_opens_an_open_file_without_a_ledger_entry(db: None) -> None:
    file = factories.attach(access=Access.OPEN)
    url = opening(AnonymousUser(), file)
    assert Client().get(url).status_code == 200
    assert grants(file) == []


def test_a_download_link_needs_a_downloadable_file(patron: User) -> None:
    file = factories.attach(access=Access.REGISTERED, downloadable=False)
    with pytest.raises(errors.NotDownloadable):
        opening(patron, file, "download")
    assert opening(patron, file, "view")


def test_a_reader_s_download_of_a_file_not_open_to_all_is_a_marked_copy_not_a_link(
    patron: User, librarian: User
) -> None:
    file = factories.attach(access=Access.REGISTERED, downloadable=True)
    with pytest.raises(errors.MarkedCopyOnly):
        opening(patron, file, "download")
    assert grants(file) == []  # nothing was handed out
    assert opening(patron, file, "view")  # reading online is still theirs
    assert opening(librarian, file, "download")  # librarians manage the originals
    response = client_for(patron).post(f"/api/digital/files/{file.pk}/open?purpose=download")
    assert response.status_code == 403
    assert response.json() == {
        "detail": errors.MarkedCopyOnly().message,
        "code": "MarkedCopyOnly",  # not the allowing decision's "registered"
    }


def test_the_grant_is_recorded_once_per_reader_file_purpose_and_day(
    patron: User, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    file = factories.attach(access=Access.OPEN, downloadable=True)
    for _time in range(3):
        opening(patron, file)
    opening(patron, file, "download")
    other = make_user()
    opening(other, file)
    entries = grants(file)
    assert [e["data"] for e in entries] == [
        {"reason": "open", "purpose": "view"},
        {"reason": "open", "purpose": "download"},
        {"reason": "open", "purpose": "view"},
    ]
    assert [e["reader"] for e in entries] == [
        pseudonym(patron, file.subject),
        pseudonym(patron, file.subject),
        pseudonym(other, file.subject),
    ]
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    opening(patron, file)
    assert len(grants(file)) == 4


def test_a_refused_opening_records_nothing(patron: User) -> None:
    file = factories.attach(access=Access.LICENSED)
    with pytest.raises(errors.AccessDenied):
        opening(patron, file)
    assert grants(file) == []


def test_a_refusal_of_the_open_api_is_decided_once_and_names_the_rule(
    patron: User, patron_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = factories.attach(access=Access.LICENSED)
    decided = factories.count_decisions(monkeypatch)
    response = patron_client.post(f"/api/digital/files/{file.pk}/open")
    assert (response.status_code, response.json()) == (
        403,
        {"detail": _("Borrow this title to read it."), "code": "borrow"},
    )
    assert decided == [file]


def test_a_link_used_on_a_new_day_records_that_day_s_grant(
    patron: User, patron_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = factories.attach(access=Access.REGISTERED)
    url = opening(patron, file)
    assert patron_client.get(url).status_code == 200
    assert len(grants(file)) == 1  # the opening's, not again for its bytes
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    for _request in range(2):
        assert patron_client.get(url, HTTP_RANGE="bytes=0-99").status_code == 206
    assert [e["data"] for e in grants(file)] == [
        {"reason": "registered", "purpose": "view"},
        {"reason": "registered", "purpose": "view"},
    ]


def test_a_link_s_range_requests_on_the_day_it_was_issued_leave_the_grant_cache_alone(
    patron: User, patron_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = factories.attach(access=Access.REGISTERED)
    url = opening(patron, file)
    asked: list[str] = []
    cache = access.cache

    def add(key: str, *args: Any, **kwargs: Any) -> bool:
        asked.append(key)
        return bool(cache.add(key, *args, **kwargs))

    monkeypatch.setattr(access, "cache", SimpleNamespace(add=add, delete=cache.delete))
    for start in range(0, 300, 100):
        response = patron_client.get(url, HTTP_RANGE=f"bytes={start}-{start + 99}")
        assert response.status_code == 206
    assert asked == []  # the link says its day's grant was recorded when it was issued
    assert len(grants(file)) == 1


def test_a_link_signed_before_links_carried_their_day_records_through_the_cache(
    patron: User, patron_client: Client
) -> None:
    file = factories.attach(access=Access.REGISTERED)
    token = signing.dumps([file.pk, patron.pk, "view"], salt=links.SALT, compress=False)
    for _request in range(2):
        assert patron_client.get(f"/files/{token}/book.pdf").status_code == 200
    assert [e["data"] for e in grants(file)] == [{"reason": "registered", "purpose": "view"}]


def test_a_download_link_s_bytes_add_no_grant_to_the_one_recorded_when_issued(
    patron: User, patron_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = factories.attach(access=Access.OPEN, downloadable=True)
    url = opening(patron, file, "download")
    tomorrow = timezone.localdate() + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    assert patron_client.get(url).status_code == 200
    assert [e["data"]["purpose"] for e in grants(file)] == ["download"]


def test_search_inside_a_document_is_a_grant_recorded_once_a_day(
    patron: User, patron_client: Client
) -> None:
    file = factories.attach(access=Access.REGISTERED)
    for _search in range(2):
        response = patron_client.get(f"/api/digital/files/{file.pk}/search?q=sahifa")
        assert response.status_code == 200
    assert [e["data"] for e in grants(file)] == [{"reason": "registered", "purpose": "view"}]


def test_a_refused_search_inside_a_document_records_nothing(
    patron: User, patron_client: Client
) -> None:
    file = factories.attach(access=Access.LICENSED)
    response = patron_client.get(f"/api/digital/files/{file.pk}/search?q=sahifa")
    assert response.status_code == 403
    assert response.json()["detail"] == "Borrow this title to read it."
    assert not Entry.objects.filter(subject=file.subject, reader__gt="").exists()


# --- the link ---------------------------------------------------------------------------------


def test_an_expired_link_is_410_with_a_sentence(
    patron: User, patron_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = factories.attach()
    with override_settings(DIGITAL_LINK_MINUTES=10):
        issued = time.time() - 11 * 60
        monkeypatch.setattr("django.core.signing.time", SimpleNamespace(time=lambda: issued))
        url = opening(patron, file)
        monkeypatch.undo()
        response = patron_client.get(url)
    assert response.status_code == 410
    assert errors.LinkExpired().message in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"


def test_a_link_still_fresh_is_served(
    patron: User, patron_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = factories.attach()
    with override_settings(DIGITAL_LINK_MINUTES=10):
        issued = time.time() - 9 * 60
        monkeypatch.setattr("django.core.signing.time", SimpleNamespace(time=lambda: issued))
        url = opening(patron, file)
        monkeypatch.undo()
        assert patron_client.get(url).status_code == 200


def test_a_link_used_by_another_reader_is_403(patron: User, make_user: Callable[..., User]) -> None:
    url = opening(patron, factories.attach())
    assert client_for(make_user()).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 403


def test_a_forged_or_damaged_token_is_403(patron: User, patron_client: Client) -> None:
    file = factories.attach()
    forged = signing.dumps([file.pk, patron.pk, "view"], salt="another salt")
    assert patron_client.get(f"/files/{forged}/book.pdf").status_code == 403
    url = opening(patron, file)
    token = url.split("/")[2]
    damaged = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert patron_client.get(damaged).status_code == 403


def test_a_view_link_cannot_be_turned_into_a_download(patron: User, patron_client: Client) -> None:
    file = factories.attach(downloadable=True)
    token = links.make_token(file, patron, "view")
    response = patron_client.get(f"/files/{token}/book.pdf")
    assert response["Content-Disposition"].startswith("inline")


# --- decided again on every request -------------------------------------------------------------


def test_a_policy_changed_after_the_link_was_issued_stops_the_bytes(
    patron: User, patron_client: Client, librarian: User
) -> None:
    file = factories.attach(access=Access.REGISTERED)
    url = opening(patron, file)
    assert patron_client.get(url).status_code == 200
    file_services.change_file(file, by=librarian, access=Access.SEGMENTS, segments=["teacher"])
    response = patron_client.get(url)
    assert response.status_code == 403
    assert _("Not available to your reader group.") in response.content.decode()


def test_a_download_link_stops_when_downloads_are_turned_off(
    patron: User, patron_client: Client, librarian: User
) -> None:
    file = factories.attach(access=Access.OPEN, downloadable=True)
    url = opening(patron, file, "download")
    assert patron_client.get(url).status_code == 200
    file_services.change_file(file, by=librarian, downloadable=False)
    response = patron_client.get(url)
    assert response.status_code == 403
    assert errors.NotDownloadable().message in response.content.decode()


def test_a_file_made_librarians_only_is_404_for_readers(
    patron: User, patron_client: Client, librarian: User
) -> None:
    file = factories.attach(access=Access.REGISTERED)
    url = opening(patron, file)
    file = file_services.change_file(file, by=librarian, access=Access.LIBRARIANS)
    assert patron_client.get(url).status_code == 404
    with pytest.raises(errors.AccessDenied):
        opening(patron, file)
    assert client_for(librarian).get(opening(librarian, file)).status_code == 200


def test_a_file_of_a_record_withdrawn_to_draft_is_404_for_readers(
    patron: User, patron_client: Client, librarian: User
) -> None:
    file = factories.attach(access=Access.OPEN)
    url = opening(patron, file)
    catalogue.set_status(file.record, RecordStatus.DRAFT, by=librarian)
    assert patron_client.get(url).status_code == 404


def test_an_embargoed_file_opens_for_librarians_only_until_the_date(
    patron: User, patron_client: Client, librarian: User
) -> None:
    until = timezone.localdate() + timedelta(days=30)
    file = factories.attach(access=Access.OPEN, embargo_until=until)
    with pytest.raises(errors.AccessDenied) as refused:
        opening(patron, file)
    embargoed = _("Embargoed until %(date)s.") % {"date": date_format(until, "DATE_FORMAT")}
    assert refused.value.message == embargoed
    token = links.make_token(file, patron)  # a link made before the embargo was set
    response = patron_client.get(f"/files/{token}/book.pdf")
    assert response.status_code == 403
    assert escape(embargoed) in response.content.decode()
    assert client_for(librarian).get(opening(librarian, file)).status_code == 200


def test_an_embargo_set_after_the_link_was_issued_stops_the_bytes(
    patron: User, patron_client: Client, librarian: User
) -> None:
    file = factories.attach(access=Access.OPEN)
    url = opening(patron, file)
    file_services.change_file(file, by=librarian, embargo_until=date(2999, 1, 1))
    assert patron_client.get(url).status_code == 403


@override_settings(DIGITAL_CAMPUS_NETWORKS="10.0.0.0/8, 192.0.2.0/24")
def test_a_campus_file_opens_only_from_the_campus_network(
    patron: User, patron_client: Client
) -> None:
    file = factories.attach(access=Access.CAMPUS)
    with pytest.raises(errors.AccessDenied) as refused:
        opening(patron, file, ip="203.0.113.5")
    off_campus = _("Available on campus: connect from the university network.")
    assert refused.value.message == off_campus
    url = opening(patron, file, ip="10.1.2.3")
    assert patron_client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 200
    # The same link from home: refused at the next request.
    response = patron_client.get(url, REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 403
    assert off_campus in response.content.decode()


@override_settings(DIGITAL_CAMPUS_NETWORKS="10.0.0.0/8")
def test_a_campus_file_opens_for_anonymous_readers_on_campus(db: None) -> None:
    file = factories.attach(access=Access.CAMPUS)
    url = opening(AnonymousUser(), file, ip="10.9.9.9")
    assert Client().get(url, REMOTE_ADDR="10.9.9.9").status_code == 200
    assert Client().get(url, REMOTE_ADDR="8.8.8.8").status_code == 403


def test_a_segment_file_opens_for_its_segment_only(make_user: Callable[..., User]) -> None:
    file = factories.attach(access=Access.SEGMENTS, segments=[Segment.TEACHER])
    teacher = make_user(segment=Segment.TEACHER)
    assert client_for(teacher).get(opening(teacher, file)).status_code == 200
    with pytest.raises(errors.AccessDenied):
        opening(make_user(segment=Segment.STUDENT), file)


def test_a_licensed_file_without_a_digital_loan_is_403(patron: User, patron_client: Client) -> None:
    file = factories.attach(access=Access.LICENSED)
    with pytest.raises(errors.AccessDenied) as refused:
        opening(patron, file)
    assert refused.value.message == _("Borrow this title to read it.")
    token = links.make_token(file, patron)
    response = patron_client.get(f"/files/{token}/book.pdf")
    assert response.status_code == 403
    assert _("Borrow this title to read it.") in response.content.decode()


def test_a_digital_loan_opens_a_licensed_file_until_it_is_returned(
    patron: User, patron_client: Client, librarian: User
) -> None:
    file = factories.attach(access=Access.LICENSED)
    licences.save_licence(file.record, copies=1, loan_days=14, by=librarian)
    loan = loans.borrow(file.record, patron, by=patron)
    url = opening(patron, file)
    assert grants(file)[0]["data"] == {"reason": "loan", "purpose": "view"}
    assert patron_client.get(url, headers={"Range": "bytes=0-9"}).status_code == 206
    loans.return_loan(loan, by=patron)
    response = patron_client.get(url, headers={"Range": "bytes=10-19"})
    assert response.status_code == 403
    assert _("Borrow this title to read it.") in response.content.decode()


def test_a_digital_loan_past_its_due_time_stops_the_bytes_at_once(
    patron: User, patron_client: Client, librarian: User
) -> None:
    file = factories.attach(access=Access.LICENSED)
    licences.save_licence(file.record, copies=1, loan_days=1, by=librarian)
    two_days_ago = timezone.now() - timedelta(days=2)
    loan = loans.borrow(file.record, patron, by=patron, at=two_days_ago)
    token = links.make_token(file, patron)  # issued while the loan ran
    # No job has expired the loan yet: its due time alone stops the bytes.
    assert DigitalLoan.objects.get(pk=loan.pk).state == DigitalLoanState.ACTIVE
    assert patron_client.get(f"/files/{token}/book.pdf").status_code == 403
