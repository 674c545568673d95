"""After an upload a job reads each page's text and draws a thumbnail; broken files fail softly."""

from __future__ import annotations

import hashlib
import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from kitobxon.catalogue.models import Record
from kitobxon.digital import extract, samples, tasks
from kitobxon.digital.models import DigitalFile, FileKind, PageText, TextStatus
from kitobxon.digital.services.extraction import extract_file
from kitobxon.digital.tests import factories
from kitobxon.search.models import PendingChange

pytestmark = pytest.mark.django_db

UZBEK_PAGES = [
    "Oʻzbekiston Respublikasi poytaxti Toshkent. Kitob oʻqish — gʻalaba.",
    "Ўзбекистон Республикаси пойтахти Тошкент. Китоб ўқиш — ғалаба.",
    "Uchinchi sahifa: kutub\u00adxona va kitobxon.",
]


def stored_file(data: bytes, kind: str = FileKind.PDF, record: Record | None = None) -> DigitalFile:
    """A file row over stored bytes without the upload's checks, as a damaged store would hold."""
    digest = hashlib.sha256(data).hexdigest()
    name = default_storage.save(f"files/test/{digest}.{kind}", ContentFile(data))
    return DigitalFile.objects.create(
        record=record or factories.record(),
        kind=kind,
        original_name=Path(name).name,
        name=name,
        content_type="application/octet-stream",
        size=len(data),
        sha256=digest,
    )


def page_texts(file: DigitalFile) -> list[tuple[int, str]]:
    return list(PageText.objects.filter(file=file).values_list("number", "text"))


