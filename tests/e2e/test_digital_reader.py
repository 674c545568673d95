"""The in-browser readers in Chromium: PDF, EPUB, video, audio and a 3D model.

Every file is real (reportlab PDF, EPUB 3, FFmpeg-encoded media, binary glTF), attached through
the upload service and served through signed links with byte ranges. Each test also fails on
any script error or Content-Security-Policy violation in the page.
"""

from __future__ import annotations

import io
import random
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import Role, User
from kitobxon.digital import samples
from kitobxon.digital.models import Access, DigitalFile, ReadingPosition
from kitobxon.digital.services import extraction
from kitobxon.digital.services.files import attach_file
from kitobxon.digital.services.reading import save_position
from kitobxon.digital.tests.factories import attach, record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "kitob-oqish-2026"
READY = "#reader[data-state=ready]"
MEDIA = "document.getElementById('reader-media')"
PAGES = [
    "Muqaddima. Bu kitob kutubxona haqida.",
    "Birinchi bob: Buxoro shahri.",
    "Ikkinchi bob: Xiva qalʼasi.",
    "Uchinchi bob: Самарқанд мадрасалари ва Регистон.",
    "Xotima.",
]


@pytest.fixture(autouse=True)
def _own_storage(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def reader() -> User:
    user = User.objects.create_user(
        "oquvchi@example.org", PASSWORD, full_name="Aziza Oquvchi", preferred_language="en"
    )
    return accounts.set_role(user, Role.PATRON, by=None)


class Watched:
    """A page whose script errors and policy violations are collected, to be asserted empty."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )


def _signed_in_page(
    browser: Any, live_server: Any, user: User, viewport: dict[str, int]
) -> Watched:
    """A new browser (context) in which ``user`` signs in through the sign-in form."""
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    watched = Watched(page)
    page.goto(live_server.url + "/accounts/login/")
    page.locator("#id_username").fill(str(user.email))
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/accounts/profile/")
    return watched


def _open(watched: Watched, live_server: Any, file: DigitalFile) -> Any:
    page = watched.page
    page.goto(f"{live_server.url}/digital/files/{file.pk}/")
    page.wait_for_selector(READY, timeout=20_000)
    return page


def _until(page: Any, expression: str, timeout_ms: int = 15_000) -> None:
    """Wait until ``expression`` is true in the page.

    Polled from here: Playwright's own polling evaluates strings inside the page, which the
    reader pages' policy (no 'unsafe-eval') rightly refuses.
    """
    for _ in range(timeout_ms // 100):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {expression}")


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _expire_links(monkeypatch: Any, settings: Any) -> None:
    """Let every link issued so far outlive its lifetime: signing's clock moves on (only it)."""
    later = time.time() + settings.DIGITAL_LINK_MINUTES * 60 + 60
    monkeypatch.setattr("django.core.signing.time", SimpleNamespace(time=lambda: later))


def _byte_requests(page: Any) -> list[tuple[str | None, int, str | None]]:
    """(Range header, status, Content-Range) of every request for a file's bytes."""
    seen: list[tuple[str | None, int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            seen.append((r.request.headers.get("range"), r.status, r.headers.get("content-range")))
            if urlsplit(r.url).path.startswith("/files/") and r.request.method == "GET"
            else None
        ),
    )
    return seen


def _saved_after(page: Any, action: Any) -> Any:
    """Do ``action`` and wait for the reader page to save the position it led to."""
    with page.expect_response(
        lambda r: r.url.endswith("/position") and r.request.method == "PUT", timeout=15_000
    ) as saved:
        action()
    assert saved.value.status == 200
    return saved.value.json()


# --- PDF ------------------------------------------------------------------------------------------


def _inked(page: Any, number: int) -> bool:
    """Whether page ``number`` of the PDF is drawn on its canvas (some pixels are not white)."""
    return bool(
        page.evaluate(
            """(number) => {
              const canvas = document.querySelector(`.page[data-page-number="${number}"] canvas`);
              if (!canvas || !canvas.width) return false;
              const { width, height } = canvas;
              const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
              for (let i = 0; i < data.length; i += 4) if (data[i] < 128) return true;
              return false;
            }""",
            number,
        )
    )


def test_a_pdf_is_read_on_a_phone_searched_and_reopened_at_the_same_page_elsewhere(
    browser: Any, live_server: Any, reader: User
) -> None:
    file = attach(record(title="Shaharlar"), samples.pdf(PAGES), access=Access.REGISTERED)
    extraction.extract_file(file)

    phone = _signed_in_page(browser, live_server, reader, PHONE)
    page = _open(phone, live_server, file)
    page.wait_for_selector("#reader[data-rendered~='1']")
    assert _inked(page, 1)
    assert page.input_value("#pdf-page") == "1"
    assert page.locator("#pdf-count").inner_text() == "of 5"
    assert _fits(page)

    page.locator("#pdf-next").click()
    page.wait_for_selector("#reader[data-page='2'][data-rendered~='2']")
    assert _inked(page, 2)
    page.locator("#pdf-container").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#reader[data-page='3']")
    assert page.input_value("#pdf-page") == "3"

    page.locator(".reader-panel summary", has_text="Contents").click()
    page.locator("#pdf-outline button", has_text="Page 5").click()  # the PDF's own outline
    page.wait_for_selector("#reader[data-page='5'][data-rendered~='5']")
    assert page.input_value("#pdf-page") == "5"

    page.locator("#pdf-search-panel summary").click()
    page.locator("#pdf-search-q").fill("samarqand")
    page.keyboard.press("Enter")
    hit = page.locator("#pdf-hits .reader-hit")
    hit.first.wait_for()
    assert hit.count() == 1
    assert hit.first.locator("mark").inner_text() == "Самарқанд"
    saved = _saved_after(page, hit.first.click)
    assert saved["position"] == "4" and saved["progress"] == 0.8
    page.wait_for_selector("#reader[data-rendered~='4']")
    assert page.input_value("#pdf-page") == "4"
    assert ReadingPosition.objects.get(reader=reader, file=file).position == "4"
    assert phone.errors == []

    laptop = _signed_in_page(browser, live_server, reader, DESKTOP)
    page = _open(laptop, live_server, file)
    page.wait_for_selector("#reader[data-rendered~='4']")
    assert page.input_value("#pdf-page") == "4"
    assert _inked(page, 4)
    assert laptop.errors == []
    phone.page.context.close()
    laptop.page.context.close()


def _large_pdf(pages: int) -> bytes:
    """A PDF of ``pages`` pages of ~160 KB each (a noise picture and "Sahifa <n>")."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    noise = random.Random(7)
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=A4, invariant=True)
    for number in range(1, pages + 1):
        picture = Image.frombytes("L", (400, 400), noise.randbytes(400 * 400))
        drawing.drawImage(ImageReader(picture), 50, 300, 300, 300)
        drawing.setFont("Helvetica", 40)
        drawing.drawString(50, 700, f"Sahifa {number}")
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def _cut_short(route: Any) -> None:
    """A phone losing its connection: the whole-file download stops after 64 KB, so pdf.js
    asks for the rest in byte ranges when it needs them."""
    if route.request.method != "GET" or route.request.headers.get("range"):
        route.continue_()
        return
    whole = route.fetch()
    route.fulfill(status=whole.status, headers=whole.headers, body=whole.body()[:65536])


SCALE = "document.getElementById('pdf-viewer').style.getPropertyValue('--scale-factor')"


def test_a_pdf_reopens_at_the_same_page_and_zoom_when_its_link_expires(
    browser: Any, live_server: Any, reader: User, monkeypatch: Any, settings: Any
) -> None:
    atlas = attach(record(title="Xaritalar"), _large_pdf(8), name="xaritalar.pdf")
    phone = _signed_in_page(browser, live_server, reader, PHONE)
    phone.page.route("**/xaritalar.pdf", _cut_short)
    requests = _byte_requests(phone.page)
    page = _open(phone, live_server, atlas)
    page.wait_for_selector("#reader[data-rendered~='1']")
    fit_width = page.evaluate(SCALE)
    page.locator("#pdf-zoom-in").click()
    page.locator("#pdf-zoom-in").click()
    scale = page.evaluate(SCALE)
    assert scale != fit_width
    first_link = page.get_attribute("#reader", "data-url")

    _expire_links(monkeypatch, settings)
    before = len(requests)
    page.locator("#pdf-page").fill("6")  # page 6 is not fetched yet
    page.keyboard.press("Enter")

    page.wait_for_selector("#reader[data-renewed='1'][data-rendered~='6']")
    assert any(status == 410 for _range, status, _content in requests[before:])
    assert page.get_attribute("#reader", "data-url") != first_link
    assert page.input_value("#pdf-page") == "6"
    assert page.evaluate(SCALE) == scale
    _until(
        page,
        "document.querySelector('.page[data-page-number=\"6\"] .textLayer')"
        "?.textContent.includes('Sahifa 6')",
    )
    assert _inked(page, 6)
    page.locator("#pdf-next").click()  # the fresh link serves the rest
    page.wait_for_selector("#reader[data-page='7'][data-rendered~='7']")
    # The expired link's refusals (in pdf.js's words too) are the browser's only complaints.
    assert [e for e in phone.errors if "410" not in e and "ResponseException" not in e] == []
    phone.page.context.close()


# --- EPUB -----------------------------------------------------------------------------------------

CHAPTERS = [
    ("Birinchi bob", "Bahor keldi.\n\nDaraxtlar gulladi."),
    ("Ikkinchi bob", "Anor pishdi.\n\nBogʻda qushlar sayradi."),
    ("Uchinchi bob", "Qish tushdi.\n\nHamma uyda kitob oʻqidi."),
]


def _book_frame(page: Any, text: str, timeout_ms: int = 15_000) -> Any:
    """The frame in which foliate-js shows the book, once it shows ``text``."""
    from playwright.sync_api import Error

    for _ in range(timeout_ms // 100):
        for frame in page.frames:
            if not frame.url.startswith("blob:"):
                continue
            try:
                if text in frame.evaluate("document.body ? document.body.innerText : ''"):
                    return frame
            except Error:  # the frame went away while foliate-js turned the page
                continue
        page.wait_for_timeout(100)
    raise AssertionError(f"the book never showed {text!r}")


def _style(frame: Any, selector: str, name: str) -> str:
    return str(frame.evaluate(f"getComputedStyle(document.querySelector('{selector}')).{name}"))


def test_an_epub_is_read_with_contents_search_night_mode_and_larger_text(
    browser: Any, live_server: Any, reader: User
) -> None:
    file = attach(record(title="Fasllar"), samples.epub(CHAPTERS), name="fasllar.epub")

    phone = _signed_in_page(browser, live_server, reader, PHONE)
    page = _open(phone, live_server, file)
    frame = _book_frame(page, "Bahor keldi.")
    assert frame.locator("h1").inner_text() == "Birinchi bob"
    assert page.locator("#epub-location").inner_text().startswith("Birinchi bob")
    assert _fits(page)

    size = float(_style(frame, "p", "fontSize").removesuffix("px"))
    page.locator("#epub-larger").click()
    page.locator("#epub-larger").click()
    assert float(_style(frame, "p", "fontSize").removesuffix("px")) > size * 1.15
    assert _style(frame, "body", "backgroundColor") == "rgb(255, 255, 255)"
    page.locator("#epub-night").click()
    assert page.get_attribute("#epub-night", "aria-pressed") == "true"
    assert _style(frame, "body", "backgroundColor") == "rgb(18, 18, 18)"
    assert _style(frame, "p", "color") == "rgb(232, 230, 227)"

    page.locator(".reader-panel summary", has_text="Contents").click()
    page.locator("#epub-toc button", has_text="Uchinchi bob").click()
    frame = _book_frame(page, "Qish tushdi.")
    _until(page, "document.getElementById('epub-location').textContent.startsWith('Uchinchi bob')")
    assert _style(frame, "body", "backgroundColor") == "rgb(18, 18, 18)"  # kept on a new chapter

    page.locator("#epub-search-panel summary").click()
    page.locator("#epub-search-q").fill("bahor")
    page.keyboard.press("Enter")
    hit = page.locator("#epub-hits .reader-hit")
    hit.first.wait_for()
    assert hit.count() == 1
    assert hit.first.locator("mark").inner_text() == "Bahor"
    hit.first.click()
    _book_frame(page, "Bahor keldi.")

    page.locator("#epub-book").focus()
    page.keyboard.press("ArrowRight")
    _book_frame(page, "Anor pishdi.")
    chapter_two = "epubcfi(/6/4!"  # the second item of the spine
    _until(
        page, f"(document.getElementById('reader').dataset.saved || '').startsWith('{chapter_two}')"
    )
    assert ReadingPosition.objects.get(reader=reader, file=file).position.startswith(chapter_two)
    assert phone.errors == []

    laptop = _signed_in_page(browser, live_server, reader, DESKTOP)
    page = _open(laptop, live_server, file)
    frame = _book_frame(page, "Anor pishdi.")
    assert frame.locator("h1").inner_text() == "Ikkinchi bob"
    assert laptop.errors == []
    phone.page.context.close()
    laptop.page.context.close()


def test_an_epub_whose_link_expired_before_it_opened_opens_at_the_readers_place(
    browser: Any, live_server: Any, reader: User, monkeypatch: Any, settings: Any
) -> None:
    # foliate-js fetches the whole book once, when it opens: a page served hours before (a tab
    # restored in the morning) holds an expired link.
    file = attach(record(title="Fasllar"), samples.epub(CHAPTERS), name="fasllar.epub")
    save_position(file, reader, position="epubcfi(/6/4!/4/2)", progress=0.4)
    phone = _signed_in_page(browser, live_server, reader, PHONE)
    requests = _byte_requests(phone.page)

    def served_then_expired(route: Any) -> None:
        served = route.fetch()
        _expire_links(monkeypatch, settings)
        route.fulfill(response=served)

    phone.page.route(f"**/digital/files/{file.pk}/", served_then_expired)
    page = _open(phone, live_server, file)

    frame = _book_frame(page, "Anor pishdi.")
    assert frame.locator("h1").inner_text() == "Ikkinchi bob"
    assert page.get_attribute("#reader", "data-renewed") == "1"
    assert [status for _range, status, _content in requests] == [410, 200]
    page.locator("#epub-book").focus()
    page.keyboard.press("ArrowRight")
    _book_frame(page, "Qish tushdi.")
    assert [e for e in phone.errors if "410" not in e] == []
    phone.page.context.close()


# --- Video, audio, 3D -----------------------------------------------------------------------------


def _play(page: Any) -> None:
    assert page.evaluate("document.getElementById('reader-media').play().then(() => true)")
    start = page.evaluate("document.getElementById('reader-media').currentTime")
    _until(page, f"document.getElementById('reader-media').currentTime > {start} + 0.3")


def test_a_video_plays_with_its_captions_and_seeks_through_range_requests(
    browser: Any, live_server: Any, reader: User
) -> None:
    film = attach(record(title="Ranglar"), samples.video("webm", seconds=6), name="ranglar.webm")
    attach_file(
        film.record,
        io.BytesIO(samples.webvtt(["Salom!", "Ranglar haqida film."])),
        by=None,
        original_name="ranglar.uz.vtt",
        caption_for=film,
        caption_language="uz",
    )
    phone = _signed_in_page(browser, live_server, reader, PHONE)
    requests = _byte_requests(phone.page)
    page = _open(phone, live_server, film)
    _until(page, "document.getElementById('reader-media').textTracks[0].cues?.length === 2")
    track = page.evaluate(
        "(() => { const t = document.getElementById('reader-media').textTracks[0];"
        " return [t.kind, t.language, t.mode, t.cues[0].text]; })()"
    )
    assert track == ["captions", "uz", "showing", "Salom!"]
    video = [r for r in requests if r[0]]  # the captions file is fetched whole, without a Range
    assert video and all(status == 206 for _range, status, _content in video)
    assert video[0][0] == "bytes=0-" and str(video[0][2]).startswith("bytes 0-")
    assert _fits(page)

    _play(page)
    _saved_after(page, lambda: page.evaluate(f"{MEDIA}.currentTime = 4.5"))
    _until(page, "Math.abs(document.getElementById('reader-media').currentTime - 4.5) < 1")
    _until(page, "!document.getElementById('reader-media').seeking")
    assert phone.errors == []
    phone.page.context.close()


def test_captions_turned_on_after_their_link_expired_take_a_fresh_link(
    browser: Any, live_server: Any, reader: User, monkeypatch: Any, settings: Any
) -> None:
    film = attach(record(title="Tog'lar"), samples.video("webm", seconds=6), name="toglar.webm")
    for language, lines in (("uz", ["Salom!", "Toglar."]), ("ru", ["Привет!", "Горы."])):
        attach_file(
            film.record,
            io.BytesIO(samples.webvtt(lines)),
            by=None,
            original_name=f"toglar.{language}.vtt",
            caption_for=film,
            caption_language=language,
        )
    phone = _signed_in_page(browser, live_server, reader, PHONE)
    caption_requests: list[tuple[str, int]] = []
    phone.page.on(
        "response",
        lambda r: (
            caption_requests.append((r.request.method, r.status)) if ".vtt" in r.url else None
        ),
    )
    page = _open(phone, live_server, film)
    tracks = f"{MEDIA}.textTracks"
    _until(page, f"{tracks}[0].cues?.length === 2")  # the default track, fetched at once
    assert page.evaluate(f"{tracks}[1].cues") is None  # the other one is fetched when chosen
    old_src = page.get_attribute("track[srclang=ru]", "src")

    _expire_links(monkeypatch, settings)
    before = len(caption_requests)
    page.evaluate(f"{tracks}[0].mode = 'disabled'; {tracks}[1].mode = 'showing'")

    _until(page, f"{tracks}[1].cues?.length === 2")
    assert page.evaluate(f"{tracks}[1].cues[0].text") == "Привет!"
    assert page.get_attribute("track[srclang=ru]", "src") != old_src
    # The refused track, the old link asked (HEAD), the fresh link.
    assert caption_requests[before:] == [("GET", 410), ("HEAD", 410), ("GET", 200)]
    assert [e for e in phone.errors if "410" not in e] == []
    phone.page.context.close()


def test_audio_plays_seeks_with_a_range_request_and_resumes_on_another_device(
    browser: Any, live_server: Any, reader: User
) -> None:
    # Long enough (150 s, ~1.6 MB) that the player cannot have it all before the seek.
    talk = attach(record(title="Suhbat"), samples.audio("ogg", seconds=150), name="suhbat.ogg")
    phone = _signed_in_page(browser, live_server, reader, PHONE)
    requests = _byte_requests(phone.page)
    page = _open(phone, live_server, talk)
    _play(page)
    page.evaluate("document.getElementById('reader-media').pause()")
    before = len(requests)
    saved = _saved_after(page, lambda: page.evaluate(f"{MEDIA}.currentTime = 120"))
    assert float(saved["position"]) == pytest.approx(120, abs=1)
    assert saved["progress"] == pytest.approx(0.8, abs=0.01)
    seeks = requests[before:]
    assert seeks and all(status == 206 for _range, status, _content in seeks)
    assert all(header and not header.startswith("bytes=0-") for header, _status, _content in seeks)
    _play(page)
    assert page.evaluate("document.getElementById('reader-media').currentTime") > 120
    assert phone.errors == []

    laptop = _signed_in_page(browser, live_server, reader, DESKTOP)
    page = _open(laptop, live_server, talk)
    assert page.evaluate("document.getElementById('reader-media').currentTime") >= 119
    assert laptop.errors == []
    phone.page.context.close()
    laptop.page.context.close()


def test_audio_carries_on_at_the_same_second_when_its_link_expires(
    browser: Any, live_server: Any, reader: User, monkeypatch: Any, settings: Any
) -> None:
    talk = attach(record(title="Maʼruza"), samples.audio("ogg", seconds=150), name="maruza.ogg")
    phone = _signed_in_page(browser, live_server, reader, PHONE)
    requests = _byte_requests(phone.page)
    page = _open(phone, live_server, talk)
    first_link = page.get_attribute("#reader", "data-url")
    _play(page)

    # The link's lifetime passes: the next range request is refused 410.
    _expire_links(monkeypatch, settings)
    before = len(requests)
    page.evaluate(f"{MEDIA}.currentTime = 120")

    _until(page, "document.getElementById('reader').dataset.renewed === '1'")
    assert any(status == 410 for _range, status, _content in requests[before:])
    assert page.get_attribute("#reader", "data-url") != first_link
    _until(page, f"{MEDIA}.currentTime > 120.3")  # still playing, from where it was
    assert page.evaluate(f"{MEDIA}.currentTime") < 135
    assert page.evaluate(f"!{MEDIA}.paused")
    renewed = requests[before:]
    assert renewed[-1][1] == 206
    # The expired link's refusal is the browser's only complaint.
    assert [e for e in phone.errors if "410" not in e] == []
    phone.page.context.close()


def test_a_3d_model_loads_in_model_viewer(browser: Any, live_server: Any, reader: User) -> None:
    vase = attach(record(title="Koʻza"), samples.glb(), name="koza.glb")
    phone = _signed_in_page(browser, live_server, reader, PHONE)
    page = _open(phone, live_server, vase)  # ready is set by model-viewer's "load" event
    assert page.evaluate("document.getElementById('reader-model').loaded") is True
    assert page.get_attribute("#reader-model", "ar-modes") == "webxr scene-viewer quick-look"
    assert page.get_attribute("#reader-model", "alt") == "Koʻza"
    # A desktop browser cannot place a model in the room: no AR button is offered.
    assert page.evaluate("document.getElementById('reader-model').canActivateAR") is False
    assert not page.locator(".reader-ar").is_visible()
    assert _fits(page)
    assert phone.errors == []
    phone.page.context.close()
