"""The text and the thumbnail of a stored file, read from a local path.

Pure functions: no database, no storage. A PDF's text comes from pdfium page by page, so a
thousand-page book needs the memory of one page; an EPUB's text comes from its spine documents,
one "page" each, in reading order. Page numbers start at 1, as readers count them. A PDF with
(almost) no text layer is a scan; its text can be recognised with the ``tesseract`` program
when the library has switched OCR on.

pdfium is not thread-safe; these functions run in the job worker, one file at a time.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lxml import etree

from kitobxon.digital.inspect import EPUB_MAX_XML, OPF_NS, xml_parser
from kitobxon.digital.models import FileKind

logger = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 300
#: A thumbnail is never taller than this (a very long page or strip is cropped by scaling).
THUMBNAIL_MAX_HEIGHT = 900
#: A page with fewer letters or digits than this has no real text layer (a scan, a picture):
#: enough to ignore a lone page number, few enough that a short title page still counts.
MIN_PAGE_CHARACTERS = 8
#: A PDF is a scan when fewer than this share of its pages has text.
MIN_TEXT_PAGE_SHARE = 0.25
OCR_DPI = 300
OCR_TIMEOUT_SECONDS = 180
#: A cover image is read from the EPUB up to this size.
MAX_COVER_BYTES = 20 * 1024 * 1024

CONTAINER = "META-INF/container.xml"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
XHTML_TYPES = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}
SKIPPED_ELEMENTS = {"script", "style", "head", "title"}
BLOCK_ELEMENTS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "nav", "ol",
    "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip
#: Soft hyphens, pdfium's end-of-line hyphen marks, NUL (PostgreSQL refuses it in text).
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\x02\ufffe\x00\u200b\ufeff"))
SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Soft hyphens and invisible marks removed, every run of whitespace one space."""
    return SPACES.sub(" ", text.translate(INVISIBLE)).strip()


# --- PDF -------------------------------------------------------------------------------------


