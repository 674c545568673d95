"""Witnessing between two real Kitobxon instances, and the witness's checks one by one.

The first test runs two libraries as a librarian would: each its own data directory, database,
keys and origin; library A served over HTTP, library B running `kitobxon ledger witness`. The
others point the witness at a small stand-in log served over real HTTP, to make it lie in
each way a forked or tampered log can.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from kitobxon.ledger import merkle, notes, witnessing
from kitobxon.ledger.models import WitnessedLog

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]
ORIGIN_A = "a.example/ledger"
ORIGIN_B = "b.example/ledger"
ANY = "\x00"  # stands for a placeholder whose value the test does not know


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The witness's checks called in this process speak English; `kitobxon` commands do not."""
    with translation.override("en"):
        yield


def _said(language: str, message: str, values: Mapping[str, object]) -> re.Pattern[str]:
    """``message`` as `gettext` words it in ``language``; a value given as ANY matches any text."""
    with translation.override(language):
        text = translation.gettext(message) % values
    return re.compile(".+".join(re.escape(part) for part in text.split(ANY)))


# --- Two real instances -----------------------------------------------------------------------


def _env(data_dir: Path, origin: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "DJANGO_SETTINGS_MODULE" and not k.startswith(("PYTEST_", "KITOBXON_"))
    }
    env["KITOBXON_DATA_DIR"] = str(data_dir)
    env["KITOBXON_LEDGER_ORIGIN"] = origin
    env["KITOBXON_OUTBOUND_ALLOW"] = "127.0.0.1"  # the partner libraries run on this machine
    return env


