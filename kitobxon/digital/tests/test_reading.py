"""Reading in the browser: the reader pages, the reader's place on every device, and search
inside a document. A file a reader may not see is 404; one they see but may not open is 403."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import User
from kitobxon.core.testing import session_queries
from kitobxon.digital import errors, privacy, samples
from kitobxon.digital.models import Access, DigitalFile, ReadingPosition
from kitobxon.digital.services import extraction, reading
from kitobxon.digital.tests.factories import attach, record

pytestmark = pytest.mark.django_db

PAGES = [
    "Muqaddima. Bu kitob kutubxona haqida.",
    "Ikkinchi bob: Oʻzbek tili va adabiyoti <script>alert(1)</script> haqida.",
    "Uchinchi bob: Самарқанд мадрасалари.",
    "Toʻrtinchi bob: yana oʻzbek adabiyoti, kitoblarimizdan.",
]


@pytest.fixture(autouse=True)
def _own_storage(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


def book(access: str = Access.REGISTERED, **policy: Any) -> DigitalFile:
    file = attach(record(title="Adabiyot tarixi"), samples.pdf(PAGES), access=access, **policy)
    extraction.extract_file(file)
    return file


def visitor(**options: Any) -> Client:
    """A browser set to English, so that the sentences below read as written."""
    client = Client(**options)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def client_for(user: User, **options: Any) -> Client:
    client = visitor(**options)
    client.force_login(user)
    return client


@pytest.fixture
def patron_client(patron: User) -> Client:
    return client_for(patron)


def position_url(file: DigitalFile) -> str:
    return f"/api/digital/files/{file.pk}/position"


def search_url(file: DigitalFile) -> str:
    return f"/api/digital/files/{file.pk}/search"


def put(client: Client, file: DigitalFile, position: str, progress: float) -> Any:
    return client.put(
        position_url(file),
        json.dumps({"position": position, "progress": progress}),
        content_type="application/json",
    )


# --- The service ----------------------------------------------------------------------------------


def test_saving_again_keeps_one_row_with_the_latest_place(patron: User) -> None:
    file = book()
    reading.save_position(file, patron, position="2", progress=0.5)
    saved = reading.save_position(file, patron, position=" 3 ", progress=0.75)
    row = ReadingPosition.objects.get(reader=patron, file=file)
    assert (row.position, row.progress) == ("3", 0.75)
    assert saved.pk == row.pk
    assert ReadingPosition.objects.count() == 1


@pytest.mark.parametrize("progress", [-0.01, 1.01, math.nan, math.inf])
def test_progress_outside_zero_to_one_is_refused(patron: User, progress: float) -> None:
    file = book()
    with translation.override("en"), pytest.raises(errors.DigitalError, match="from 0 to 1"):
        reading.save_position(file, patron, position="1", progress=progress)
    assert not ReadingPosition.objects.exists()


@pytest.mark.parametrize("position", ["", "   ", "x" * 501])
def test_an_empty_or_overlong_position_is_refused(patron: User, position: str) -> None:
    file = book()
    with pytest.raises(errors.DigitalError):
        reading.save_position(file, patron, position=position, progress=0.1)
    assert not ReadingPosition.objects.exists()


def test_a_position_of_five_hundred_characters_is_kept(patron: User) -> None:
    file = book()
    cfi = "epubcfi(/6/4!/4/2," + "/1:0" * 120 + ")"
    cfi = cfi[:500]
    reading.save_position(file, patron, position=cfi, progress=0.2)
    assert ReadingPosition.objects.get().position == cfi


def test_a_reader_who_is_not_signed_in_keeps_no_position() -> None:
    from django.contrib.auth.models import AnonymousUser

    file = book(access=Access.OPEN)
    with translation.override("en"), pytest.raises(errors.DigitalError, match="Sign in"):
        reading.save_position(file, AnonymousUser(), position="1", progress=0.1)


def test_forgetting_erases_only_that_readers_positions(make_user: Callable[..., User]) -> None:
    first, second = make_user(), make_user()
    file, other = book(), book()
    reading.save_position(file, first, position="1", progress=0.25)
    reading.save_position(other, first, position="2", progress=0.5)
    reading.save_position(file, second, position="4", progress=1.0)
    assert reading.forget_positions(first) == 2
    assert list(ReadingPosition.objects.values_list("reader_id", "position")) == [(second.pk, "4")]


@pytest.mark.django_db(transaction=True)
def test_two_devices_saving_at_the_same_moment_leave_one_position(
    make_user: Callable[..., User],
) -> None:
    reader = make_user()
    file = book()
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def device(page: int) -> None:
        try:
            start.wait()
            reading.save_position(file, reader, position=str(page), progress=page / 8)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=device, args=(page,)) for page in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    row = ReadingPosition.objects.get(reader=reader, file=file)
    assert row.progress == int(row.position) / 8


def test_the_privacy_export_lists_positions_and_erasure_deletes_them(patron: User) -> None:
    file = book()
    reading.save_position(file, patron, position="3", progress=0.75)
    exported = privacy.export(patron)["reading_positions"]
    assert [(p["title"], p["position"], p["progress"]) for p in exported] == [
        ("Adabiyot tarixi", "3", 0.75)
    ]
    privacy.SECTION.erase(patron)
    assert privacy.export(patron)["reading_positions"] == []


# --- The position API -----------------------------------------------------------------------------


def test_a_place_saved_on_one_device_is_read_on_another(patron: User) -> None:
    file = book()
    phone, laptop = client_for(patron), client_for(patron)
    saved = put(phone, file, "3", 0.75)
    assert saved.status_code == 200
    body = laptop.get(position_url(file)).json()
    assert body == {
        "file": file.pk,
        "position": "3",
        "progress": 0.75,
        "updated_at": body["updated_at"],
    }
    assert body["updated_at"] == saved.json()["updated_at"]


def test_a_file_never_opened_has_an_empty_position(patron_client: Client) -> None:
    file = book()
    assert patron_client.get(position_url(file)).json() == {
        "file": file.pk,
        "position": "",
        "progress": 0.0,
        "updated_at": None,
    }


def test_another_readers_position_is_not_visible(make_user: Callable[..., User]) -> None:
    owner, other = make_user(), make_user()
    file = book()
    put(client_for(owner), file, "4", 1.0)
    assert client_for(other).get(position_url(file)).json()["position"] == ""
    put(client_for(other), file, "1", 0.25)
    assert ReadingPosition.objects.get(reader=owner).position == "4"


def test_the_position_api_needs_a_signed_in_reader() -> None:
    file = book(access=Access.OPEN)
    assert visitor().get(position_url(file)).status_code == 401
    assert put(visitor(), file, "1", 0.1).status_code == 401
    assert not ReadingPosition.objects.exists()


def test_a_personal_access_token_reads_and_writes_the_position(patron: User) -> None:
    file = book()
    _token, secret = accounts.create_access_token(patron, name="phone app")
    response = visitor().put(
        position_url(file),
        json.dumps({"position": "2", "progress": 0.5}),
        content_type="application/json",
        headers={"authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    assert ReadingPosition.objects.get(reader=patron).position == "2"


def test_a_session_save_without_the_csrf_token_is_refused(patron: User) -> None:
    file = book()
    client = client_for(patron, enforce_csrf_checks=True)
    assert put(client, file, "2", 0.5).status_code == 403
    assert not ReadingPosition.objects.exists()


def test_a_file_the_reader_may_not_see_is_404(patron_client: Client) -> None:
    file = book(access=Access.LIBRARIANS)
    assert patron_client.get(position_url(file)).status_code == 404
    assert put(patron_client, file, "1", 0.1).status_code == 404
    assert patron_client.get(search_url(file), {"q": "kitob"}).status_code == 404
    assert patron_client.get(reverse("digital:reader", args=[file.pk])).status_code == 404
    assert patron_client.get(position_url(file) + "0").status_code == 404


def test_a_licensed_file_without_a_loan_is_403_with_the_reason(patron_client: Client) -> None:
    file = book(access=Access.LICENSED)
    for response in (
        patron_client.get(position_url(file)),
        put(patron_client, file, "1", 0.1),
        patron_client.get(search_url(file), {"q": "kitob"}),
    ):
        assert response.status_code == 403
        assert response.json() == {"detail": "Borrow this title to read it."}
    assert not ReadingPosition.objects.exists()


def test_a_position_that_is_not_valid_is_422(patron_client: Client) -> None:
    file = book()
    response = put(patron_client, file, "2", 1.5)
    assert response.status_code == 422
    assert response.json() == {"detail": "Progress must be a number from 0 to 1."}


# --- Search inside a document ---------------------------------------------------------------------


@pytest.mark.parametrize("query", ["ozbek", "O'zbek", "ЎЗБЕК", "oʻzbek", "o‘zbek adabiyot"])
def test_search_finds_the_pages_whatever_apostrophe_script_or_case(
    patron_client: Client, query: str
) -> None:
    file = book()
    hits = patron_client.get(search_url(file), {"q": query}).json()
    assert [hit["page"] for hit in hits] == [2, 4]
    assert "<mark>Oʻzbek</mark>" in hits[0]["snippet"]


def test_search_finds_cyrillic_text_from_latin_letters(patron_client: Client) -> None:
    file = book()
    hits = patron_client.get(search_url(file), {"q": "samarqand"}).json()
    assert hits == [{"page": 3, "snippet": "Uchinchi bob: <mark>Самарқанд</mark> мадрасалари."}]


def test_a_page_needs_every_word_and_limit_cuts_the_list(patron_client: Client) -> None:
    file = book()

    def pages(query: str, limit: int = 20) -> list[int]:
        found = patron_client.get(search_url(file), {"q": query, "limit": str(limit)}).json()
        return [hit["page"] for hit in found]

    assert pages("bob") == [2, 3, 4]
    assert pages("bob", limit=2) == [2, 3]
    assert pages("bob kitob") == [4]
    assert pages("zarafshon") == []


def test_search_snippets_are_escaped(patron_client: Client) -> None:
    file = book()
    [hit] = patron_client.get(search_url(file), {"q": "alert"}).json()
    assert "<script>" not in hit["snippet"]
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in hit["snippet"]


def test_search_of_an_open_file_needs_no_sign_in() -> None:
    file = book(access=Access.OPEN)
    assert [h["page"] for h in visitor().get(search_url(file), {"q": "kutubxona"}).json()] == [1]


def test_search_of_a_registered_file_asks_a_visitor_to_sign_in() -> None:
    file = book()
    response = visitor().get(search_url(file), {"q": "kutubxona"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Sign in to open this file."}


@pytest.mark.parametrize("query", ["", "  ", "…"])
def test_search_without_a_word_is_422(patron_client: Client, query: str) -> None:
    file = book()
    assert patron_client.get(search_url(file), {"q": query}).status_code == 422


# --- The reader pages -----------------------------------------------------------------------------


def reader_page(client: Client, file: DigitalFile) -> Any:
    return client.get(reverse("digital:reader", args=[file.pk]))


def signed_link(html: str) -> str:
    found = re.search(r'data-url="(/files/[^"]+)"', html)
    assert found, "the page has no signed link"
    return found.group(1)


@pytest.mark.parametrize(
    ("data", "name", "marker"),
    [
        (None, "book.pdf", 'id="pdf-viewer"'),
        (samples.epub([("Birinchi bob", "Salom.")]), "book.epub", 'id="epub-book"'),
        (samples.audio("mp3"), "talk.mp3", "<audio"),
        (samples.video("webm"), "film.webm", "<video"),
        (samples.png(), "map.png", "<img"),
        (samples.glb(), "vase.glb", "<model-viewer"),
    ],
)
def test_each_kind_of_file_opens_in_its_own_reader(
    patron_client: Client, data: bytes | None, name: str, marker: str
) -> None:
    file = attach(record(), data, name=name, access=Access.REGISTERED)
    response = reader_page(patron_client, file)
    html = response.content.decode()
    assert response.status_code == 200
    assert marker in html
    link = signed_link(html)
    assert file.name not in html and file.sha256 not in html  # no storage path
    assert patron_client.get(link).status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-eval'" not in policy


def test_the_pdf_reader_opens_at_the_page_saved_on_another_device(patron: User) -> None:
    file = book()
    put(client_for(patron), file, "3", 0.75)
    html = reader_page(client_for(patron), file).content.decode()
    assert 'data-position="3"' in html
    assert 'data-progress="0.750000"' in html
    assert f'data-position-api="{position_url(file)}"' in html
    assert f'data-search-api="{search_url(file)}"' in html
    assert 'data-has-text="true"' in html


def test_a_visitor_reads_an_open_file_without_keeping_a_position() -> None:
    file = book(access=Access.OPEN)
    html = reader_page(visitor(), file).content.decode()
    assert "data-position-api" not in html
    assert "to keep your place on all your devices" in html


def test_the_video_reader_loads_its_captions_each_by_a_signed_link(patron_client: Client) -> None:
    import io

    from kitobxon.digital.services.files import attach_file

    film = attach(record(), samples.video("webm"), name="film.webm")
    caption = attach_file(
        film.record,
        io.BytesIO(samples.webvtt()),
        by=None,
        original_name="film.uz.vtt",
        caption_for=film,
        caption_language="uz",
    )
    html = reader_page(patron_client, film).content.decode()
    track = re.search(
        r'<track kind="captions" src="(/files/[^"]+)" data-open-api="([^"]+)" srclang="uz"'
        r' label="([^"]+)" default>',
        html,
    )
    assert track, html
    assert track.group(2) == f"/api/digital/files/{caption.pk}/open"  # renewed by its own file
    assert track.group(3) == "Oʻzbekcha"
    captions = patron_client.get(track.group(1))
    assert captions.status_code == 200
    assert captions.getvalue().startswith(b"WEBVTT")


def test_the_epub_reader_admits_book_frames_and_only_its_own_import_map(
    patron_client: Client,
) -> None:
    file = attach(record(), samples.epub([("Bob", "Matn.")]), name="book.epub")
    response = reader_page(patron_client, file)
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    nonce = re.search(r'<script type="importmap" nonce="([^"]+)"', response.content.decode())
    assert nonce
    assert policy["script-src"] == f"'self' 'nonce-{nonce.group(1)}'"
    assert policy["frame-src"] == "'self' blob:"
    assert "blob:" in policy["style-src"] and "blob:" in policy["img-src"]


def test_a_licensed_file_without_a_loan_shows_why_and_the_way_back(patron_client: Client) -> None:
    file = book(access=Access.LICENSED)
    response = reader_page(patron_client, file)
    html = response.content.decode()
    assert response.status_code == 403
    assert "Borrow this title to read it." in html
    assert f'href="/records/{file.record_id}/"' in html
    assert '"/files/' not in html


def test_a_visitor_is_asked_to_sign_in_for_a_registered_file() -> None:
    file = book()
    response = reader_page(visitor(), file)
    assert response.status_code == 403
    assert "Sign in to open this file." in response.content.decode()
    assert f"/accounts/login/?next=/digital/files/{file.pk}/" in response.content.decode()


def test_a_captions_file_opens_the_reader_of_its_video(patron_client: Client) -> None:
    import io

    from kitobxon.digital.services.files import attach_file

    film = attach(record(), samples.video("webm"), name="film.webm")
    captions = attach_file(
        film.record, io.BytesIO(samples.webvtt()), by=None, original_name="c.vtt", caption_for=film
    )
    response = reader_page(patron_client, captions)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("digital:reader", args=[film.pk])


def test_the_reader_page_costs_a_fixed_number_of_queries(
    patron: User, django_assert_num_queries: Any
) -> None:
    file = book()
    reading.save_position(file, patron, position="2", progress=0.5)
    client = client_for(patron)
    reader_page(client, file)  # the day's ledger grant is recorded once
    # The user and their permissions (4), the file with its record, the position.
    with django_assert_num_queries(6 + session_queries()):
        assert reader_page(client, file).status_code == 200
