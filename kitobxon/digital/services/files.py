"""Attaching files to records, changing who may open them, and removing them.

An upload is streamed to a temporary file while it is hashed, checked by its content
(``inspect``), then stored under its digest (``files/ab/<sha256>.<ext>``) so that one set of
bytes is stored once, whatever it was called. In the same transaction the ledger registers the
bytes (``file:<id>`` belonging to ``record:<id>``) and the access policy; after the commit a job
extracts the text and makes a thumbnail, and search reindexes the record.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kitobxon.catalogue.models import Record
from kitobxon.core import audit
from kitobxon.digital import errors, inspect, tasks
from kitobxon.digital.models import Access, DigitalFile, FileKind, TextStatus
from kitobxon.ledger import services as ledger
from kitobxon.search import indexing

CHUNK = 1024 * 1024
DOCUMENT_KINDS = {FileKind.PDF, FileKind.EPUB}
POLICY_FIELDS = ("access", "segments", "embargo_until", "downloadable")


def attach_file(
    record: Record,
    upload: IO[bytes] | Any,
    *,
    by: Any,
    original_name: str = "",
    label: str = "",
    access: str = Access.REGISTERED,
    segments: Iterable[str] = (),
    embargo_until: date | None = None,
    downloadable: bool = False,
    caption_for: DigitalFile | None = None,
    caption_language: str = "",
) -> DigitalFile:
    """Store ``upload`` (a Django upload or any binary stream) as a file of ``record``.

    Refuses with ``UploadRefused`` saying why (not what it claims, too big, unsafe); a refused
    upload leaves nothing behind.
    """
    name = original_name or Path(str(getattr(upload, "name", "") or "file")).name
    settings.DATA_DIR.joinpath("tmp").mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=settings.DATA_DIR / "tmp", suffix=".upload") as spool:
        digest, size = _spool(upload, spool)
        found = inspect.inspect_upload(Path(spool.name), name)
        if caption_for is not None and found.kind != FileKind.CAPTIONS:
            raise errors.UploadRefused(_("Captions must be a WebVTT file."))
        if found.kind == FileKind.CAPTIONS and caption_for is None:
            raise errors.UploadRefused(_("Attach captions to a video or audio file of the record."))
        stored = f"files/{digest[:2]}/{digest}.{found.extension}"
        if not default_storage.exists(stored):
            spool.seek(0)
            saved = default_storage.save(stored, File(spool))
            if saved != stored:  # another upload of the same bytes won the race
                default_storage.delete(saved)
    with transaction.atomic():
        position = (
            DigitalFile.objects.filter(record=record).aggregate(last=Max("position"))["last"] or 0
        )
        file = DigitalFile.objects.create(
            record=record,
            kind=found.kind,
            label=label.strip()[:300],
            original_name=name[:300],
            name=stored,
            content_type=found.content_type,
            size=size,
            sha256=digest,
            caption_for=caption_for,
            caption_language=caption_language,
            text_status=TextStatus.PENDING if found.kind in DOCUMENT_KINDS else TextStatus.NONE,
            flags=dict(found.flags),
            access=access,
            segments=sorted(set(segments)),
            embargo_until=embargo_until,
            downloadable=downloadable,
            position=position + 1,
            created_by=by if getattr(by, "pk", None) else None,
        )
        audit.record(
            "digital.file_attached",
            file,
            by=by,
            changes={"record": record.pk, "sha256": digest, "size": size, "kind": found.kind},
        )
        ledger.register_file(
            subject=file.subject,
            path=stored,
            sha256=digest,
            size=size,
            belongs_to=f"record:{record.pk}",
        )
        _record_policy(file)
        if found.kind in DOCUMENT_KINDS or found.kind == FileKind.IMAGE:
            tasks.schedule_extraction(file.pk)
        indexing.enqueue("record", [record.pk])
    return file


def change_file(
    file: DigitalFile,
    *,
    by: Any,
    label: str | None = None,
    access: str | None = None,
    segments: Iterable[str] | None = None,
    embargo_until: date | str | None = "",
    downloadable: bool | None = None,
) -> DigitalFile:
    """Change a file's label or who may open it; a policy change is a ledger entry.

    ``embargo_until`` left as "" keeps the embargo; None lifts it.
    """
    with transaction.atomic():
        file = DigitalFile.objects.select_for_update().get(pk=file.pk)
        before = {name: getattr(file, name) for name in ("label", *POLICY_FIELDS)}
        if label is not None:
            file.label = label.strip()[:300]
        if access is not None:
            file.access = access
        if segments is not None:
            file.segments = sorted(set(segments))
        if embargo_until != "":
            file.embargo_until = embargo_until
        if downloadable is not None:
            file.downloadable = downloadable
        after = {name: getattr(file, name) for name in ("label", *POLICY_FIELDS)}
        changed = [name for name in after if after[name] != before[name]]
        if not changed:
            return file
        file.save(update_fields=[*changed, "modified_at"])
        audit.record(
            "digital.file_changed",
            file,
            by=by,
            changes={name: [str(before[name]), str(after[name])] for name in changed},
        )
        if any(name in POLICY_FIELDS for name in changed):
            _record_policy(file)
            indexing.enqueue("record", [file.record_id])
    return file


def remove_file(file: DigitalFile, *, by: Any) -> None:
    """Remove a file from its record; its bytes go when no other file shares them."""
    with transaction.atomic():
        file = DigitalFile.objects.select_for_update().get(pk=file.pk)
        record_id, name, thumbnail, digest = file.record_id, file.name, file.thumbnail, file.sha256
        audit.record("digital.file_removed", file, by=by, changes={"sha256": digest})
        ledger.record(
            "file.removed",
            subject=file.subject,
            data={"record": f"record:{record_id}"},
            sha256=digest,
        )
        for caption in file.captions.all():
            ledger.record("file.removed", subject=caption.subject, sha256=caption.sha256)
        file.delete()
        shared = DigitalFile.objects.filter(name=name).exists()
        indexing.enqueue("record", [record_id])

        def delete_bytes() -> None:
            if not shared:
                default_storage.delete(name)
                if thumbnail:
                    default_storage.delete(thumbnail)

        transaction.on_commit(delete_bytes)


def _record_policy(file: DigitalFile) -> None:
    """Who may open the file, as a ledger entry: granted to a class of readers, or revoked."""
    data: dict[str, Any] = {"policy": file.access, "download": file.downloadable}
    if file.access == Access.SEGMENTS:
        data["segments"] = list(file.segments)
    if file.embargo_until:
        data["embargo_until"] = file.embargo_until.isoformat()
    kind = "access.revoked" if file.access == Access.LIBRARIANS else "access.granted"
    ledger.record(kind, subject=file.subject, data=data)


def _spool(upload: Any, spool: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    chunks = (
        upload.chunks(CHUNK) if hasattr(upload, "chunks") else iter(lambda: upload.read(CHUNK), b"")
    )
    for chunk in chunks:
        digest.update(chunk)
        spool.write(chunk)
        size += len(chunk)
    spool.flush()
    return digest.hexdigest(), size