def is_jpeg(data: bytes) -> tuple[str, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format or "", image.width


def test_each_pdf_page_keeps_its_own_uzbek_latin_and_cyrillic_words() -> None:
    file = factories.attach(data=samples.pdf(UZBEK_PAGES))

    extract_file(file)

    file.refresh_from_db()
    pages = page_texts(file)
    assert [number for number, _text in pages] == [1, 2, 3]
    assert "Oʻzbekiston Respublikasi poytaxti Toshkent" in pages[0][1]
    assert "Ўзбекистон Республикаси пойтахти Тошкент" in pages[1][1]
    assert "Тошкент" not in pages[0][1] and "Toshkent" not in pages[1][1]
    assert "kutubxona va kitobxon" in pages[2][1]  # the soft hyphen is gone
    assert (file.page_count, file.text_status) == (3, TextStatus.EXTRACTED)
    assert "extraction" not in file.flags


def test_epub_chapters_are_pages_in_reading_order() -> None:
    book = samples.epub(
        [("Birinchi bob", "Bahor keldi.\n\nQushlar sayradi."), ("Ikkinchi bob", "Yoz issiq.")]
    )
    file = factories.attach(data=book, name="kitob.epub")

    extract_file(file)

    file.refresh_from_db()
    assert page_texts(file) == [
        (1, "Birinchi bob Bahor keldi. Qushlar sayradi."),
        (2, "Ikkinchi bob Yoz issiq."),
    ]
    assert (file.page_count, file.text_status) == (2, TextStatus.EXTRACTED)


def test_a_scanned_pdf_is_marked_scanned_when_ocr_is_off(settings) -> None:
    settings.DIGITAL_OCR = False
    file = factories.attach(data=samples.scanned_pdf(3), name="skan.pdf")

    extract_file(file)

    file.refresh_from_db()
    assert (file.page_count, file.text_status) == (3, TextStatus.SCANNED)
    assert [text for _number, text in page_texts(file)] == ["", "", ""]


@pytest.mark.skipif(
    shutil.which("tesseract") is None,
    reason="tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng)",
)
def test_a_scanned_pdf_is_recognised_when_ocr_is_on(settings) -> None:
    settings.DIGITAL_OCR, settings.DIGITAL_OCR_LANGUAGES = True, "eng"
    file = factories.attach(data=samples.scanned_pdf(2), name="skan.pdf")

    extract_file(file)

    file.refresh_from_db()
    assert file.text_status == TextStatus.OCR
    assert "page 2" in page_texts(file)[1][1].lower()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_a_scan_stays_scanned_with_the_reason_when_ocr_fails(settings) -> None:
    settings.DIGITAL_OCR, settings.DIGITAL_OCR_LANGUAGES = True, "xx_no_such_language"
    file = factories.attach(data=samples.scanned_pdf(1), name="skan.pdf")

    extract_file(file)

    file.refresh_from_db()
    assert file.text_status == TextStatus.SCANNED
    assert "xx_no_such_language" in file.flags["extraction"]


def test_a_pdf_with_a_typed_cover_sheet_over_scanned_pages_is_still_a_scan() -> None:
    cover = [(1, "Kitobxon kutubxonasi raqamli nusxasi, 2026-yil. " * 3)]

    assert extract.looks_scanned(cover + [(n, f"- {n} -") for n in range(2, 11)], 10)
    assert not extract.looks_scanned([(n, "Navoiy gʻazallari") for n in range(1, 11)], 10)


def test_a_broken_pdf_fails_with_its_reason_and_the_job_survives() -> None:
    file = stored_file(b"%PDF-1.4\nthis is not a PDF at all\n%%EOF\n")

    outcome = tasks.extract_file_task(file.pk)

    assert outcome() == TextStatus.FAILED
    file.refresh_from_db()
    assert file.text_status == TextStatus.FAILED
    assert file.page_count is None
    assert "PdfiumError" in file.flags["extraction"]
    assert page_texts(file) == []


def test_extracting_again_replaces_the_pages_and_clears_an_old_failure() -> None:
    file = factories.attach(data=samples.pdf(["Bir", "Ikki"]))
    file.flags = {"extraction": "an earlier failure"}
    file.save(update_fields=["flags"])

    extract_file(file)
    extract_file(file)

    file.refresh_from_db()
    assert page_texts(file) == [(1, "Bir"), (2, "Ikki")]
    assert file.flags == {}


def test_extraction_reindexes_the_record() -> None:
    file = factories.attach(data=samples.pdf(["Izlash"]))
    PendingChange.objects.all().delete()

    extract_file(file)

    assert list(PendingChange.objects.values_list("kind", "object_id")) == [
        ("record", str(file.record_id))
    ]


@pytest.mark.parametrize(
    ("data", "name", "width"),
    [
        (samples.pdf(["Muqova"]), "kitob.pdf", 300),
        (samples.epub([("Bob", "Matn.")]), "kitob.epub", 60),
        (samples.png(800, 1200), "muqova.png", 300),
    ],
)
def test_documents_and_images_get_a_jpeg_thumbnail_named_by_their_digest(
    data: bytes, name: str, width: int
) -> None:
    file = factories.attach(data=data, name=name)

    extract_file(file)

    file.refresh_from_db()
    assert file.thumbnail == f"thumbs/{file.sha256}.jpg"
    with default_storage.open(file.thumbnail, "rb") as stored:
        assert is_jpeg(stored.read()) == ("JPEG", width)


def test_an_image_with_transparency_is_flattened_on_white(tmp_path: Path) -> None:
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(tmp_path / "clear.png", "PNG")
    jpeg = extract.thumbnail(tmp_path / "clear.png", FileKind.IMAGE)

    assert jpeg is not None
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.convert("RGB").getpixel((20, 20)) == (255, 255, 255)


def test_images_above_the_pixel_limit_get_no_thumbnail(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "big.png").write_bytes(samples.png(60, 90))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    assert extract.thumbnail(tmp_path / "big.png", FileKind.IMAGE) is None


def test_audio_gets_no_text_and_no_thumbnail() -> None:
    file = stored_file(samples.audio("mp3"), FileKind.AUDIO)

    extract_file(file)

    file.refresh_from_db()
    assert (file.text_status, file.page_count, file.thumbnail) == (TextStatus.NONE, None, "")


QUEUED_TEXT = "Bu sahifa navbat orqali, yuklangandan keyin oʻqiladi."


def test_the_upload_runs_extraction_through_the_job_queue(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        file = factories.attach(data=samples.pdf([QUEUED_TEXT]))

    file.refresh_from_db()
    assert file.text_status == TextStatus.EXTRACTED
    assert page_texts(file) == [(1, QUEUED_TEXT)]


def test_the_job_skips_a_file_removed_before_it_ran() -> None:
    assert tasks.extract_file_task(987654)() == "gone"


def test_files_in_remote_storage_are_read_from_a_temporary_copy(settings) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    file = stored_file(samples.pdf(["Bulutdagi kitob"]))
    assert not Path(default_storage.path(file.name)).exists()  # the bytes are not on disk

    extract_file(file)

    file.refresh_from_db()
    assert page_texts(file) == [(1, "Bulutdagi kitob")]
    assert default_storage.exists(file.thumbnail)


def test_records_whose_embargo_ends_today_are_reindexed() -> None:
    today = timezone.localdate()
    lifted = factories.attach(data=samples.pdf(["Ochildi"]), embargo_until=today)
    missed = factories.attach(data=samples.pdf(["Kecha"]), embargo_until=today - timedelta(1))
    factories.attach(data=samples.pdf(["Hali yopiq"]), embargo_until=today + timedelta(1))
    factories.attach(data=samples.pdf(["Eski"]), embargo_until=today - timedelta(30))
    PendingChange.objects.all().delete()

    assert tasks.reindex_lifted_embargoes.call_local() == 2

    assert sorted(PendingChange.objects.values_list("object_id", flat=True)) == sorted(
        [str(lifted.record_id), str(missed.record_id)]
    )


def test_the_embargo_job_runs_ten_past_midnight_local_time(settings) -> None:
    from datetime import datetime

    settings.TIME_ZONE = "Asia/Tashkent"  # UTC+5, no daylight saving

    assert tasks.is_embargo_time(datetime(2026, 3, 1, 19, 10))  # naive UTC, 00:10 in Tashkent
    assert not tasks.is_embargo_time(datetime(2026, 3, 1, 0, 10))


def test_text_is_normalised_lightly() -> None:
    assert (
        extract.normalise(" kutub\u00adxona\r\n\tva\x00  kitob\x02xon ") == "kutubxona va kitobxon"
    )