def pdf_pages(path: Path) -> Iterator[tuple[int, str]]:
    """(number, text) of every page, read one page at a time (constant memory)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
            finally:
                page.close()
            yield index + 1, normalise(text)
    finally:
        document.close()


def pdf_page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def looks_scanned(pages: list[tuple[int, str]], page_count: int) -> bool:
    """A scan: fewer than a quarter of the pages carry text (a typed cover sheet does not count)."""
    if page_count <= 0:
        return False
    with_text = sum(1 for _number, text in pages if _letters(text) >= MIN_PAGE_CHARACTERS)
    return with_text < page_count * MIN_TEXT_PAGE_SHARE


def textless_pages(pages: list[tuple[int, str]]) -> set[int]:
    """The numbers of pages without real text: what OCR should read."""
    return {number for number, text in pages if _letters(text) < MIN_PAGE_CHARACTERS}


def _letters(text: str) -> int:
    return sum(1 for character in text if character.isalnum())


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_pdf_pages(
    path: Path, languages: str, *, only: Collection[int] | None = None
) -> Iterator[tuple[int, str]]:
    """Recognise the text of each page (or of the pages numbered in ``only``) with tesseract.

    Each page is rendered at 300 dpi in grey and handed to the ``tesseract`` program through
    stdin; its text comes back on stdout. Raises ``FileNotFoundError`` without tesseract.
    """
    import pypdfium2 as pdfium

    program = shutil.which("tesseract")
    if program is None:
        raise FileNotFoundError("tesseract is not installed")
    document = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(document)):
            if only is not None and index + 1 not in only:
                continue
            page = document[index]
            try:
                image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
            finally:
                page.close()
            png = io.BytesIO()
            image.save(png, "PNG")
            done = subprocess.run(  # noqa: S603 — a fixed program; languages come from settings
                [program, "stdin", "stdout", "-l", languages, "--psm", "1"],
                input=png.getvalue(),
                capture_output=True,
                timeout=OCR_TIMEOUT_SECONDS,
                check=True,
            )
            yield index + 1, normalise(done.stdout.decode("utf-8", "replace"))
    finally:
        document.close()


# --- EPUB ------------------------------------------------------------------------------------


def epub_pages(path: Path) -> Iterator[tuple[int, str]]:
    """(number, text) of every spine document in reading order; each is one "page".

    A spine item that is not XHTML (an image, say) is a page without text, so page numbers
    stay those of the reading order.
    """
    with zipfile.ZipFile(path) as archive:
        package_path, package = _package(archive)
        manifest = _manifest(package, package_path)
        spine = package.find(f"{{{OPF_NS}}}spine")
        itemrefs = [] if spine is None else spine.findall(f"{{{OPF_NS}}}itemref")
        for number, itemref in enumerate(itemrefs, start=1):
            href, media_type, _properties = manifest.get(itemref.get("idref", ""), ("", "", ""))
            if media_type not in XHTML_TYPES or not href:
                yield number, ""
                continue
            yield number, _document_text(_read(archive, href, EPUB_MAX_XML))


def _package(archive: zipfile.ZipFile) -> tuple[str, etree._Element]:
    container = etree.fromstring(_read(archive, CONTAINER, EPUB_MAX_XML), parser=xml_parser())
    rootfile = container.find(f".//{{{CONTAINER_NS}}}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise ValueError("container.xml names no package document")
    package_path = str(rootfile.get("full-path"))
    return package_path, etree.fromstring(
        _read(archive, package_path, EPUB_MAX_XML), parser=xml_parser()
    )


def _manifest(package: etree._Element, package_path: str) -> dict[str, tuple[str, str, str]]:
    """Manifest id → (member name in the archive, media type, properties)."""
    base = posixpath.dirname(package_path)
    items: dict[str, tuple[str, str, str]] = {}
    for item in package.iterfind(f"{{{OPF_NS}}}manifest/{{{OPF_NS}}}item"):
        href = unquote(item.get("href", "").split("#", 1)[0])
        name = posixpath.normpath(posixpath.join(base, href)) if href else ""
        items[item.get("id", "")] = (name, item.get("media-type", ""), item.get("properties", ""))
    return items


def _read(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    if name.startswith("/") or ".." in name.split("/"):
        raise ValueError(f"unsafe member name {name!r}")
    with archive.open(name) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{name} is larger than {limit} bytes")
    return data


def _document_text(data: bytes) -> str:
    """The readable text of an XHTML document, blocks separated, scripts and styles left out."""
    try:
        root = etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError:
        root = etree.fromstring(data, parser=etree.HTMLParser(no_network=True))
    if root is None:
        return ""
    body = next((e for e in root.iter() if _local_name(e) == "body"), root)
    parts: list[str] = []
    _collect(body, parts)
    return normalise("".join(parts))


def _collect(element: Any, parts: list[str]) -> None:
    name = _local_name(element)
    if name in SKIPPED_ELEMENTS or not isinstance(element.tag, str):
        return
    block = name in BLOCK_ELEMENTS
    if block:
        parts.append(" ")
    parts.append(element.text or "")
    for child in element:
        _collect(child, parts)
        parts.append(child.tail or "")
    if block:
        parts.append(" ")


def _local_name(element: Any) -> str:
    tag = element.tag
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


# --- Thumbnails ------------------------------------------------------------------------------


def thumbnail(path: Path, kind: str) -> bytes | None:
    """A JPEG about 300 px wide: a PDF's first page, an EPUB's cover, an image itself.

    Other kinds, an EPUB without a cover and images that cannot be read safely give None.
    """
    if kind == FileKind.PDF:
        return _pdf_thumbnail(path)
    if kind == FileKind.EPUB:
        cover = _epub_cover(path)
        return _image_thumbnail(io.BytesIO(cover)) if cover else None
    if kind == FileKind.IMAGE:
        with path.open("rb") as stream:
            return _image_thumbnail(stream)
    return None


def _pdf_thumbnail(path: Path) -> bytes | None:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    try:
        if len(document) == 0:
            return None
        page = document[0]
        try:
            width, height = page.get_size()
            scale = min(THUMBNAIL_WIDTH / width, THUMBNAIL_MAX_HEIGHT / height)
            image = page.render(scale=scale).to_pil()
        finally:
            page.close()
    finally:
        document.close()
    return _jpeg(image)


def _epub_cover(path: Path) -> bytes | None:
    """EPUB 3 ``properties="cover-image"``, else the EPUB 2 ``<meta name="cover">`` item."""
    with zipfile.ZipFile(path) as archive:
        package_path, package = _package(archive)
        manifest = _manifest(package, package_path)
        chosen = next(
            (name for name, _type, props in manifest.values() if "cover-image" in props.split()),
            "",
        )
        if not chosen:
            meta = package.find(f"{{{OPF_NS}}}metadata/{{{OPF_NS}}}meta[@name='cover']")
            if meta is not None:
                chosen = manifest.get(meta.get("content", ""), ("", "", ""))[0]
        if not chosen or not manifest_is_image(manifest, chosen):
            return None
        return _read(archive, chosen, MAX_COVER_BYTES)


def manifest_is_image(manifest: dict[str, tuple[str, str, str]], name: str) -> bool:
    return any(item == name and kind.startswith("image/") for item, kind, _p in manifest.values())


def _image_thumbnail(stream: Any) -> bytes | None:
    """Pillow refuses images above its pixel limit (decompression bombs); so does this."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                image.draft("RGB", (THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT))
                image.seek(0)
                oriented = ImageOps.exif_transpose(image)
                oriented.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT))
                return _jpeg(oriented)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError):
        logger.warning("no thumbnail: the image cannot be read safely", exc_info=True)
        return None


def _jpeg(image: Any) -> bytes:
    from PIL import Image

    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()
