"""Downloads: a copy of a file marked for the reader who takes it, within a daily limit.

Library rules:

- only a signed-in reader downloads, and only what ``queries.opening`` allowed with
  ``download`` (the file's policy, the campus network, the digital loan);
- a reader takes at most ``DIGITAL_DAILY_DOWNLOADS`` copies per library-local day; librarians
  are exempt. The reader's row is locked before today's downloads are counted, so two
  downloads at the limit at once give exactly one copy;
- every download gets a fingerprint (a ``Watermark`` row and a ``watermark.issued`` ledger
  entry), whatever the kind; a PDF has it printed on every page with the reader's name and card
  (``watermark``), other kinds are sent as they are through a signed download link.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kitobxon.accounts.models import User
from kitobxon.core import audit
from kitobxon.digital import errors, links, policy, watermark
from kitobxon.digital.models import DigitalFile, FileKind, Watermark
from kitobxon.digital.services import extraction
from kitobxon.ledger import services as ledger

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Download:
    """What to hand the reader: a marked PDF in a temporary file, or a signed download link.

    The caller streams ``path`` and deletes it (``views.downloads`` and ``api.downloads`` do).
    """

    watermark: Watermark
    filename: str
    path: Path | None = None
    url: str = ""


def download(file: DigitalFile, reader: Any, *, decision: policy.Decision) -> Download:
    """Give ``reader`` a marked copy of ``file``; ``decision`` is ``queries.opening``'s.

    Refuses with ``AccessDenied`` (signed out, or not allowed: the decision's sentence),
    ``NotDownloadable`` or ``DownloadLimit``.
    """
    if not getattr(reader, "is_authenticated", False):
        raise errors.AccessDenied(_("Sign in to download this file."))
    if not decision.allowed:
        raise errors.AccessDenied(decision.message)
    if not decision.download:
        raise errors.NotDownloadable()
    exempt = policy.is_staff(reader)
    if not exempt and downloads_today(reader) >= settings.DIGITAL_DAILY_DOWNLOADS:
        raise errors.DownloadLimit()  # early, before the work of marking

    fingerprint = secrets.token_hex(8)
    marked: Path | None = None
    digest = file.sha256
    if file.kind == FileKind.PDF:
        marked, digest = _mark(file, reader, fingerprint)
    try:
        with transaction.atomic():
            User.objects.select_for_update().get(pk=reader.pk)  # one download at a time
            if not exempt and downloads_today(reader) >= settings.DIGITAL_DAILY_DOWNLOADS:
                raise errors.DownloadLimit()
            issued = Watermark.objects.create(
                fingerprint=fingerprint,
                file=file,
                reader=reader,
                created_at=timezone.now(),
                sha256=digest,
            )
            audit.record(
                "digital.downloaded",
                issued,
                by=reader,
                changes={"file": file.pk, "kind": file.kind},
            )
            ledger.record(
                "watermark.issued",
                subject=file.subject,
                data={"fingerprint": fingerprint},
                reader=reader,
                sha256=digest,
            )
    except BaseException:
        if marked is not None:
            marked.unlink(missing_ok=True)
        raise
    if marked is not None:
        return Download(issued, filename=download_name(file), path=marked)
    return Download(
        issued, filename=download_name(file), url=links.signed_url(file, reader, "download")
    )


def downloads_today(reader: Any) -> int:
    """How many copies ``reader`` took since midnight, library time."""
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return Watermark.objects.filter(reader_id=reader.pk, created_at__gte=midnight).count()


def download_name(file: DigitalFile) -> str:
    """The name the copy is saved under: the uploaded name, made safe."""
    stem, dot, extension = file.original_name.rpartition(".")
    if not dot:
        stem, extension = file.original_name, file.name.rpartition(".")[2]
    return f"{slugify(stem, allow_unicode=True)[:80] or 'file'}.{extension.lower()[:8]}"


def footer(reader: Any) -> list[str]:
    """What a marked page says about who took it (the fingerprint follows)."""
    return [
        str(settings.LIBRARY_NAME),
        str(getattr(reader, "full_name", "") or ""),
        _("Card %(number)s") % {"number": getattr(reader, "card_number", "")},
        timezone.localdate().isoformat(),
    ]


def _mark(file: DigitalFile, reader: Any, fingerprint: str) -> tuple[Path, str]:
    """The marked PDF in a temporary file of ``DATA_DIR/tmp``, and its SHA-256."""
    folder = settings.DATA_DIR / "tmp"
    folder.mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".pdf", delete=False) as out:
        marked = Path(out.name)
        try:
            with extraction.local_copy(file.name) as source:
                watermark.watermark_pdf(source, out, lines=footer(reader), fingerprint=fingerprint)
        except BaseException:
            marked.unlink(missing_ok=True)
            raise
    digest = hashlib.sha256()
    with marked.open("rb") as written:
        while chunk := written.read(CHUNK):
            digest.update(chunk)
    return marked, digest.hexdigest()
