"""kill -9 the job worker in the middle of a drain, or `kitobxon reindex` in the middle of a
rebuild; after a restart the index ends exactly equal to the database."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kitobxon.catalogue import synthetic

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]
RECORDS = 12_000


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "KITOBXON_TEST_DATABASE_URL"}
        and not k.startswith(("PYTEST_", "KITOBXON_"))
    }
    env["KITOBXON_DATA_DIR"] = str(data_dir)
    return env


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KITOBXON, *args], env=_env(data_dir), capture_output=True, text=True, timeout=600
    )


def _pending(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as db:
        return int(db.execute("SELECT COUNT(*) FROM search_pendingchange").fetchone()[0])


def _library(tmp_path: Path) -> tuple[Path, Path]:
    data_dir = tmp_path / "data"
    assert _run(data_dir, "migrate").returncode == 0
    path = tmp_path / "records.mrc"
    with path.open("wb") as out:
        synthetic.write(out, RECORDS)
    imported = _run(data_dir, "import", str(path))
    assert imported.returncode == 0, imported.stderr
    return data_dir, data_dir / "kitobxon.sqlite3"


def _worker(data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*KITOBXON, "manage", "run_huey"],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _verify(data_dir: Path) -> str:
    check = _run(data_dir, "reindex", "--verify")
    assert check.returncode == 0, check.stdout + check.stderr
    return check.stdout


def test_a_worker_killed_mid_drain_leaves_nothing_behind_after_a_restart(tmp_path: Path) -> None:
    data_dir, database = _library(tmp_path)
    assert _pending(database) == RECORDS  # the import queued every record, nobody drained yet

    worker = _worker(data_dir)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not 0 < _pending(database) < RECORDS:
        time.sleep(0.02)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    left = _pending(database)
    assert 0 < left < RECORDS, f"the drain was not caught half-way ({left} left)"
    assert _run(data_dir, "reindex", "--verify").returncode != 0  # half indexed, and it says so

    worker = _worker(data_dir)
    try:
        while time.monotonic() < deadline and _pending(database):
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGINT)
        worker.wait(timeout=60)
    assert _pending(database) == 0
    assert _verify(data_dir).startswith("0 missing, 0 out of date, 0 extra")


def test_a_reindex_killed_mid_rebuild_keeps_the_old_index_and_a_rerun_completes(
    tmp_path: Path,
) -> None:
    data_dir, _database = _library(tmp_path)
    first = _run(data_dir, "reindex")
    assert first.returncode == 0, first.stderr
    index = data_dir / "search" / "tantivy"
    live = (index / "CURRENT").read_text()

    rebuild = subprocess.Popen(
        [*KITOBXON, "reindex"],
        env=_env(data_dir),
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(index.glob("gen-*"))) < 2:
        time.sleep(0.01)
    time.sleep(0.5)
    assert rebuild.poll() is None, "the rebuild finished before it could be killed"
    rebuild.send_signal(signal.SIGKILL)
    rebuild.wait()
    assert (index / "CURRENT").read_text() == live
    _verify(data_dir)  # the old generation still answers, complete

    again = _run(data_dir, "reindex")
    assert again.returncode == 0, again.stderr
    assert (index / "CURRENT").read_text() != live
    assert [p.name for p in index.glob("gen-*")] == [(index / "CURRENT").read_text()]
    _verify(data_dir)
