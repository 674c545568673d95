"""Attaching, changing and removing files: storage by digest, the ledger, nothing left behind."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date

import pytest
from django.core.files.storage import default_storage

from kitobxon.core.models import AuditEvent
from kitobxon.digital import errors, samples
from kitobxon.digital.models import Access, DigitalFile, FileKind, PageText, TextStatus
from kitobxon.digital.services import files
from kitobxon.digital.tests.factories import attach, record
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.DATA_DIR = tmp_path


def entries(subject: str) -> list[tuple[str, dict]]:
    return [
        (e.kind, json.loads(e.body).get("data", {}))
        for e in Entry.objects.filter(subject=subject).order_by("pk")
    ]


def test_a_file_is_stored_under_its_digest_and_registered_in_the_ledger(librarian) -> None:
    content = samples.pdf(["Oʻtkan kunlar", "Ikkinchi sahifa"])
    digest = hashlib.sha256(content).hexdigest()
    target = record()
    file = files.attach_file(
        target, io.BytesIO(content), by=librarian, original_name="Otkan kunlar.PDF"
    )
    assert (file.kind, file.content_type, file.size, file.sha256) == (
        FileKind.PDF,
        "application/pdf",
        len(content),
        digest,
    )
    assert file.name == f"files/{digest[:2]}/{digest}.pdf"
    with default_storage.open(file.name, "rb") as stored:
        assert stored.read() == content
    assert entries(file.subject) == [
        (
            "file.registered",
            {"path": file.name, "size": len(content), "record": f"record:{target.pk}"},
        ),
        ("access.granted", {"policy": "registered", "download": False}),
    ]
    assert Entry.objects.get(subject=file.subject, kind="file.registered").sha256 == digest
    assert AuditEvent.objects.filter(
        action="digital.file_attached", object_id=str(file.pk)
    ).exists()


def test_the_name_does_not_decide_the_type(librarian) -> None:
    file = attach(data=samples.epub([("Bob", "Matn")]), name="kitob.pdf")
    assert (file.kind, file.name.rsplit(".", 1)[1]) == (FileKind.EPUB, "epub")


def test_a_refused_upload_leaves_nothing_behind(librarian) -> None:
    target = record()
    before = Entry.objects.count()
    with pytest.raises(errors.UploadRefused):
        files.attach_file(
            target,
            io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            by=librarian,
            original_name="cover.svg",
        )
    assert not DigitalFile.objects.exists()
    assert Entry.objects.count() == before
    assert not default_storage.exists("files") or not any(default_storage.listdir("files")[0])


def test_the_same_bytes_are_stored_once_and_kept_while_a_file_uses_them(
    librarian, django_capture_on_commit_callbacks
) -> None:
    content = samples.pdf(["Bir xil"])
    first = attach(data=content)
    second = attach(data=content, name="copy.pdf")
    assert first.name == second.name
    with django_capture_on_commit_callbacks(execute=True):
        files.remove_file(first, by=librarian)
    assert default_storage.exists(second.name)
    with django_capture_on_commit_callbacks(execute=True):
        files.remove_file(second, by=librarian)
    assert not default_storage.exists(second.name)
    assert entries(second.subject)[-1][0] == "file.removed"


def test_extraction_runs_after_the_upload_commits(librarian, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        file = attach(data=samples.pdf(["Navoiy gʻazallari", "Алишер Навоий"]))
    file.refresh_from_db()
    assert file.text_status == TextStatus.EXTRACTED
    assert file.page_count == 2
    pages = list(PageText.objects.filter(file=file).values_list("number", "text"))
    assert [n for n, _ in pages] == [1, 2]
    assert "Навоий" in pages[1][1]


def test_a_policy_change_is_a_ledger_entry_and_a_no_op_is_not(librarian) -> None:
    file = attach(access=Access.OPEN)
    files.change_file(file, by=librarian, access=Access.OPEN)
    assert [kind for kind, _ in entries(file.subject)] == ["file.registered", "access.granted"]
    files.change_file(
        file,
        by=librarian,
        access=Access.SEGMENTS,
        segments=["teacher"],
        embargo_until=date(2027, 1, 1),
    )
    files.change_file(file, by=librarian, access=Access.LIBRARIANS)
    assert entries(file.subject)[2:] == [
        (
            "access.granted",
            {
                "policy": "segments",
                "download": False,
                "segments": ["teacher"],
                "embargo_until": "2027-01-01",
            },
        ),
        (
            "access.revoked",
            {"policy": "librarians", "download": False, "embargo_until": "2027-01-01"},
        ),
    ]
    files.change_file(file, by=librarian, embargo_until=None)
    file.refresh_from_db()
    assert file.embargo_until is None


def test_captions_belong_to_a_video_of_the_record(librarian) -> None:
    video = attach(data=samples.video("webm"), name="film.webm", access=Access.OPEN)
    captions = files.attach_file(
        video.record,
        io.BytesIO(samples.webvtt()),
        by=librarian,
        original_name="uz.vtt",
        caption_for=video,
        caption_language="uz",
    )
    assert (captions.kind, captions.caption_for_id) == (FileKind.CAPTIONS, video.pk)
    with pytest.raises(errors.UploadRefused):
        attach(video.record, samples.webvtt(), name="alone.vtt")
    with pytest.raises(errors.UploadRefused):
        files.attach_file(
            video.record,
            io.BytesIO(samples.png()),
            by=librarian,
            original_name="x.png",
            caption_for=video,
        )
