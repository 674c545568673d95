"""The `kitobxon` command, run as a reader of the README would run it: in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.utils import translation

from kitobxon import cli
from kitobxon.accounts.passwords import MinimumLengthValidator

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "KITOBXON_TEST_DATABASE_URL"}
        and not key.startswith("PYTEST_")
    }
    env["KITOBXON_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def _run(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KITOBXON, *args],
        env=_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("serve", "migrate", "createadmin", "demo", "check", "manage"):
        assert f"\n  {name} " in out


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lend-everything"]) == 2
    assert "unknown command 'lend-everything'" in capsys.readouterr().err


def test_a_fresh_data_directory_is_set_up_by_migrate_demo_and_check(tmp_path: Path) -> None:
    before = _run(tmp_path, "check", "--json")
    assert before.returncode == 1
    assert "not applied" in json.loads(before.stdout)["checks"]["migrations"]

    assert _run(tmp_path, "migrate").returncode == 0
    assert (tmp_path / "kitobxon.sqlite3").exists()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0

    demo = _run(tmp_path, "demo", "--json")
    assert demo.returncode == 0, demo.stderr
    users = json.loads(demo.stdout)["users"]
    assert {u["role"] for u in users} == {"admin", "librarian", "patron"}
    assert {u["segment"] for u in users} >= {"pupil", "student", "researcher", "teacher"}
    again = json.loads(_run(tmp_path, "demo", "--json").stdout)["users"]
    assert not any(u["created"] for u in again)

    admin = _run(
        tmp_path,
        "createadmin",
        "--email",
        "boss@example.org",
        "--password-from-env",
        "ADMIN_PASSWORD",
        "--json",
        ADMIN_PASSWORD="a-very-long-passphrase",
    )
    assert admin.returncode == 0, admin.stderr
    assert json.loads(admin.stdout)["email"] == "boss@example.org"

    after = _run(tmp_path, "check", "--json")
    assert after.returncode == 0, after.stdout + after.stderr
    report = json.loads(after.stdout)
    assert report["ok"] is True and report["data_dir"] == str(tmp_path)


def test_createadmin_refuses_a_weak_password(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    weak = _run(
        tmp_path,
        "createadmin",
        "--email",
        "boss@example.org",
        "--password-from-env",
        "ADMIN_PASSWORD",
        ADMIN_PASSWORD="123",
    )
    assert weak.returncode != 0
    with translation.override("uz"):  # the library's default language
        expected = MinimumLengthValidator(min_length=10).get_error_message()
    assert expected in weak.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_web_and_jobs_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [*KITOBXON, "serve", "--port", str(port), "--workers", "1"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.3)
        assert body == {"status": "ok", "checks": {"database": "ok", "queue": "ok", "search": "ok"}}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert 'lang="uz-Latn"' in r.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert 'route="/"' in r.read().decode()
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 0, output
    assert "Kitobxon stopped." in output
    with pytest.raises(ProcessLookupError):
        os.killpg(server.pid, 0)  # no gunicorn or job worker is left behind