@dataclass
class Library:
    data_dir: Path
    origin: str
    port: int = 0
    server: subprocess.Popen[str] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.data_dir / "kitobxon.sqlite3"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*KITOBXON, *args],
            env=_env(self.data_dir, self.origin),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def record_and_checkpoint(self, prefix: str, count: int) -> dict[str, Any]:
        code = (
            "from django.core.management import call_command\n"
            "from kitobxon.ledger import services\n"
            f"for i in range({count}):\n"
            f"    services.record('loan', subject=f'{prefix}:{{i}}', reader=i)\n"
            "call_command('ledger_checkpoint', json=True)\n"
        )
        done = self.run("manage", "shell", "-c", code)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def serve(self) -> None:
        self.port = self.port or _free_port()
        log = self.data_dir / "serve.log"
        with log.open("w") as output:
            self.server = subprocess.Popen(
                [*KITOBXON, "serve", "--port", str(self.port), "--workers", "1", "--no-jobs"],
                env=_env(self.data_dir, self.origin),
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and self.server.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/ledger/key", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{self.origin} did not start:\n{log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None

    def get(self, path: str) -> str:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:  # noqa: S310
            return str(response.read().decode())

    def witnessed(self) -> list[tuple[str, int, bytes]]:
        with sqlite3.connect(self.database) as db:
            rows = db.execute("SELECT url, tree_size, root_hash FROM ledger_witnessedlog")
            return [(url, size, bytes(root)) for url, size, root in rows]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _copy_database(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)


@pytest.fixture
def libraries(tmp_path: Path) -> Iterator[tuple[Library, Library, Library]]:
    """Libraries A and B, and A2: A's data directory as its administrator might rewrite it."""
    a = Library(tmp_path / "a", ORIGIN_A)
    b = Library(tmp_path / "b", ORIGIN_B)
    a2 = Library(tmp_path / "a2", ORIGIN_A)
    migrated = a.run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    for other in (b, a2):
        _copy_database(a.database, other.database)
    try:
        yield a, b, a2
    finally:
        for library in (a, b, a2):
            library.stop()


def test_a_partner_library_witnesses_our_log_and_refuses_a_forked_history(
    libraries: tuple[Library, Library, Library],
) -> None:
    a, b, a2 = libraries
    with ThreadPoolExecutor(2) as both:
        first = both.submit(a.record_and_checkpoint, "loan", 5)
        b_witness_key = both.submit(b.run, "ledger", "key", "--witness").result().stdout.strip()
        assert first.result()["checkpoint"]["tree_size"] == 5
        serving = both.submit(a.serve)
        added = a.run("ledger", "add-witness", b_witness_key)
        serving.result()
    assert added.returncode == 0, added.stderr
    assert _said(
        settings.LANGUAGE_CODE, "Added witness %(name)s.", {"name": "b.example/ledger/witness"}
    ).search(added.stdout)

    # First visit: B trusts A's key on first use, checks the signature, cosigns, posts back.
    visit = b.run("ledger", "witness", a.url, "--json")
    assert visit.returncode == 0, visit.stdout + visit.stderr
    report = json.loads(visit.stdout)
    assert report["ok"] and report["first_time"] and report["size"] == 5
    a_key = a.get("/ledger/key").strip()
    published = a.get("/ledger/checkpoint")
    opened = notes.open_note(published, [a_key, b_witness_key])
    assert [s.name for s in opened.verified] == [ORIGIN_A, "b.example/ledger/witness"]
    assert report["cosignature"] in published
    assert "b.example/ledger/witness" in a.get("/ledger/")

    # A grows to 8. Meanwhile A's administrator prepares another history with the same key:
    # 12 entries that do not extend the first 8 (A2, served later in A's place).
    (a2.data_dir / "ledger").mkdir(parents=True)
    shutil.copy2(a.data_dir / "ledger" / "signing.key", a2.data_dir / "ledger" / "signing.key")
    with ThreadPoolExecutor(2) as both:
        rewritten = both.submit(a2.record_and_checkpoint, "rewritten", 12)
        grown = a.record_and_checkpoint("return", 3)
        assert grown["checkpoint"]["tree_size"] == 8
        # B checks the consistency proof from 5 to 8 and cosigns the new checkpoint.
        again = b.run("ledger", "witness", a.url)
        assert rewritten.result()["checkpoint"]["tree_size"] == 12
    assert again.returncode == 0, again.stdout + again.stderr
    assert _said(
        settings.LANGUAGE_CODE,
        "%(origin)s grew from %(old)s to %(size)s: consistency proof verified.",
        {"origin": ORIGIN_A, "old": 5, "size": 8},
    ).search(again.stdout)
    assert notes.open_note(a.get("/ledger/checkpoint"), [b_witness_key]).body.split("\n")[1] == "8"
    [(url, size, root)] = b.witnessed()
    assert (url, size) == (a.url, 8)

    # The rewritten history goes online at A's address. B refuses, says why, keeps its state.
    a.stop()
    a2.port = a.port
    a2.serve()
    assert a2.get("/ledger/key").strip() == a_key, "the same key signs the other history"
    refused = b.run("ledger", "witness", a.url)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    # `kitobxon` commands speak the library's language (LANGUAGE_CODE).
    fork = _said(
        settings.LANGUAGE_CODE,
        "Fork: the tree of %(size)s does not extend the tree of %(old)s we saw (%(error)s).",
        {"size": 12, "old": 8, "error": ANY},
    )
    assert fork.search(refused.stderr), refused.stderr
    assert b.witnessed() == [(a.url, 8, root)]
    assert "b.example/ledger/witness" not in a2.get("/ledger/checkpoint")


# --- The witness's checks against a stand-in log ----------------------------------------------


class StandInLog:
    """A log served over real HTTP whose tree, signature and proofs the test controls."""

    def __init__(self) -> None:
        self.key, self.vkey = notes.generate_signer("standin.example/log")
        self.leaves: list[bytes] = []
        self.size = 0
        self.root_override: bytes | None = None
        self.proof_leaves: list[bytes] | None = None
        self.cosignature_status = 200
        self.posted: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def grow(self, count: int, tag: str = "entry") -> None:
        start = len(self.leaves)
        self.leaves += [merkle.leaf_hash(f"{tag}{i}".encode()) for i in range(start, start + count)]
        self.size = len(self.leaves)

    def body(self) -> str:
        root = self.root_override or merkle.root_of(self.leaves[: self.size])
        return notes.format_checkpoint("standin.example/log", self.size, root)

    def note(self) -> str:
        return notes.sign_note(self.body(), "standin.example/log", self.key)

    def proof(self, first: int, second: int) -> list[bytes]:
        leaves = self.proof_leaves or self.leaves
        nodes = {}
        for level, index in merkle.consistency_nodes(first, second):
            span = leaves[index << level : (index + 1) << level]
            nodes[(level, index)] = merkle.root_of(span)
        return merkle.consistency_proof(first, second, nodes)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        log = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def answer(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/ledger/key":
                    self.answer(200, log.vkey + "\n")
                elif path == "/ledger/checkpoint":
                    self.answer(200, log.note())
                elif path == "/api/ledger/proof/consistency":
                    params = dict(item.split("=") for item in query.split("&"))
                    first, second = int(params["from"]), int(params["to"])
                    proof = [base64.b64encode(h).decode() for h in log.proof(first, second)]
                    self.answer(200, json.dumps({"from": first, "to": second, "proof": proof}))
                else:
                    self.answer(404, "not here")

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                log.posted.append(self.rfile.read(length).decode())
                self.answer(log.cosignature_status, "thanks")

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def standin() -> Iterator[StandInLog]:
    log = StandInLog()
    try:
        yield log
    finally:
        log.close()


def _state(url: str) -> tuple[int, bytes]:
    known = WitnessedLog.objects.get(url=url)
    return known.tree_size, bytes(known.root_hash)


@pytest.mark.django_db
def test_the_first_visit_pins_the_key_and_posts_a_verifying_cosignature(
    standin: StandInLog,
) -> None:
    standin.grow(3)
    report = witnessing.witness_log(standin.url + "/")
    assert (report.first_time, report.size, report.posted) == (True, 3, True)
    assert report.url == standin.url
    assert WitnessedLog.objects.get().verifier_key == standin.vkey
    [posted] = standin.posted
    body, [signature] = notes.split_note(posted)
    assert body == standin.body()
    timestamp = notes.verify_cosignature(body, signature.line, witnessing.witness_verifier_key())
    assert abs(timestamp - time.time()) < 60


@pytest.mark.django_db
def test_a_log_that_grew_consistently_is_cosigned_again(standin: StandInLog) -> None:
    standin.grow(5)
    witnessing.witness_log(standin.url)
    for more in (1, 2, 9, 100):
        standin.grow(more)
        report = witnessing.witness_log(standin.url)
        assert (report.previous_size, report.size) == (standin.size - more, standin.size)
    assert _state(standin.url) == (117, merkle.root_of(standin.leaves))
    assert len(standin.posted) == 5


@pytest.mark.parametrize(
    ("lie", "words"),
    [
        ("smaller", "we already saw 6"),
        ("same size, other root", "another root hash for the same 6"),
        ("rewritten history", "does not extend the tree of 6"),
        ("another key", "not signed by the log's key"),
    ],
)
@pytest.mark.django_db
def test_a_forked_or_tampered_log_is_refused_and_nothing_is_stored(
    standin: StandInLog, lie: str, words: str
) -> None:
    standin.grow(6)
    witnessing.witness_log(standin.url)
    before = _state(standin.url)
    if lie == "smaller":
        standin.size = 4
    elif lie == "same size, other root":
        standin.root_override = hashlib.sha256(b"other").digest()
    elif lie == "rewritten history":
        standin.leaves = [merkle.leaf_hash(f"forged{i}".encode()) for i in range(10)]
        standin.size = 10
    elif lie == "another key":
        standin.grow(2)
        standin.key, standin.vkey = notes.generate_signer("standin.example/log")
    with pytest.raises(witnessing.WitnessError, match=words) as refused:
        witnessing.witness_log(standin.url)
    assert refused.value.fork
    assert _state(standin.url) == before
    assert len(standin.posted) == 1


@pytest.mark.django_db
def test_a_proof_that_does_not_prove_is_refused(standin: StandInLog) -> None:
    standin.grow(6)
    witnessing.witness_log(standin.url)
    standin.grow(5)
    standin.proof_leaves = [merkle.leaf_hash(b"x")] * 11
    with pytest.raises(witnessing.WitnessError, match="Fork") as refused:
        witnessing.witness_log(standin.url)
    assert refused.value.fork
    assert _state(standin.url)[0] == 6


@pytest.mark.django_db
def test_a_pinned_key_is_not_replaced_by_another_given_one(standin: StandInLog) -> None:
    standin.grow(2)
    witnessing.witness_log(standin.url, key=standin.vkey)
    _, other = notes.generate_signer("standin.example/log")
    with pytest.raises(witnessing.WitnessError, match="pinned"):
        witnessing.witness_log(standin.url, key=other)


@pytest.mark.django_db
def test_an_unreachable_log_or_a_refused_cosignature_is_reported(standin: StandInLog) -> None:
    with pytest.raises(witnessing.WitnessError, match="Could not reach") as unreachable:
        witnessing.witness_log(f"http://127.0.0.1:{_free_port()}", timeout=2)
    assert not unreachable.value.fork
    with pytest.raises(witnessing.WitnessError, match="http"):
        witnessing.witness_log("ftp://example.org")
    standin.grow(1)
    standin.cosignature_status = 403
    report = witnessing.witness_log(standin.url)
    assert not report.posted and report.answer == "thanks"
    assert _state(standin.url)[0] == 1


@pytest.mark.django_db
def test_a_log_inside_the_library_network_is_refused_unless_allowed(
    standin: StandInLog, settings: Any
) -> None:
    # The partner's address is a loopback one: the library's own network, not the internet.
    standin.grow(1)
    settings.OUTBOUND_ALLOW, settings.OUTBOUND_ALLOW_PRIVATE = [], False
    with pytest.raises(witnessing.WitnessError, match="KITOBXON_OUTBOUND_ALLOW") as refused:
        witnessing.witness_log(standin.url)
    assert not refused.value.fork
    assert not WitnessedLog.objects.exists()
    assert standin.posted == []
    settings.OUTBOUND_ALLOW = ["127.0.0.1"]
    assert witnessing.witness_log(standin.url).posted
