"""Importing files: from the command line, from the pages, and surviving a killed worker."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import management
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kitobxon.accounts.models import User
from kitobxon.catalogue import synthetic
from kitobxon.catalogue.importing import import_file
from kitobxon.catalogue.models import ImportJob, Record
from kitobxon.catalogue.services import records

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is not present")


def _synthetic(path: Path, count: int) -> Path:
    with path.open("wb") as out:
        synthetic.write(out, count)
    return path


@pytest.mark.django_db
def test_reimporting_a_file_updates_instead_of_duplicating(tmp_path: Path) -> None:
    path = _synthetic(tmp_path / "fifty.mrc", 50)
    first = import_file(path, by=None, batch_size=20)
    assert (first.imported, first.updated, first.rejected) == (50, 0, 0)
    second = import_file(path, by=None, batch_size=20)
    assert (second.imported, second.updated, second.unchanged, second.rejected) == (0, 0, 50, 0)
    assert Record.objects.count() == 50
    record = Record.objects.get(control_number="syn000000007")
    assert record.control_number_source == "KITOBXON-SYN"
    assert bytes(record.source_data) == synthetic.synthetic_record(7).as_marc()


@pytest.mark.django_db
def test_a_large_import_lets_the_query_planner_see_the_grown_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "REFRESH_STATISTICS_FROM", 25)
    analysed = [
        "ANALYZE " + connection.ops.quote_name(Record._meta.db_table),  # SQLite, one by one
        "ANALYZE " + connection.ops.quote_name(Record._meta.db_table) + ",",  # PostgreSQL
    ]
    with CaptureQueriesContext(connection) as small:
        import_file(_synthetic(tmp_path / "ten.mrc", 10), by=None, batch_size=20)
    assert not [q for q in small.captured_queries if q["sql"].startswith("ANALYZE")]
    with CaptureQueriesContext(connection) as large:
        report = import_file(_synthetic(tmp_path / "fifty.mrc", 50), by=None, batch_size=20)
    assert (report.imported, report.unchanged) == (40, 10)
    statements = [q["sql"] for q in large.captured_queries]
    assert any(s.startswith(tuple(analysed)) for s in statements), statements[-5:]


@pytest.mark.django_db
def test_one_broken_record_is_reported_and_the_rest_import(tmp_path: Path) -> None:
    good = list(synthetic.generate(5))
    broken = b"00042nam  2200025   4500" + b"garbage\x1e\x1d"
    path = tmp_path / "mixed.mrc"
    path.write_bytes(good[0] + good[1] + broken + good[2] + good[3] + good[4])
    report = import_file(
        path,
        by=None,
        rejects_path=tmp_path / "rejects.jsonl",
        quarantine_path=tmp_path / "quarantine.mrc",
    )
    assert (report.imported, report.rejected) == (5, 1)
    reject = report.rejects[0]
    assert reject.position == 3 and reject.reason
    lines = (tmp_path / "rejects.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["position"] == 3
    assert (tmp_path / "quarantine.mrc").read_bytes() == broken


@needs_shared
@pytest.mark.django_db
def test_the_marc4j_broken_files_import_their_good_records(tmp_path: Path) -> None:
    report = import_file(SHARED / "marc-marc4j" / "bad_leaders_10_11.mrc", by=None, format="marc21")
    assert report.imported + report.updated > 0
    assert Record.objects.count() == report.imported


@needs_shared
def test_the_import_command_summarises_and_reports_rejects_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: None
) -> None:
    management.call_command("import", str(SHARED / "marc-solrmarc" / "specTestRecs.mrc"), "--json")
    summary = json.loads(capsys.readouterr().out)[0]
    assert summary["format"] == "marc21"
    assert summary["imported"] == Record.objects.count() > 50
    assert summary["rejected"] == 0


@pytest.mark.django_db
def test_a_librarian_imports_a_file_from_the_page(
    librarian: User, tmp_path: Path, settings, django_capture_on_commit_callbacks
) -> None:
    settings.IMPORT_DIR = tmp_path
    client = Client()
    client.force_login(librarian)
    upload = _synthetic(tmp_path / "upload.mrc", 12)
    with upload.open("rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("catalogue:imports"), {"file": handle, "format": "auto"})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(response["Location"])
    assert page.status_code == 200
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.imported, job.rejected) == (12, 0)
    assert Record.objects.count() == 12


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "KITOBXON_TEST_DATABASE_URL"}
    }
    env["KITOBXON_DATA_DIR"] = str(data_dir)
    return env


def test_an_import_killed_half_way_is_finished_by_running_it_again(tmp_path: Path) -> None:
    """kill -9 the importer mid-file; the same command again leaves exactly one of each."""
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "kitobxon.cli"]
    subprocess.run([*command, "migrate"], env=_env(data_dir), check=True, capture_output=True)
    count = 20000
    path = _synthetic(tmp_path / "big.mrc", count)
    database = data_dir / "kitobxon.sqlite3"

    importer = subprocess.Popen(
        [*command, "import", str(path), "--batch-size", "200"],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    imported = 0
    while time.monotonic() < deadline and importer.poll() is None:
        with sqlite3.connect(database, timeout=30) as db:
            imported = db.execute("SELECT COUNT(*) FROM catalogue_record").fetchone()[0]
        if imported >= 1000:
            break
        time.sleep(0.05)
    assert importer.poll() is None, "the import finished before it could be killed"
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    with sqlite3.connect(database) as db:
        partial = db.execute("SELECT COUNT(*) FROM catalogue_record").fetchone()[0]
    assert 0 < partial < count

    again = subprocess.run(
        [*command, "import", str(path), "--json"],
        env=_env(data_dir),
        check=True,
        capture_output=True,
        text=True,
    )
    summary = json.loads(again.stdout)[0]
    assert summary["imported"] + summary["updated"] + summary["unchanged"] == count
    assert summary["unchanged"] > 0  # what the killed run committed was kept
    with sqlite3.connect(database) as db:
        total, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT control_number) FROM catalogue_record"
        ).fetchone()
    assert total == distinct == count


@pytest.mark.django_db
def test_the_export_command_writes_published_records_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kitobxon.catalogue.importing import FORMATS

    path = _synthetic(tmp_path / "ten.mrc", 10)
    import_file(path, by=None)
    for name in FORMATS:
        out = tmp_path / f"out.{name}"
        management.call_command("export", str(out), "--format", name)
        assert f"10 records written to {out}" in capsys.readouterr().out
        again = import_file(out, by=None, format=name)
        assert again.rejected == 0, (name, again.rejects[:3])
        assert again.imported + again.updated + again.unchanged == 10, name
        assert again.imported == 0, (name, "an exported record came back as a new one")


@pytest.mark.django_db
def test_a_patron_cannot_see_an_import_or_its_rejects(
    patron_client: Client, librarian: User, tmp_path: Path
) -> None:
    from kitobxon.catalogue import services

    path = _synthetic(tmp_path / "one.mrc", 1)
    job = services.queue_import(path=path, file_name="one.mrc", format="auto", by=librarian)
    for name in ("catalogue:import_detail", "catalogue:import_rejects"):
        assert patron_client.get(reverse(name, args=[job.pk])).status_code == 404
