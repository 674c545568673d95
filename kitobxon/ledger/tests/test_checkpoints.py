"""Signed checkpoints: when they are made, what is published, and the witnesses' door."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from kitobxon.ledger import checkpoints, merkle, notes, queries, services, tasks, witnessing
from kitobxon.ledger.models import Checkpoint, Cosignature, Entry, TreeHead, Witness

pytestmark = pytest.mark.django_db


def _record(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        services.record("loan", subject=f"loan:{i}", data={"item": i}, reader=i)


def _witness(name: str = "partner.example/witness") -> tuple[Any, str]:
    key, vkey = notes.generate_signer(name, algorithm=notes.COSIGNATURE_V1)
    witnessing.add_witness(vkey)
    return key, vkey


def _body(checkpoint: Checkpoint) -> str:
    return notes.split_note(checkpoint.note)[0]


def _post(client: Client, text: str) -> Any:
    return client.post("/ledger/cosignatures", data=text, content_type="text/plain")


# --- The key ----------------------------------------------------------------------------------


def test_the_signing_key_is_made_once_as_a_private_pem_file(settings: Any) -> None:
    vkey = checkpoints.verifier_key()
    path = Path(settings.LEDGER_DIR) / "signing.key"
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    checkpoints._key_in.cache_clear()
    assert checkpoints.verifier_key() == vkey
    parsed = notes.parse_verifier_key(vkey)
    assert (parsed.name, parsed.algorithm) == (settings.LEDGER_ORIGIN, notes.ED25519)


def test_the_witness_key_is_another_key_that_can_only_cosign(settings: Any) -> None:
    witness = notes.parse_verifier_key(witnessing.witness_verifier_key())
    log = notes.parse_verifier_key(checkpoints.verifier_key())
    assert witness.name == f"{settings.LEDGER_ORIGIN}/witness"
    assert witness.algorithm == notes.COSIGNATURE_V1
    assert witness.public_key != log.public_key
    assert (Path(settings.LEDGER_DIR) / "witness.key").exists()


# --- When a checkpoint is made ----------------------------------------------------------------


def test_nothing_is_signed_before_the_first_entry_unless_forced() -> None:
    assert checkpoints.make_checkpoint() is None
    empty = checkpoints.make_checkpoint(force=True)
    assert empty is not None
    assert (empty.tree_size, bytes(empty.root_hash)) == (0, merkle.EMPTY_ROOT)
    assert checkpoints.make_checkpoint(force=True) is None


def test_the_first_checkpoint_integrates_queued_entries_and_signs_at_once() -> None:
    _record(3)
    made = checkpoints.make_checkpoint()
    assert made is not None
    assert made.tree_size == 3 == queries.head().size
    assert bytes(made.root_hash) == queries.root_at(3)
    body = notes.verify_note(made.note, checkpoints.verifier_key())
    assert notes.parse_checkpoint(body) == notes.CheckpointBody(
        checkpoints.origin(), 3, queries.root_at(3)
    )


def test_a_checkpoint_is_due_after_enough_entries_or_minutes(settings: Any) -> None:
    settings.LEDGER_CHECKPOINT_ENTRIES = 3
    settings.LEDGER_CHECKPOINT_MINUTES = 5
    _record(1)
    assert checkpoints.make_checkpoint() is not None
    _record(2, start=1)
    assert checkpoints.make_checkpoint() is None, "two new entries, one minute: not due"
    _record(1, start=3)
    by_count = checkpoints.make_checkpoint()
    assert by_count is not None and by_count.tree_size == 4
    _record(1, start=4)
    assert checkpoints.make_checkpoint() is None
    Checkpoint.objects.filter(pk=by_count.pk).update(
        signed_at=timezone.now() - timedelta(minutes=5)
    )
    by_time = checkpoints.make_checkpoint()
    assert by_time is not None and by_time.tree_size == 5
    assert checkpoints.make_checkpoint(force=True) is None, "the tree did not grow"
    _record(1, start=5)
    forced = checkpoints.make_checkpoint(force=True)
    assert forced is not None and forced.tree_size == 6


def test_the_periodic_job_signs_when_due() -> None:
    _record(2)
    assert tasks.sign_checkpoint_when_due.call_local() == 2
    assert tasks.sign_checkpoint_when_due.call_local() is None


def test_a_tree_that_does_not_extend_the_last_checkpoint_is_never_signed() -> None:
    _record(4)
    first = checkpoints.make_checkpoint()
    assert first is not None
    _record(1, start=4)
    services.integrate()
    TreeHead.objects.update(root_hash=b"\x11" * 32)
    with pytest.raises(checkpoints.TreeRewritten):
        checkpoints.make_checkpoint(force=True)
    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == [4]


def test_a_head_below_the_last_checkpoint_is_refused() -> None:
    _record(2)
    assert checkpoints.make_checkpoint() is not None
    TreeHead.objects.update(size=1)
    with pytest.raises(checkpoints.TreeRewritten):
        checkpoints.make_checkpoint(force=True)


RACERS, ROUNDS = 4, 5

RACER = """
import json, os, sys, time
import django
django.setup()
from kitobxon.ledger import checkpoints, services
n, go = int(sys.argv[1]), sys.argv[2]
open(f"{go}.{n}", "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
made = []
for r in range(int(sys.argv[3])):
    services.record("loan", subject=f"race:{n}:{r}", reader=n)
    checkpoint = checkpoints.make_checkpoint(force=True)
    if checkpoint is not None:
        made.append(checkpoint.tree_size)
print(json.dumps(made))
"""


def _race_threads() -> list[int]:
    barrier = threading.Barrier(RACERS)
    errors: list[BaseException] = []
    made: list[int] = []

    def maker(n: int) -> None:
        try:
            for r in range(ROUNDS):
                barrier.wait(timeout=10)
                services.record("loan", subject=f"race:{n}:{r}", reader=n)
                checkpoint = checkpoints.make_checkpoint(force=True)
                if checkpoint is not None:
                    made.append(checkpoint.tree_size)
        except BaseException as error:
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=maker, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return made


def _race_processes(tmp_path: Path) -> tuple[list[int], list[tuple[int, bytes, str]], list[bytes]]:
    data_dir = tmp_path / "data"
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "KITOBXON_TEST_DATABASE_URL" and not k.startswith(("PYTEST_", "KITOBXON_"))
    }
    env.update(
        KITOBXON_DATA_DIR=str(data_dir),
        KITOBXON_LEDGER_ORIGIN="race.example/ledger",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    data_dir.mkdir()
    connection.ensure_connection()
    with sqlite3.connect(data_dir / "kitobxon.sqlite3") as copy:
        connection.connection.backup(copy)  # the migrated, empty test database, as a file
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(n), str(go), str(ROUNDS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(RACERS)
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(
        (tmp_path / f"go.{n}").exists() for n in range(RACERS)
    ):
        time.sleep(0.01)
    go.touch()
    made: list[int] = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        made += json.loads(out.strip().splitlines()[-1])
    with sqlite3.connect(data_dir / "kitobxon.sqlite3") as db:
        rows = db.execute("SELECT tree_size, root_hash, note FROM ledger_checkpoint").fetchall()
        leaves = db.execute(
            "SELECT leaf_hash FROM ledger_entry WHERE leaf_index IS NOT NULL ORDER BY leaf_index"
        ).fetchall()
    key = checkpoints.load_key((data_dir / "ledger" / "signing.key").read_bytes())
    vkey = notes.verifier_key("race.example/ledger", key)
    for _, _, note in rows:
        notes.verify_note(note, vkey)
    return (
        made,
        [(size, bytes(root), note) for size, root, note in rows],
        [bytes(leaf) for (leaf,) in leaves],
    )


@pytest.mark.django_db(transaction=True)
def test_makers_racing_leave_one_checkpoint_per_size(tmp_path: Path) -> None:
    """Makers race, each recording then checkpointing; no error, one checkpoint per size.

    pytest-django keeps a SQLite test database in memory with a shared cache, where a second
    writer fails at once instead of waiting its turn; on SQLite the racers are therefore real
    processes on a file copy of it, as in production. On PostgreSQL they are threads.
    """
    if connection.vendor == "sqlite":
        made, rows, leaves = _race_processes(tmp_path)
    else:
        made = _race_threads()
        stored = Entry.objects.exclude(leaf_index=None).order_by("leaf_index")
        leaves = [bytes(leaf) for leaf in stored.values_list("leaf_hash", flat=True)]
        rows = [(c.tree_size, bytes(c.root_hash), c.note) for c in Checkpoint.objects.all()]
        for checkpoint in Checkpoint.objects.all():
            checkpoints.verify_checkpoint(checkpoint)
    sizes = sorted(size for size, _, _ in rows)
    assert sorted(made) == sizes
    assert len(sizes) == len(set(sizes)) >= ROUNDS
    assert sizes[-1] == RACERS * ROUNDS == len(leaves)
    for size, root, note in rows:
        assert root == merkle.root_of(leaves[:size])
        assert f"\n{size}\n{base64.b64encode(root).decode()}\n" in note


# --- Verifying stored checkpoints -------------------------------------------------------------


def test_verify_checkpoint_catches_a_changed_note_root_or_cosignature() -> None:
    _record(3)
    made = checkpoints.make_checkpoint()
    assert made is not None
    key, _ = _witness()
    line = notes.cosign(_body(made), "partner.example/witness", key)
    witnessing.accept_cosignatures(f"{_body(made)}\n{line}")
    checkpoints.verify_checkpoint(made)

    original = made.note
    flipped = original.replace("\n3\n", "\n4\n")
    made.note = flipped
    with pytest.raises(notes.NoteError):
        checkpoints.verify_checkpoint(made)
    made.note = original
    made.root_hash = b"\x00" * 32
    with pytest.raises(notes.NoteError):
        checkpoints.verify_checkpoint(made)
    made.refresh_from_db()
    Cosignature.objects.update(timestamp=1)
    with pytest.raises(notes.NoteError):
        checkpoints.verify_checkpoint(made)


# --- The published pages ----------------------------------------------------------------------


def test_the_checkpoint_page_is_404_text_until_the_first_checkpoint(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert b"not signed a checkpoint yet" in response.content


def test_the_checkpoint_and_key_pages_let_anyone_verify(
    client: Client, django_assert_num_queries: Any
) -> None:
    _record(3)
    made = checkpoints.make_checkpoint()
    assert made is not None
    with django_assert_num_queries(2):
        response = client.get("/ledger/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "max-age=10" in response["Cache-Control"]
    assert response.content.decode() == made.note
    with django_assert_num_queries(0):
        key = client.get("/ledger/key")
    assert key["Content-Type"] == "text/plain; charset=utf-8"
    vkey = key.content.decode()
    assert vkey == checkpoints.verifier_key() + "\n"
    body = notes.verify_note(response.content, vkey.strip())
    assert notes.parse_checkpoint(body).size == 3


def test_the_overview_page_shows_checkpoint_key_and_witnesses(
    client: Client, django_assert_num_queries: Any
) -> None:
    _record(2)
    made = checkpoints.make_checkpoint()
    assert made is not None
    key, _ = _witness("a.example/witness")
    _witness("b.example/witness")
    line = notes.cosign(_body(made), "a.example/witness", key, timestamp=1_700_000_000)
    witnessing.accept_cosignatures(f"{_body(made)}\n{line}")
    _record(1, start=2)
    services.integrate()
    with django_assert_num_queries(4):
        response = client.get("/ledger/")
    assert response.status_code == 200
    page = response.content.decode()
    assert base64.b64encode(bytes(made.root_hash)).decode() in page
    assert checkpoints.verifier_key() in page
    assert "a.example/witness" in page and "b.example/witness" in page
    assert 'datetime="2023-11-15T03:13:20+05:00"' in page  # 1_700_000_000 in Tashkent
    for href in ("/ledger/checkpoint", "/ledger/key", "/ledger/authentic/"):
        assert f'href="{href}"' in page
    assert "<script" not in page.split("</head>")[1]


def test_the_overview_page_before_any_checkpoint(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/ledger/")
    assert response.status_code == 200
    assert b"No checkpoint has been signed yet" in response.content


# --- Cosignatures posted by witnesses ---------------------------------------------------------


@pytest.fixture
def signed() -> Checkpoint:
    _record(3)
    made = checkpoints.make_checkpoint()
    assert made is not None
    return made


def test_a_witness_cosignature_is_accepted_and_published(signed: Checkpoint) -> None:
    client = Client(enforce_csrf_checks=True)
    key, vkey = _witness()
    body = _body(signed)
    line = notes.cosign(body, "partner.example/witness", key)
    response = _post(client, f"{body}\n{line}")
    assert response.status_code == 200, response.content
    assert b"partner.example/witness" in response.content
    published = client.get("/ledger/checkpoint").content.decode()
    assert published == signed.note + line
    opened = notes.open_note(published, [checkpoints.verifier_key(), vkey])
    assert [s.name for s in opened.verified] == [checkpoints.origin(), "partner.example/witness"]


def test_posting_the_same_cosignature_twice_changes_nothing_and_a_newer_one_wins(
    signed: Checkpoint, client: Client
) -> None:
    key, _ = _witness()
    body = _body(signed)
    old = notes.cosign(body, "partner.example/witness", key, timestamp=1_700_000_000)
    new = notes.cosign(body, "partner.example/witness", key, timestamp=1_700_000_100)
    # The whole published note may be posted back: our own signature line is ignored.
    assert _post(client, signed.note + old).status_code == 200
    assert _post(client, signed.note + old).status_code == 200
    assert _post(client, f"{body}\n{new}").status_code == 200
    assert _post(client, f"{body}\n{old}").status_code == 200
    assert list(Cosignature.objects.values_list("timestamp", "line")) == [
        (1_700_000_100, new.rstrip("\n"))
    ]


def test_cosignatures_are_refused_with_a_reason(signed: Checkpoint, client: Client) -> None:
    key, _ = _witness()
    stranger, _ = notes.generate_signer("stranger.example/w", algorithm=notes.COSIGNATURE_V1)
    body = _body(signed)
    line = notes.cosign(body, "partner.example/witness", key)
    other_root = notes.format_checkpoint(checkpoints.origin(), 3, b"\x07" * 32)
    later = notes.format_checkpoint(checkpoints.origin(), 9, bytes(signed.root_hash))
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[-1] ^= 1
    forged = f"— partner.example/witness {base64.b64encode(bytes(raw)).decode()}\n"
    future = notes.cosign(
        body, "partner.example/witness", key, timestamp=int(timezone.now().timestamp()) + 3600
    )
    cases = [
        ("just a line\n", 400, "blank line"),
        (f"{body}\n{notes.cosign(body, 'stranger.example/w', stranger)}", 403, "witness"),
        (f"{body}\n{forged}", 403, "does not verify"),
        (f"{body}\n{future}", 403, "future"),
        (f"{later}\n{notes.cosign(later, 'partner.example/witness', key)}", 404, "no checkpoint"),
        (
            f"{other_root}\n{notes.cosign(other_root, 'partner.example/witness', key)}",
            409,
            "not our",
        ),
    ]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for text, status, words in cases:
        response = _post(client, text)
        assert response.status_code == status, (text, response.content)
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert words in response.content.decode()
    assert Cosignature.objects.count() == 0
    assert client.get("/ledger/cosignatures").status_code == 405
    big = client.post("/ledger/cosignatures", data="x" * 70_000, content_type="text/plain")
    assert big.status_code == 413
    assert _post(client, f"{body}\n{line}").status_code == 200


def test_add_witness_refuses_log_keys_and_a_second_key_under_one_name() -> None:
    _, log_vkey = notes.generate_signer("x.example")
    with pytest.raises(witnessing.WitnessKeyRefused):
        witnessing.add_witness(log_vkey)
    with pytest.raises(witnessing.WitnessKeyRefused):
        witnessing.add_witness("not a key")
    _, vkey = notes.generate_signer("w.example", algorithm=notes.COSIGNATURE_V1)
    assert witnessing.add_witness(vkey)[1] is True
    assert witnessing.add_witness(vkey)[1] is False
    _, other = notes.generate_signer("w.example", algorithm=notes.COSIGNATURE_V1)
    with pytest.raises(witnessing.WitnessKeyRefused):
        witnessing.add_witness(other)
    assert Witness.objects.count() == 1
