"""Fixity checks: files hashed again, runs kept, and the librarians' report page."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kitobxon.core.models import AuditEvent
from kitobxon.core.testing import session_queries
from kitobxon.ledger import fixity, services, tasks
from kitobxon.ledger.models import FixityRun

pytestmark = pytest.mark.django_db

URL = "/ledger/fixity/"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _as_the_command_says(text: str, plural: str | None = None, count: int = 1) -> str:
    """``text`` as `kitobxon ledger fixity` words it: in the library's language, LANGUAGE_CODE."""
    with translation.override(settings.LANGUAGE_CODE):
        if plural is None:
            return translation.gettext(text)
        return translation.ngettext(text, plural, count)


def _store(name: str, content: bytes, subject: str) -> str:
    path = default_storage.save(name, ContentFile(content))
    services.register_file(
        subject=subject,
        path=path,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        belongs_to="record:1",
    )
    return path


@pytest.fixture
def damaged(media: Path) -> dict[str, str]:
    """Three registered files: one intact, one changed by a byte, one gone."""
    _store("theses/intact.pdf", b"%PDF-1.7 intact", "file:1")
    _store("theses/changed.pdf", b"%PDF-1.7 changed", "file:2")
    _store("theses/gone.pdf", b"%PDF-1.7 gone", "file:3")
    services.integrate()
    (media / "theses/changed.pdf").write_bytes(b"%PDF-1.7 chanGed")
    (media / "theses/gone.pdf").unlink()
    return {
        "changed": hashlib.sha256(b"%PDF-1.7 changed").hexdigest(),
        "found": hashlib.sha256(b"%PDF-1.7 chanGed").hexdigest(),
    }


@pytest.fixture
def reports_reader(make_user: Any) -> Any:
    """A librarian who may read the ledger's reports (the permission is given, not assumed).

    She reads the pages in English (her preferred language), so they are checked in English.
    """
    user = make_user("librarian", language="en")  # Role.LIBRARIAN, named without importing accounts
    user.user_permissions.add(Permission.objects.get(codename="view_ledger_reports"))
    return user


def test_a_run_lists_each_changed_or_missing_file(damaged: dict[str, str], librarian: Any) -> None:
    run = fixity.check_files(by=librarian)
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.files_checked == 3
    problems = {(p["kind"], p["path"], p["expected"], p["found"]) for p in run.problems}
    assert problems == {
        ("file.hash", "theses/changed.pdf", damaged["changed"], damaged["found"]),
        ("file.missing", "theses/gone.pdf", hashlib.sha256(b"%PDF-1.7 gone").hexdigest(), ""),
    }
    event = AuditEvent.objects.get(action="ledger.fixity_checked")
    assert (event.actor, event.object_id) == (librarian, str(run.pk))
    assert event.changes == {"files_checked": 3, "problems": 2}


def test_a_run_over_intact_files_has_no_problems(media: Path) -> None:
    _store("a.txt", b"a", "file:1")
    run = fixity.check_files()
    assert (run.files_checked, run.problems) == (1, [])


def test_the_command_stores_a_run_and_fails_on_problems(damaged: dict[str, str]) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("ledger_fixity", "--json", stdout=out)
    assert raised.value.returncode == 1
    result = json.loads(out.getvalue())
    assert result["id"] == FixityRun.objects.get().pk
    assert result["files_checked"] == 3
    assert {p["path"] for p in result["problems"]} == {"theses/changed.pdf", "theses/gone.pdf"}
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_fixity", stdout=out)
    missing = _as_the_command_says("The file is missing.")
    assert f"theses/gone.pdf: {missing}" in out.getvalue()
    assert FixityRun.objects.count() == 2


def test_the_command_succeeds_when_every_file_matches(media: Path) -> None:
    _store("a.txt", b"a", "file:1")
    out = io.StringIO()
    call_command("ledger_fixity", stdout=out)
    checked = _as_the_command_says("Checked %(count)s file.", "Checked %(count)s files.", 1)
    assert checked % {"count": "1"} in out.getvalue()


def test_the_nightly_job_runs_at_half_past_three(damaged: dict[str, str]) -> None:
    schedule = tasks.check_fixity_nightly.task_class()
    assert schedule.validate_datetime(datetime(2026, 12, 4, 3, 30))
    assert not schedule.validate_datetime(datetime(2026, 12, 4, 3, 31))
    assert not schedule.validate_datetime(datetime(2026, 12, 4, 15, 30))
    tasks.check_fixity_nightly()
    assert FixityRun.objects.get().files_checked == 3


def test_librarians_read_the_report(
    damaged: dict[str, str],
    reports_reader: Any,
    django_assert_num_queries: Any,
) -> None:
    fixity.check_files()
    client = Client()
    client.force_login(reports_reader)
    # session, user, permissions (user's and group's), runs
    with django_assert_num_queries(4 + session_queries()):
        response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("ledger:fixity") == URL
    assert "theses/changed.pdf" in page and "theses/gone.pdf" in page
    assert damaged["changed"] in page and damaged["found"] in page
    assert "The file is missing." in page and "The file&#x27;s bytes have changed." in page
    assert "Files checked" in page and '<meta name="viewport"' in page


def test_the_report_says_so_before_any_run(reports_reader: Any) -> None:
    client = Client()
    client.force_login(reports_reader)
    assert "No fixity check has run yet." in client.get(URL).content.decode()


def test_anyone_else_finds_no_report(
    damaged: dict[str, str], patron_client: Client, librarian: Any, client: Client
) -> None:
    fixity.check_files()
    assert patron_client.get(URL).status_code == 404
    assert patron_client.post(URL).status_code == 404
    assert client.get(URL).status_code == 404
    without = Client()
    without.force_login(librarian)
    if not librarian.has_perm("ledger.view_ledger_reports"):
        assert without.get(URL).status_code == 404
    assert FixityRun.objects.count() == 1


def test_run_now_needs_a_post_with_the_csrf_token(
    damaged: dict[str, str], reports_reader: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(reports_reader)
    page = client.get(URL).content.decode()
    assert client.post(URL).status_code == 403
    assert FixityRun.objects.count() == 0
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    response = client.post(URL, {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302 and response["Location"] == URL
    run = FixityRun.objects.get()
    assert run.files_checked == 3
    event = AuditEvent.objects.get(action="ledger.fixity_checked")
    assert event.actor == reports_reader
    assert "A fixity check has started." in client.get(URL).content.decode()
    other = Client()
    other.force_login(reports_reader)
    assert other.put(URL).status_code == 405
