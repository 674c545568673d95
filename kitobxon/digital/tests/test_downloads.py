"""Downloads: a marked copy per reader, a daily limit that holds under a race, tracing a copy."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.http import FileResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import Segment, User, new_card_number
from kitobxon.core.testing import race, session_queries
from kitobxon.digital import errors, policy, samples, watermark
from kitobxon.digital.models import Access, DigitalFile, Watermark
from kitobxon.digital.services import downloads, licences, loans
from kitobxon.digital.tests import factories
from kitobxon.ledger.models import Entry
from kitobxon.ledger.services import pseudonym

PAGES = ["Oʻtkan kunlar", "Кеча ва кундуз", "Uchinchi sahifa"]


def pdf_file(**policy_: Any) -> DigitalFile:
    policy_.setdefault("access", Access.REGISTERED)
    policy_.setdefault("downloadable", True)
    return factories.attach(data=samples.pdf(PAGES), name="Otkan kunlar.pdf", **policy_)


def epub_file(**policy_: Any) -> DigitalFile:
    policy_.setdefault("access", Access.REGISTERED)
    policy_.setdefault("downloadable", True)
    return factories.attach(data=samples.epub([("Bob", "Matn")]), name="kitob.epub", **policy_)


def take(file: DigitalFile, reader: Any) -> downloads.Download:
    """A download as the page makes it (decided off campus); a marked PDF is deleted at once."""
    copy = downloads.download(file, reader, decision=policy.decide(file, reader))
    if copy.path is not None:
        copy.path.unlink()
    return copy


def body(response: Any) -> bytes:
    assert isinstance(response, FileResponse)
    # The test client closes the response (and its file) once the content is read.
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


def texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


@pytest.fixture
def leftovers() -> Callable[[], set[Path]]:
    """Marked copies left in the temporary folder since the test began."""
    folder = settings.DATA_DIR / "tmp"
    before = set(folder.glob("*.pdf"))
    return lambda: set(folder.glob("*.pdf")) - before


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def flash(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def cyrillic_reader(make_user: Callable[..., User]) -> User:
    reader = make_user()
    User.objects.filter(pk=reader.pk).update(full_name="Тошматова Oʻgʻiloy")
    reader.refresh_from_db()
    return reader


# --- the page ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pdf_is_downloaded_marked_with_the_readers_name_card_and_fingerprint(
    make_user: Callable[..., User], leftovers: Callable[[], set[Path]]
) -> None:
    reader = cyrillic_reader(make_user)
    file = pdf_file()

    response = client_for(reader).post(reverse("digital:download", args=[file.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="otkan-kunlar.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    data = body(response)
    mark = Watermark.objects.get()
    assert (mark.file, mark.reader) == (file, reader)
    assert len(mark.fingerprint) == 16 and mark.sha256 == hashlib.sha256(data).hexdigest()
    pages = texts(data)
    assert len(pages) == 3
    for page, original in zip(pages, PAGES, strict=True):
        assert page.startswith(original)
        assert f"ID {mark.fingerprint}" in page
        assert reader.card_number in page
        assert "Тошматова Oʻgʻiloy" in page
    info = PdfReader(io.BytesIO(data)).metadata
    assert info is not None and info[watermark.INFO_KEY] == mark.fingerprint
    assert leftovers() == set()


def test_the_copy_keeps_its_uploaded_name_made_safe() -> None:
    named = DigitalFile(original_name="Кеча ва кундуз / 2-jild.PDF", name="files/ab/ab.pdf")
    assert downloads.download_name(named) == "кеча-ва-кундуз-2-jild.pdf"
    assert downloads.download_name(DigitalFile(original_name="???.pdf", name="x.pdf")) == "file.pdf"
    assert (
        downloads.download_name(DigitalFile(original_name="kitob", name="x.epub")) == "kitob.epub"
    )


@pytest.mark.django_db
def test_each_download_gets_its_own_fingerprint(patron: User) -> None:
    file = pdf_file()
    client = client_for(patron)
    first = body(client.post(reverse("digital:download", args=[file.pk])))
    second = body(client.post(reverse("digital:download", args=[file.pk])))
    marks = list(Watermark.objects.order_by("id"))
    assert len(marks) == 2 and marks[0].fingerprint != marks[1].fingerprint
    assert marks[0].fingerprint in texts(first)[0] and marks[1].fingerprint in texts(second)[0]


@pytest.mark.django_db
def test_a_download_is_a_ledger_entry_with_the_fingerprint_and_the_copys_digest(
    patron: User,
) -> None:
    file = pdf_file()
    data = body(client_for(patron).post(reverse("digital:download", args=[file.pk])))
    mark = Watermark.objects.get()
    entry = Entry.objects.get(kind="watermark.issued")
    assert entry.subject == file.subject
    assert entry.sha256 == hashlib.sha256(data).hexdigest()
    assert entry.reader == pseudonym(patron, file.subject)
    assert json.loads(entry.body)["data"] == {"fingerprint": mark.fingerprint}


@pytest.mark.django_db
def test_other_kinds_redirect_to_a_signed_download_link_and_are_fingerprinted_too(
    patron: User,
) -> None:
    file = epub_file()
    client = client_for(patron)
    response = client.post(reverse("digital:download", args=[file.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/files/")
    mark = Watermark.objects.get()
    assert (mark.file, mark.reader, mark.sha256) == (file, patron, file.sha256)
    entry = Entry.objects.get(kind="watermark.issued")
    assert json.loads(entry.body)["data"] == {"fingerprint": mark.fingerprint}
    assert entry.sha256 == file.sha256

    served = client.get(response["Location"])
    assert served.status_code == 200
    assert served["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_a_file_that_may_not_be_downloaded_sends_the_reader_back_with_the_reason(
    patron: User,
) -> None:
    file = pdf_file(downloadable=False)
    response = client_for(patron).post(reverse("digital:download", args=[file.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("catalogue:record", args=[file.record_id])
    assert flash(response) == [str(errors.NotDownloadable.default_message)]
    assert not Watermark.objects.exists()
    assert not Entry.objects.filter(kind="watermark.issued").exists()


@pytest.mark.django_db
def test_the_reason_is_given_in_the_readers_language(make_user: Callable[..., User]) -> None:
    reader = make_user(language="ru")
    file = pdf_file(downloadable=False)
    response = client_for(reader).post(reverse("digital:download", args=[file.pk]))
    assert response.wsgi_request.LANGUAGE_CODE == "ru"
    with translation.override("ru"):
        assert flash(response) == [errors.NotDownloadable().message]


@pytest.mark.django_db
def test_a_licensed_file_is_not_downloaded_without_a_digital_loan(patron: User) -> None:
    file = pdf_file(access=Access.LICENSED)
    licences.save_licence(file.record, copies=1, loan_days=14, by=None)
    client = client_for(patron)

    refused = client.post(reverse("digital:download", args=[file.pk]))
    assert refused.status_code == 302
    assert flash(refused) == ["Borrow this title to read it."]
    assert not Watermark.objects.exists()

    loans.borrow(file.record, patron, by=patron)
    allowed = client.post(reverse("digital:download", args=[file.pk]))
    assert allowed.status_code == 200 and body(allowed).startswith(b"%PDF")
    assert Watermark.objects.filter(reader=patron).count() == 1


@pytest.mark.django_db
def test_a_reader_who_is_not_signed_in_is_asked_to_sign_in() -> None:
    file = pdf_file(access=Access.OPEN)
    response = client_for(None).post(reverse("digital:download", args=[file.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    with pytest.raises(errors.AccessDenied):
        take(file, AnonymousUser())
    assert not Watermark.objects.exists()


@pytest.mark.django_db
def test_a_file_the_reader_may_not_see_is_404(patron: User) -> None:
    file = pdf_file(access=Access.LIBRARIANS)
    response = client_for(patron).post(reverse("digital:download", args=[file.pk]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_download_is_a_post_with_a_csrf_token(patron: User) -> None:
    file = pdf_file()
    client = Client(enforce_csrf_checks=True)
    client.force_login(patron)
    assert client.get(reverse("digital:download", args=[file.pk])).status_code == 405
    assert client.post(reverse("digital:download", args=[file.pk])).status_code == 403
    assert not Watermark.objects.exists()


# --- the daily limit --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_daily_limit_refuses_the_download_after_the_last_allowed_one(
    patron: User, settings: Any, leftovers: Callable[[], set[Path]]
) -> None:
    settings.DIGITAL_DAILY_DOWNLOADS = 2
    pdf, epub = pdf_file(), epub_file()
    take(pdf, patron)
    take(epub, patron)
    with pytest.raises(errors.DownloadLimit):
        take(pdf, patron)
    with pytest.raises(errors.DownloadLimit):
        take(epub, patron)
    assert Watermark.objects.filter(reader=patron).count() == 2
    assert leftovers() == set()


@pytest.mark.django_db
def test_the_limit_counts_the_library_day_from_local_midnight(patron: User, settings: Any) -> None:
    settings.DIGITAL_DAILY_DOWNLOADS = 1
    file = epub_file()
    take(file, patron)
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    # Tashkent's midnight is 19:00 UTC the day before: a UTC day would count differently.
    Watermark.objects.update(created_at=midnight - timedelta(seconds=1))
    take(file, patron)
    Watermark.objects.filter(created_at__gte=midnight).update(created_at=midnight)
    with pytest.raises(errors.DownloadLimit):
        take(file, patron)


@pytest.mark.django_db
def test_librarians_have_no_daily_limit(librarian: User, settings: Any) -> None:
    settings.DIGITAL_DAILY_DOWNLOADS = 1
    file = epub_file()
    for _n in range(3):
        take(file, librarian)
    assert Watermark.objects.filter(reader=librarian).count() == 3


@pytest.mark.django_db
def test_the_limit_is_told_to_the_reader_on_the_record_page(patron: User, settings: Any) -> None:
    settings.DIGITAL_DAILY_DOWNLOADS = 1
    file = pdf_file()
    client = client_for(patron)
    body(client.post(reverse("digital:download", args=[file.pk])))
    response = client.post(reverse("digital:download", args=[file.pk]))
    assert response.status_code == 302
    assert flash(response) == [str(errors.DownloadLimit.default_message)]


def _racers(count: int) -> list[User]:
    User.objects.bulk_create(
        [
            User(
                email=f"downloader{n}@example.org",
                card_number=new_card_number(),
                full_name=f"Downloader {n}",
                segment=Segment.STUDENT,
            )
            for n in range(count)
        ]
    )
    return list(User.objects.filter(email__startswith="downloader").order_by("pk"))


def race_all(actions: list[Callable[[], Any]]) -> Counter[str]:
    return Counter(race(*actions))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["pdf", "epub"])
def test_racing_downloads_at_the_limit_give_exactly_the_limit(
    kind: str, settings: Any, leftovers: Callable[[], set[Path]]
) -> None:
    settings.DIGITAL_DAILY_DOWNLOADS = 3
    file = pdf_file() if kind == "pdf" else epub_file()
    reader, other = _racers(2)
    take(file, reader)  # one of today's three is used

    results = race_all([lambda: take(file, reader) for _n in range(8)])

    assert results == {"ok": 2, "DownloadLimit": 6}
    assert Watermark.objects.filter(reader=reader).count() == 3
    assert Entry.objects.filter(kind="watermark.issued").count() == 3
    take(file, other)  # another reader's limit is their own
    assert leftovers() == set()


@pytest.mark.django_db(transaction=True)
def test_two_downloads_at_once_at_the_limit_give_one(settings: Any) -> None:
    settings.DIGITAL_DAILY_DOWNLOADS = 1
    file = epub_file()
    (reader,) = _racers(1)
    assert race_all([lambda: take(file, reader), lambda: take(file, reader)]) == {
        "ok": 1,
        "DownloadLimit": 1,
    }


# --- tracing a copy ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_librarian_traces_a_fingerprint_to_the_reader_file_record_and_time(
    make_user: Callable[..., User], librarian: User, django_assert_num_queries: Any
) -> None:
    reader = cyrillic_reader(make_user)
    file = pdf_file()
    mark = take(file, reader).watermark
    client = client_for(librarian)
    url = reverse("digital:watermarks")

    # The session, the librarian, their permissions (2), the watermark with what it names.
    with django_assert_num_queries(session_queries() + 4):
        response = client.get(url, {"fingerprint": f"ID {mark.fingerprint.upper()}"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Тошматова Oʻgʻiloy" in page
    assert reader.card_number in page
    assert file.record.title in page and str(file) in page
    assert reverse("catalogue:record", args=[file.record_id]) in page
    assert f'datetime="{timezone.localtime(mark.created_at).isoformat()}"' in page
    assert mark.sha256 in page
    assert 'name="viewport"' in page and 'for="id_fingerprint"' in page


@pytest.mark.django_db
def test_an_unknown_fingerprint_says_so(librarian: User) -> None:
    response = client_for(librarian).get(
        reverse("digital:watermarks"), {"fingerprint": "0123456789abcdef"}
    )
    assert response.status_code == 200
    assert "No download has the fingerprint" in response.content.decode()


@pytest.mark.django_db
def test_readers_and_visitors_get_404_from_the_trace_page(patron: User) -> None:
    mark = take(pdf_file(), patron).watermark
    url = reverse("digital:watermarks")
    assert client_for(patron).get(url, {"fingerprint": mark.fingerprint}).status_code == 404
    assert client_for(None).get(url, {"fingerprint": mark.fingerprint}).status_code == 404
    assert client_for(patron).get(url).status_code == 404


# --- the API ----------------------------------------------------------------------------------


def api_url(file: DigitalFile) -> str:
    return f"/api/digital/files/{file.pk}/download"


@pytest.mark.django_db
def test_the_api_answers_the_marked_pdf(patron: User) -> None:
    file = pdf_file()
    response = client_for(patron).post(api_url(file))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="otkan-kunlar.pdf"'
    mark = Watermark.objects.get()
    assert all(mark.fingerprint in text for text in texts(body(response)))


@pytest.mark.django_db
def test_the_api_answers_a_signed_link_for_other_kinds(patron: User) -> None:
    file = epub_file()
    _token, secret = accounts.create_access_token(patron, name="e-reader")
    response = Client().post(api_url(file), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    (url,) = response.json().values()
    assert set(response.json()) == {"url"}
    assert url.startswith("http://testserver/files/") and url.endswith("/kitob.epub")
    assert Watermark.objects.get().reader == patron


@pytest.mark.django_db
def test_the_api_refuses_with_409_and_the_reason(patron: User, settings: Any) -> None:
    client = client_for(patron)
    response = client.post(api_url(pdf_file(downloadable=False)))
    assert response.status_code == 409
    assert response.json() == {
        "detail": str(errors.NotDownloadable.default_message),
        "code": "NotDownloadable",
    }
    response = client.post(api_url(pdf_file(access=Access.LICENSED)))
    assert response.json() == {"detail": "Borrow this title to read it.", "code": "AccessDenied"}
    settings.DIGITAL_DAILY_DOWNLOADS = 0
    response = client.post(api_url(epub_file()))
    assert response.status_code == 409
    assert response.json() == {
        "detail": str(errors.DownloadLimit.default_message),
        "code": "DownloadLimit",
    }


@pytest.mark.django_db
def test_the_api_is_404_for_a_file_not_visible_and_401_without_sign_in(patron: User) -> None:
    assert client_for(patron).post(api_url(pdf_file(access=Access.LIBRARIANS))).status_code == 404
    assert client_for(None).post(api_url(pdf_file(access=Access.OPEN))).status_code == 401
    assert not Watermark.objects.exists()
