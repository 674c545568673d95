"""`ledger verify`: a clean log verifies, and any changed byte anywhere is found and named."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import translation

from kitobxon.ledger import checkpoints, notes, services, verify, witnessing
from kitobxon.ledger.models import Checkpoint, Cosignature, Entry, Node, TreeHead

pytestmark = pytest.mark.django_db

MASKS = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _log(entries: int = 21, signed_at: tuple[int, ...] = (1, 8, 13)) -> list[Checkpoint]:
    """A small log of several kinds of entry, with checkpoints signed at the given sizes."""
    made = []
    for i in range(entries):
        if i % 3 == 0:
            services.record("loan", subject=f"loan:{i}", data={"item": i}, reader=i)
        elif i % 3 == 1:
            data = {"title": "Oʻzbek adabiyoti — «Кутадгу билиг»", "version": i}
            services.record("metadata.published", subject=f"record:{i}", data=data)
        else:
            services.record("access.granted", subject=f"record:{i}", reader=i, data={"to": i})
        if i + 1 in signed_at:
            checkpoint = checkpoints.make_checkpoint(force=True)
            assert checkpoint is not None
            made.append(checkpoint)
    services.integrate()
    return made


def _flipped(text: str, position: int) -> str:
    """``text`` with one bit of its UTF-8 byte at ``position`` flipped, still valid text."""
    raw = text.encode()
    for mask in MASKS:
        changed = bytearray(raw)
        changed[position] ^= mask
        if changed[position] == 0:
            continue
        try:
            return changed.decode()
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"no flip of byte {position} is valid UTF-8")


def _flip_bytes(value: bytes, position: int) -> bytes:
    changed = bytearray(value)
    changed[position] ^= 0x01
    return bytes(changed)


def _kinds() -> set[str]:
    return verify.verify(files=False).kinds()


def test_a_clean_log_verifies_with_everything_counted() -> None:
    made = _log()
    services.record("loan", subject="loan:queued", reader=1)  # still queued: not a problem
    report = verify.verify()
    assert report.ok, report.problems
    assert report.counts["entries"] == 21
    assert report.counts["nodes"] == 21 - bin(21).count("1")
    assert report.counts["checkpoints"] == len(made) == 3
    assert report.counts["queued"] == 1
    assert report.tree_size == 21
    assert report.root_hash == bytes(TreeHead.objects.get().root_hash)


def test_entries_and_checkpoints_added_while_verifying_are_not_problems() -> None:
    _log()
    grown: list[Checkpoint | None] = []

    def sequencer_moves_on(stage: str, done: int, total: int) -> None:
        if stage == "entries" and not grown:
            for i in range(100, 111):
                services.record("loan", subject=f"loan:{i}", reader=i)
            grown.append(checkpoints.make_checkpoint(force=True))

    report = verify.verify(progress=sequencer_moves_on)
    assert grown and grown[0] is not None and grown[0].tree_size == 32
    assert report.ok, report.problems
    assert (report.tree_size, report.counts["entries"], report.counts["checkpoints"]) == (21, 21, 4)
    assert verify.verify().counts["entries"] == 32


def test_an_empty_log_verifies() -> None:
    assert verify.verify().ok


def test_flipping_any_byte_of_any_entry_body_is_detected() -> None:
    _log(entries=9, signed_at=(4, 9))
    for index in (0, 4, 8):  # a loan, a record's metadata with Uzbek and Cyrillic, a grant
        entry = Entry.objects.get(leaf_index=index)
        for position in range(len(entry.body.encode())):
            Entry.objects.filter(pk=entry.pk).update(body=_flipped(entry.body, position))
            report = verify.verify(files=False)
            assert "entry.leaf" in report.kinds(), (index, position)
            assert report.kinds() <= {"entry.leaf", "entry.body", "entry.kind", "entry.column"}
            assert {p.where for p in report.problems} == {f"entry {index}"}
        Entry.objects.filter(pk=entry.pk).update(body=entry.body)
    assert verify.verify(files=False).ok


def test_a_body_rewritten_with_its_leaf_hash_is_caught_by_the_tree() -> None:
    _log()
    entry = Entry.objects.get(leaf_index=4)
    body = entry.body.replace('"version":4', '"version":5')
    leaf = hashlib.sha256(b"\x00" + body.encode()).digest()
    Entry.objects.filter(pk=entry.pk).update(body=body, leaf_hash=leaf)
    report = verify.verify(files=False)
    assert {"node.hash", "head.root", "checkpoint.root"} <= report.kinds()
    assert "entry.leaf" not in report.kinds()
    assert "node 1/2 (entries 4–5)" in {p.where for p in report.problems}


def test_a_body_that_is_not_canonical_json_or_disagrees_with_its_columns_is_named() -> None:
    _log()
    entry = Entry.objects.get(leaf_index=3)
    spaced = json.dumps(json.loads(entry.body), sort_keys=True)
    Entry.objects.filter(pk=entry.pk).update(body=spaced)
    assert {"entry.body", "entry.leaf"} <= _kinds()
    Entry.objects.filter(pk=entry.pk).update(body=entry.body, subject="loan:999")
    report = verify.verify(files=False)
    assert report.kinds() == {"entry.column"}
    problem = report.problems[0]
    assert (problem.where, problem.expected, problem.found) == ("entry 3", "loan:3", "loan:999")


def test_an_entry_of_an_unknown_kind_is_named() -> None:
    _log()
    entry = Entry.objects.get(leaf_index=2)
    body = entry.body.replace('"kind":"access.granted"', '"kind":"coffee"')
    leaf = hashlib.sha256(b"\x00" + body.encode()).digest()
    Entry.objects.filter(pk=entry.pk).update(body=body, leaf_hash=leaf, kind="coffee")
    assert "entry.kind" in _kinds()


def test_flipping_any_byte_of_a_stored_leaf_hash_is_detected_alone() -> None:
    _log()
    entry = Entry.objects.get(leaf_index=7)
    stored = bytes(entry.leaf_hash)
    for position in range(len(stored)):
        Entry.objects.filter(pk=entry.pk).update(leaf_hash=_flip_bytes(stored, position))
        report = verify.verify(files=False)
        assert report.kinds() == {"entry.leaf"}, position
        assert report.problems[0].found == _flip_bytes(stored, position).hex()
    Entry.objects.filter(pk=entry.pk).update(leaf_hash=stored)
    assert verify.verify(files=False).ok


def test_flipping_a_byte_of_any_stored_node_is_detected() -> None:
    _log()
    for key, value in Node.objects.values_list("key", "hash"):
        for position in (0, 31):
            Node.objects.filter(key=key).update(hash=_flip_bytes(bytes(value), position))
            report = verify.verify(files=False)
            level, index = key >> 48, key & ((1 << 48) - 1)
            named = [p.where for p in report.problems if p.kind == "node.hash"]
            assert named and named[0].startswith(f"node {level}/{index} "), (key, position)
        Node.objects.filter(key=key).update(hash=value)
    assert verify.verify(files=False).ok


def test_missing_and_extra_nodes_are_named() -> None:
    _log()
    Node.objects.filter(key=services.node_key(2, 1)).delete()
    Node.objects.create(key=services.node_key(1, 10), hash=b"\x01" * 32)  # leaves 20-21: no 21
    Node.objects.create(key=services.node_key(0, 3), hash=b"\x02" * 32)  # leaves are not nodes
    report = verify.verify(files=False)
    assert {p.where for p in report.problems if p.kind == "node.missing"} == {
        "node 2/1 (entries 4–7)"
    }
    assert {p.where for p in report.problems if p.kind == "node.extra"} == {
        "node 1/10 (entries 20–21)",
        "node 0/3 (entries 3–3)",
    }


def test_flipping_any_byte_of_the_tree_head_root_is_detected() -> None:
    _log()
    root = bytes(TreeHead.objects.get().root_hash)
    for position in range(len(root)):
        TreeHead.objects.update(root_hash=_flip_bytes(root, position))
        assert _kinds() == {"head.root"}
    TreeHead.objects.update(root_hash=root)
    assert verify.verify(files=False).ok


def test_flipping_any_byte_of_a_checkpoint_note_is_detected() -> None:
    checkpoint = _log()[1]
    note = checkpoint.note
    assert "—" in note  # the em dash is three bytes: every one of them is flipped too
    for position in range(len(note.encode())):
        Checkpoint.objects.filter(pk=checkpoint.pk).update(note=_flipped(note, position))
        report = verify.verify(files=False)
        assert "checkpoint.signature" in report.kinds(), (position, _flipped(note, position))
        assert {p.where for p in report.problems} == {f"checkpoint {checkpoint.tree_size}"}
    Checkpoint.objects.filter(pk=checkpoint.pk).update(note=note)
    assert verify.verify(files=False).ok


def test_a_checkpoint_row_that_disagrees_with_its_note_or_the_tree_is_detected() -> None:
    first, second, third = _log()
    Checkpoint.objects.filter(pk=second.pk).update(root_hash=bytes(first.root_hash))
    report = verify.verify(files=False)
    assert {"checkpoint.note", "checkpoint.root", "checkpoint.consistency"} <= report.kinds()
    Checkpoint.objects.filter(pk=second.pk).update(root_hash=second.root_hash)
    Checkpoint.objects.filter(pk=third.pk).update(note=second.note)
    assert "checkpoint.note" in _kinds()


def test_a_head_that_lost_entries_leaves_entries_and_checkpoints_outside() -> None:
    _log()
    TreeHead.objects.update(size=10)
    report = verify.verify(files=False)
    assert {"checkpoint.outside", "entry.outside", "node.extra", "head.root"} == report.kinds()


def test_a_checkpoint_with_another_signature_line_is_refused() -> None:
    checkpoint = _log()[0]
    key, _vkey = notes.generate_signer("someone.else/log")
    body = notes.split_note(checkpoint.note)[0]
    extra = notes.sign_note(body, "someone.else/log", key).split("\n\n", 1)[1]
    Checkpoint.objects.filter(pk=checkpoint.pk).update(note=checkpoint.note + extra)
    assert _kinds() == {"checkpoint.signature"}


def test_a_cosignature_that_does_not_verify_is_named() -> None:
    checkpoint = _log()[2]
    key, vkey = notes.generate_signer("partner.example/witness", algorithm=notes.COSIGNATURE_V1)
    witnessing.add_witness(vkey)
    body = notes.split_note(checkpoint.note)[0]
    line = notes.cosign(body, "partner.example/witness", key, timestamp=1_700_000_000)
    witnessing.accept_cosignatures(f"{body}\n{line}")
    report = verify.verify(files=False)
    assert report.ok, report.problems
    assert report.counts["cosignatures"] == 1
    cosignature = Cosignature.objects.get()
    Cosignature.objects.update(line=_flipped(cosignature.line, len(cosignature.line) - 3))
    report = verify.verify(files=False)
    assert report.kinds() == {"cosignature.signature"}
    assert report.problems[0].where == "checkpoint 13, partner.example/witness"
    Cosignature.objects.update(line=cosignature.line, timestamp=1_700_000_001)
    assert _kinds() == {"cosignature.signature"}


def test_a_deleted_entry_is_named_and_the_rest_still_checked() -> None:
    _log()
    Entry.objects.filter(leaf_index=6).delete()
    Entry.objects.filter(leaf_index=15).update(leaf_hash=b"\x00" * 32)
    report = verify.verify(files=False)
    assert report.problem_counts["entry.missing"] == 1
    assert [p.where for p in report.problems if p.kind == "entry.missing"] == ["entry 6"]
    assert "entry 15" in {p.where for p in report.problems if p.kind == "entry.leaf"}
    assert "node.hash" not in report.kinds()  # nodes over the gap are not blamed


def test_deleted_last_entries_are_named() -> None:
    _log()
    Entry.objects.filter(leaf_index__gte=19).delete()
    report = verify.verify(files=False)
    assert [p.where for p in report.problems] == ["entries 19–20"]


def test_a_swapped_pair_of_leaf_indices_is_detected() -> None:
    _log()
    a, b = Entry.objects.get(leaf_index=2), Entry.objects.get(leaf_index=11)
    Entry.objects.filter(pk=a.pk).update(leaf_index=-1)
    Entry.objects.filter(pk=b.pk).update(leaf_index=2)
    Entry.objects.filter(pk=a.pk).update(leaf_index=11)
    report = verify.verify(files=False)
    assert {"node.hash", "head.root", "checkpoint.root"} <= report.kinds()
    named = {p.where for p in report.problems if p.kind == "node.hash"}
    assert "node 1/1 (entries 2–3)" in named and "node 1/5 (entries 10–11)" in named


# --- Files ------------------------------------------------------------------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _store(name: str, content: bytes, subject: str, *, replaces: bool = False) -> str:
    path = default_storage.save(name, ContentFile(content))
    services.register_file(
        subject=subject,
        path=path,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        belongs_to="record:1",
        replaces=replaces,
    )
    return path


def test_flipping_a_byte_of_a_stored_file_is_detected(media: Path) -> None:
    big = os.urandom(verify.READ_SIZE * 2 + 12345)  # read in three chunks
    path = _store("theses/big.pdf", big, "file:1")
    _store("theses/small.txt", b"Kitobxon", "file:2")
    services.integrate()
    assert verify.verify().counts["files"] == 2
    on_disk = media / path
    for position in (0, 1, verify.READ_SIZE - 1, verify.READ_SIZE, len(big) // 2, len(big) - 1):
        on_disk.write_bytes(_flip_bytes(big, position))
        report = verify.verify()
        assert report.kinds() == {"file.hash"}, position
        assert (report.problems[0].where, report.problems[0].expected) == (
            path,
            hashlib.sha256(big).hexdigest(),
        )
    on_disk.write_bytes(big + b"\n")
    assert verify.verify().kinds() == {"file.size", "file.hash"}
    on_disk.write_bytes(big)
    assert verify.verify().ok


def test_a_missing_file_is_detected_but_a_removed_or_replaced_one_is_not(media: Path) -> None:
    first = _store("a.txt", b"first", "file:1")
    _store("b.txt", b"bee", "file:2")
    _store("c.txt", b"sea", "file:3")
    services.integrate()
    (media / "b.txt").unlink()
    report = verify.verify()
    assert [(p.kind, p.where) for p in report.problems] == [("file.missing", "b.txt")]
    services.record("file.removed", subject="file:2")
    default_storage.delete(first)
    _store("a.txt", b"second version", "file:1", replaces=True)  # still queued: it counts
    report = verify.verify()
    assert report.ok, report.problems
    assert report.counts["files"] == 2


def test_no_files_skips_the_files(media: Path) -> None:
    _store("a.txt", b"first", "file:1")
    (media / "a.txt").unlink()
    services.integrate()
    assert verify.verify(files=False).ok
    assert verify.verify().kinds() == {"file.missing"}


# --- The command ------------------------------------------------------------------------------


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "KITOBXON_TEST_DATABASE_URL"}
    }
    env["KITOBXON_DATA_DIR"] = str(data_dir)
    return env


SETUP = """
from kitobxon.ledger import checkpoints, services
for i in range(40):
    services.record("loan", subject=f"loan:{i}", data={"item": i}, reader=i)
    if i in (9, 29):
        checkpoints.make_checkpoint(force=True)
