"""Watermarking a PDF: every page names the reader and carries the fingerprint, nothing is lost."""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.constants import UserAccessPermissions
from pypdf.generic import DictionaryObject, NameObject, NumberObject, RectangleObject

from kitobxon.digital import errors, samples, watermark

FINGERPRINT = "3f9a0c1d2e3f4a5b"
LINES = ["Kitobxon", "Oʻgʻiloy Тошматова", "Card 2900001234", "2026-12-04"]


def write(tmp_path: Path, data: bytes, name: str = "source.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def mark(source: Path, lines: list[str] = LINES, fingerprint: str = FINGERPRINT) -> bytes:
    out = io.BytesIO()
    watermark.watermark_pdf(source, out, lines=lines, fingerprint=fingerprint)
    return out.getvalue()


def page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def renders(data: bytes) -> list[Image.Image]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.render(scale=2).to_pil().convert("L") for page in document]
    finally:
        document.close()


def new_marks(before: Image.Image, after: Image.Image) -> list[tuple[int, int]]:
    """Pixels (x, y from the top left, as the reader sees the page) that turned dark."""
    width, height = after.size
    old, new = before.load(), after.load()
    return [
        (x, y)
        for y in range(height)
        for x in range(0, width, 2)
        if new[x, y] < 160 <= old[x, y]  # type: ignore[index,operator]
    ]


def assert_footer_at_the_bottom_centre(before: Image.Image, after: Image.Image) -> None:
    marks = new_marks(before, after)
    assert marks, "no footer drawn"
    columns, rows = [x for x, _y in marks], [y for _x, y in marks]
    assert min(rows) > after.height * 0.95, (after.size, min(rows))
    middle = (min(columns) + max(columns)) / 2
    assert abs(middle - after.width / 2) < after.width * 0.02, (after.size, middle)


def rotated_pages() -> bytes:
    """Five pages: upright, turned 90, 180 and 270 degrees, and a small offset box turned 270."""
    writer = PdfWriter(
        clone_from=PdfReader(
            io.BytesIO(samples.pdf(["Nol", "Toʻqson", "Bir yuz sakson", "270", "Siljigan"]))
        )
    )
    for page, turn in zip(writer.pages, (0, 90, 180, 270, 270), strict=True):
        if turn:
            page.rotate(turn)
    writer.pages[4].mediabox = RectangleObject([100, 200, 500, 700])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_every_page_carries_the_card_number_and_the_fingerprint(tmp_path: Path) -> None:
    source = samples.pdf([f"Sahifa {n}" for n in range(1, 13)])
    texts = page_texts(mark(write(tmp_path, source)))
    assert len(texts) == 12
    for text in texts:
        assert "Card 2900001234" in text
        assert f"ID {FINGERPRINT}" in text
        assert "2026-12-04" in text


def test_the_page_count_and_the_original_text_are_unchanged(tmp_path: Path) -> None:
    source = samples.pdf(["Oʻtkan kunlar, birinchi bob", "Ikkinchi bob: Кеча ва кундуз"])
    before = page_texts(source)
    after = page_texts(mark(write(tmp_path, source)))
    assert len(after) == len(before) == 2
    for old, new in zip(before, after, strict=True):
        assert new.startswith(old.strip())


def test_cyrillic_and_uzbek_names_print_in_a_font_that_has_them(tmp_path: Path) -> None:
    text = page_texts(mark(write(tmp_path, samples.pdf(["Matn"]))))[0]
    assert "Oʻgʻiloy Тошматова" in text


def test_the_fingerprint_is_in_the_document_information_without_xmp(tmp_path: Path) -> None:
    marked = PdfReader(io.BytesIO(mark(write(tmp_path, samples.pdf(["Matn"])))))
    assert marked.metadata is not None
    assert marked.metadata[watermark.INFO_KEY] == FINGERPRINT
    assert marked.metadata["/Title"] == "Kitobxon"  # the document's own information is kept
    assert "/Metadata" not in cast(DictionaryObject, marked.trailer["/Root"])


