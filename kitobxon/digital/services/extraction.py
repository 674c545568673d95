"""Reading a stored file's text and drawing its thumbnail, after the upload has committed.

The slow part (pdfium, lxml, tesseract) runs outside any transaction, on a local copy of the
stored bytes; only the result is written, in one short transaction: the pages replace the old
ones, the file gets its page count, text status and thumbnail, and search reindexes the record.

Library rule: a broken file never breaks the job. It ends as ``failed`` with the reason kept in
``flags["extraction"]`` for librarians (a scan that OCR could not read stays ``scanned``, with
the reason there too); only storage or database trouble raises, and huey retries.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from kitobxon.core import audit
from kitobxon.digital import extract
from kitobxon.digital.models import DigitalFile, FileKind, PageText, TextStatus
from kitobxon.search import indexing

logger = logging.getLogger(__name__)

PAGE_BATCH = 500
COPY_CHUNK = 1024 * 1024
DOCUMENT_KINDS = {FileKind.PDF, FileKind.EPUB}


@dataclass
class Extraction:
    pages: list[tuple[int, str]] = field(default_factory=list)
    page_count: int | None = None
    status: str = TextStatus.NONE
    problem: str = ""
    thumbnail: bytes | None = None


def extract_file(file: DigitalFile, *, by: Any = None) -> None:
    """Extract ``file``'s text page by page and its thumbnail, then reindex its record.

    ``by`` is None: the system does this after an upload. Running it again replaces the pages.
    """
    with local_copy(file.name) as path:
        result = read_file(path, file.kind)
    thumbnail_name = _store_thumbnail(file.sha256, result.thumbnail)
    with transaction.atomic():
        current = DigitalFile.objects.select_for_update().filter(pk=file.pk).first()
        if current is None:
            return
        PageText.objects.filter(file=current).delete()
        PageText.objects.bulk_create(
            (PageText(file=current, number=number, text=text) for number, text in result.pages),
            batch_size=PAGE_BATCH,
        )
        flags = dict(current.flags)
        if result.problem:
            flags["extraction"] = result.problem
        else:
            flags.pop("extraction", None)
        current.page_count = result.page_count
        current.text_status = result.status
        current.flags = flags
        current.thumbnail = thumbnail_name or current.thumbnail
        current.save(
            update_fields=["page_count", "text_status", "flags", "thumbnail", "modified_at"]
        )
        audit.record(
            "digital.file_extracted",
            current,
            by=by,
            changes={"text_status": result.status, "pages": result.page_count},
        )
        indexing.enqueue("record", [current.record_id])
    file.page_count, file.text_status = current.page_count, current.text_status
    file.flags, file.thumbnail = current.flags, current.thumbnail


def read_file(path: Path, kind: str) -> Extraction:
    """The text and thumbnail of the file at ``path``; a broken file gives ``failed``, no raise."""
    result = Extraction()
    try:
        if kind == FileKind.PDF:
            _read_pdf(path, result)
        elif kind == FileKind.EPUB:
            result.pages = list(extract.epub_pages(path))
            result.page_count = len(result.pages)
            result.status = TextStatus.EXTRACTED
    except Exception as error:  # a broken file of any kind must not break the job
        logger.warning("text extraction failed for %s", path, exc_info=True)
        result.pages, result.status = [], TextStatus.FAILED
        result.problem = f"{type(error).__name__}: {error}"[:500]
    try:
        result.thumbnail = extract.thumbnail(path, kind)
    except Exception:  # no thumbnail is not a reason to lose the text
        logger.warning("no thumbnail for %s", path, exc_info=True)
    return result


def _read_pdf(path: Path, result: Extraction) -> None:
    """Text layer first; a scan is recognised with tesseract when the library switched OCR on."""
    result.pages = list(extract.pdf_pages(path))
    result.page_count = len(result.pages)
    result.status = TextStatus.EXTRACTED
    if not extract.looks_scanned(result.pages, result.page_count):
        return
    result.status = TextStatus.SCANNED
    if not (settings.DIGITAL_OCR and extract.ocr_available()):
        return
    missing = extract.textless_pages(result.pages)
    try:
        recognised = dict(extract.ocr_pdf_pages(path, settings.DIGITAL_OCR_LANGUAGES, only=missing))
    except (subprocess.SubprocessError, OSError) as error:  # e.g. a language not installed
        logger.warning("OCR failed for %s", path, exc_info=True)
        stderr = getattr(error, "stderr", b"") or b""
        result.problem = f"OCR: {error} {stderr.decode('utf-8', 'replace')}".strip()[:500]
        return
    result.pages = [(number, recognised.get(number, text)) for number, text in result.pages]
    result.status = TextStatus.OCR


@contextlib.contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local path to the stored bytes: the file itself, or a temporary copy of remote bytes."""
    try:
        local: Path | None = Path(default_storage.path(name))
    except NotImplementedError:  # S3 and other remote stores have no local path
        local = None
    if local is not None and local.is_file():
        yield local
        return
    if not default_storage.exists(name):
        raise FileNotFoundError(f"{name} is missing from storage")
    settings.DATA_DIR.joinpath("tmp").mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix
    with (
        tempfile.NamedTemporaryFile(dir=settings.DATA_DIR / "tmp", suffix=suffix) as copy,
        default_storage.open(name, "rb") as stored,
    ):
        shutil.copyfileobj(stored, copy, COPY_CHUNK)
        copy.flush()
        yield Path(copy.name)


def _store_thumbnail(sha256: str, jpeg: bytes | None) -> str:
    """Thumbnails live under their file's digest: the same bytes always draw the same picture."""
    if jpeg is None:
        return ""
    name = f"thumbs/{sha256}.jpg"
    if default_storage.exists(name):
        return name
    saved = default_storage.save(name, ContentFile(jpeg))
    if saved != name:  # another job stored the same thumbnail first
        default_storage.delete(saved)
    return name