services.integrate()
"""


def test_a_clean_log_exits_0_and_a_tampered_one_exits_1(tmp_path: Path) -> None:
    _log()
    out = io.StringIO()
    call_command("ledger_verify", "--no-files", stdout=out)
    assert "no problems found" in out.getvalue()
    out = io.StringIO()
    call_command("ledger_verify", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert (report["ok"], report["counts"]["entries"], report["problems"]) == (True, 21, [])

    data_dir = tmp_path / "data"
    cli = [sys.executable, "-m", "kitobxon.cli"]
    env = _env(data_dir)
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*cli, "manage", "shell", "-c", SETUP], env=env, check=True)
    clean = subprocess.run([*cli, "ledger", "verify"], env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    with sqlite3.connect(data_dir / "kitobxon.sqlite3") as db:
        db.execute("UPDATE ledger_entry SET body = replace(body, 'loan:7\"', 'loan:8\"')")
    tampered = subprocess.run(
        [*cli, "ledger", "verify", "--no-files"], env=env, capture_output=True, text=True
    )
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert tampered.stdout.startswith("entry.leaf  ")


def test_the_command_prints_each_problem_and_fails() -> None:
    _log()
    Entry.objects.filter(leaf_index=3).update(leaf_hash=b"\x00" * 32)
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("ledger_verify", "--no-files", stdout=out)
    assert raised.value.returncode == 1
    first = out.getvalue().splitlines()[0]
    assert first.startswith("entry.leaf  entry 3: The stored leaf hash does not match the entry.")
    assert first.endswith(f"found {'00' * 32}.")


def test_rebuild_stats_times_a_verify() -> None:
    _log()
    stats = verify.rebuild_stats()
    assert (stats["entries"], stats["problems"]) == (21, 0)
    assert stats["seconds"] > 0