def test_the_copy_is_written_whole_so_no_unmarked_revision_hides_in_it(tmp_path: Path) -> None:
    marked = mark(write(tmp_path, samples.pdf(["Matn", "Yana"])))
    assert marked.count(b"%%EOF") == 1


def test_the_footer_sits_at_the_bottom_of_rotated_and_offset_pages(tmp_path: Path) -> None:
    source = rotated_pages()
    before, after = renders(source), renders(mark(write(tmp_path, source), lines=["Card 1"]))
    for old, new in zip(before, after, strict=True):
        assert_footer_at_the_bottom_centre(old, new)
    texts = page_texts(mark(write(tmp_path, source)))
    assert all(FINGERPRINT in text for text in texts)
    assert "Toʻqson" in texts[1]


def test_pages_that_inherit_their_box_and_resources_keep_their_text(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf(["Birinchi", "Ikkinchi"]))))
    tree = cast(DictionaryObject, writer._root_object["/Pages"].get_object())
    tree[NameObject("/Resources")] = writer.pages[0]["/Resources"]
    tree[NameObject("/MediaBox")] = writer.pages[0]["/MediaBox"]
    tree[NameObject("/Rotate")] = NumberObject(90)
    for page in writer.pages:
        del page["/Resources"], page["/MediaBox"]
    out = io.BytesIO()
    writer.write(out)
    source = out.getvalue()
    assert source.count(b"/Resources") == 1

    marked = mark(write(tmp_path, source), lines=["Card 1"])
    texts = page_texts(marked)
    assert texts[0].startswith("Birinchi") and texts[1].startswith("Ikkinchi")
    assert all(f"ID {FINGERPRINT}" in text for text in texts)
    assert_footer_at_the_bottom_centre(renders(source)[0], renders(marked)[0])


def test_pages_of_many_sizes_each_get_the_footer_at_the_bottom_and_share_one_font(
    tmp_path: Path,
) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf(["Sahifa"] * 6))))
    for number, page in enumerate(writer.pages):
        page.mediabox = RectangleObject([0, 0, 300 + 60 * number, 700 - 50 * number])
    out = io.BytesIO()
    writer.write(out)
    source = out.getvalue()

    marked = mark(write(tmp_path, source), lines=["Card 1"])

    for old, new in zip(renders(source), renders(marked), strict=True):
        assert_footer_at_the_bottom_centre(old, new)
    assert marked.count(b"/FontFile2") == source.count(b"/FontFile2") + 1


def test_a_long_footer_shrinks_to_fit_a_narrow_page(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf(["Tor"]))))
    writer.pages[0].mediabox = RectangleObject([0, 0, 150, 300])
    out = io.BytesIO()
    writer.write(out)
    marked = mark(write(tmp_path, out.getvalue()))
    document = pdfium.PdfDocument(marked)
    try:
        text = document[0].get_textpage()
        start = text.get_text_range().index(FINGERPRINT)
        right = max(text.get_charbox(start + i)[2] for i in range(len(FINGERPRINT)))
        assert right <= 150
    finally:
        document.close()


def test_a_pdf_with_an_empty_user_password_is_marked_and_keeps_its_restrictions(
    tmp_path: Path,
) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf(["Yopiq"]))))
    writer.encrypt(
        user_password="",
        owner_password="owner",
        algorithm="AES-128",
        permissions_flag=UserAccessPermissions.PRINT,
    )
    out = io.BytesIO()
    writer.write(out)

    marked = mark(write(tmp_path, out.getvalue()))

    assert FINGERPRINT in page_texts(marked)[0]
    reopened = PdfReader(io.BytesIO(marked))
    assert reopened.is_encrypted and reopened.decrypt("")
    assert reopened.user_access_permissions == UserAccessPermissions.PRINT


def test_a_pdf_locked_by_a_password_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf(["Sir"]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(errors.NotDownloadable):
        mark(write(tmp_path, out.getvalue()))


def test_a_file_that_is_not_a_pdf_is_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.NotDownloadable):
        mark(write(tmp_path, b"%PDF-1.7\nthis is not really a PDF"))


def test_the_font_is_dejavu_sans() -> None:
    assert watermark.font_path().name == "DejaVuSans.ttf"
