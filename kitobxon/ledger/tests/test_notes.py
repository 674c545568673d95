"""C2SP signed notes, checkpoints and cosignatures: published vectors, round trips, tampering."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kitobxon.ledger import notes
from kitobxon.ledger.notes import NoteError

# golang.org/x/mod/sumdb/note/note_test.go (TestSign, TestOpen): Go's reference implementation.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
    "Zb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33"
    "WWd1RvMc+QQ=\n"
)
# transparency-dev/formats note/note_cosigv1_test.go: a live witness's cosignature/v1 key.
REMORA_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"

ROOT = hashlib.sha256(b"root").digest()
SEED = bytes(range(32))


def _checkpoint(size: int = 20852163, origin: str = "example.com/behind-the-sofa") -> str:
    return notes.format_checkpoint(origin, size, ROOT)


# --- Known answers ----------------------------------------------------------------------------


def test_we_sign_exactly_as_gos_note_package_does() -> None:
    name, key = notes.parse_signer_key(PETER_SKEY)
    assert name == "PeterNeumann"
    assert notes.verifier_key(name, key) == PETER_VKEY
    assert notes.signer_key(name, key) == PETER_SKEY
    assert notes.sign_note(GO_TEXT, name, key) == f"{GO_TEXT}\n{PETER_SIG}"


def test_we_open_gos_notes_and_set_aside_unknown_signers() -> None:
    note = f"{GO_TEXT}\n{PETER_SIG}{ENOCH_SIG}"
    assert notes.verify_note(note, PETER_VKEY) == GO_TEXT
    opened = notes.open_note(note, [PETER_VKEY])
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.name for s in opened.unverified] == ["EnochRoot"]
    both = notes.open_note(note, [PETER_VKEY, ENOCH_VKEY])
    assert [s.name for s in both.verified] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(NoteError, match="no signature by a trusted key"):
        notes.verify_note(f"{GO_TEXT}\n{ENOCH_SIG}", PETER_VKEY)


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n— Bad Name " + PETER_SIG.split(" ")[2],
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_from_gos_test_suite_are_refused(note: str) -> None:
    with pytest.raises(NoteError):
        notes.verify_note(note, PETER_VKEY)


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        notes.verify_note(b"\xff" + f"{GO_TEXT}\n{PETER_SIG}".encode(), PETER_VKEY)


def test_a_published_witness_key_parses_with_its_key_id() -> None:
    verifier = notes.parse_verifier_key(REMORA_WITNESS_VKEY)
    assert (verifier.name, verifier.key_id.hex(), verifier.algorithm) == (
        "remora.n621.de",
        "da77ade7",
        notes.COSIGNATURE_V1,
    )
    assert str(verifier) == REMORA_WITNESS_VKEY


def test_key_ids_follow_the_spec() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    vkey = notes.verifier_key("lib.example/log", key)
    public = notes.parse_verifier_key(vkey).public_key
    for algorithm in (notes.ED25519, notes.COSIGNATURE_V1):
        expected = hashlib.sha256(b"lib.example/log\n" + bytes([algorithm]) + public).digest()[:4]
        assert notes.key_id("lib.example/log", algorithm, public) == expected
    witness = notes.verifier_key("lib.example/log", key, algorithm=notes.COSIGNATURE_V1)
    assert witness.split("+")[1] != vkey.split("+")[1]
    assert base64.b64decode(witness.split("+", 2)[2])[0] == 0x04


def test_every_mangled_verifier_key_is_refused() -> None:
    for i in range(len(PETER_VKEY)):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(NoteError):
                    notes.parse_verifier_key(PETER_VKEY[i:j])
    for i, char in enumerate(PETER_VKEY):
        mangled = PETER_VKEY[:i] + chr(ord(char) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(NoteError):
            notes.parse_verifier_key(mangled)


# --- Checkpoints ------------------------------------------------------------------------------


def test_a_checkpoint_is_three_lines() -> None:
    body = _checkpoint()
    assert body == f"example.com/behind-the-sofa\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert notes.parse_checkpoint(body) == notes.CheckpointBody(
        "example.com/behind-the-sofa", 20852163, ROOT
    )
    with_extension = notes.format_checkpoint("o", 0, ROOT, ["ext one"])
    assert notes.parse_checkpoint(with_extension).extensions == ("ext one",)


@pytest.mark.parametrize(
    "body",
    [
        "o\n1\n",
        "\n1\nROOT\n",
        "o\n01\nROOT\n",
        "o\n+1\nROOT\n",
        "o\n1_0\nROOT\n",
        "o\n١\nROOT\n",
        "o\n 1\nROOT\n",
        "o\n99999999999999999999\nROOT\n",
        "o\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",
        "o\n1\n" + base64.b64encode(ROOT + b"x").decode() + "\n",
        "o\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n",
        "o\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n",
        "o\n1\nROOT",
        "o\n1\nROOT\n\n",
        "o\n1\nROOT\n\nmore\n",
    ],
)
def test_checkpoints_are_parsed_strictly(body: str) -> None:
    with pytest.raises(NoteError):
        notes.parse_checkpoint(body.replace("ROOT", base64.b64encode(ROOT).decode()))


def test_non_canonical_base64_is_refused() -> None:
    good = base64.b64encode(ROOT).decode()
    assert good.endswith("=")
    last = good[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    same_bytes = alphabet[alphabet.index(last) ^ 1]
    sloppy = good[:-2] + same_bytes + "="
    assert base64.b64decode(sloppy) == ROOT
    with pytest.raises(NoteError, match="non-canonical"):
        notes.parse_checkpoint(f"o\n1\n{sloppy}\n")


# --- Round trips and tampering ----------------------------------------------------------------


def test_a_signed_checkpoint_round_trips() -> None:
    key, vkey = notes.generate_signer("lib.example/log")
    body = _checkpoint(origin="lib.example/log")
    note = notes.sign_note(body, "lib.example/log", key)
    assert note.startswith(body + "\n— lib.example/log ")
    assert notes.verify_note(note, vkey) == body
    _, other_vkey = notes.generate_signer("lib.example/log")
    with pytest.raises(NoteError):
        notes.verify_note(note, other_vkey)
    assert notes.sign_note(body, "lib.example/log", key.private_bytes_raw()) == note


def _flips(text: str) -> list[bytes]:
    raw = text.encode()
    out = []
    for position in range(len(raw)):
        for mask in (0x01, 0x20, 0x80):
            mangled = bytearray(raw)
            mangled[position] ^= mask
            out.append(bytes(mangled))
    return out


def _text_flips(text: str) -> list[str]:
    """The flips that are still text (a str-taking function can only be handed those)."""
    out = []
    for mangled in _flips(text):
        try:
            out.append(mangled.decode())
        except UnicodeDecodeError:
            continue
    return out


def test_every_single_byte_flip_of_a_signed_checkpoint_is_refused() -> None:
    key, vkey = notes.generate_signer("lib.example/log")
    note = notes.sign_note(_checkpoint(origin="lib.example/log"), "lib.example/log", key)
    assert notes.verify_note(note.encode(), vkey)
    for mangled in _flips(note):
        with pytest.raises(NoteError):
            notes.verify_note(mangled, vkey)


def test_a_cosignature_round_trips_and_carries_its_time() -> None:
    key, wkey = notes.generate_signer("partner.example/witness", algorithm=notes.COSIGNATURE_V1)
    body = _checkpoint()
    line = notes.cosign(body, "partner.example/witness", key, timestamp=1679315147)
    assert line.startswith("— partner.example/witness ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == notes.parse_verifier_key(wkey).key_id
    assert raw[4:12] == (1679315147).to_bytes(8, "big")
    public = key.public_key()
    public.verify(raw[12:], b"cosignature/v1\ntime 1679315147\n" + body.encode())
    assert notes.verify_cosignature(body, line, wkey) == 1679315147
    assert notes.verify_cosignature(body, line.rstrip("\n"), wkey) == 1679315147
    # A checkpoint carrying the cosignature opens with the witness key too.
    assert notes.verify_note(f"{body}\n{line}", wkey) == body


def test_a_cosignature_is_not_a_note_signature_and_back() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    body = _checkpoint()
    log_vkey = notes.verifier_key("x.example", key)
    witness_vkey = notes.verifier_key("x.example", key, algorithm=notes.COSIGNATURE_V1)
    line = notes.cosign(body, "x.example", key, timestamp=1)
    with pytest.raises(NoteError):
        notes.verify_note(f"{body}\n{line}", log_vkey)
    signed = notes.sign_note(body, "x.example", key)
    with pytest.raises(NoteError):
        notes.verify_note(signed, witness_vkey)
    with pytest.raises(NoteError, match="not a witness"):
        notes.verify_cosignature(body, line, log_vkey)


def test_every_single_byte_flip_of_a_cosignature_or_its_checkpoint_is_refused() -> None:
    key, wkey = notes.generate_signer("partner.example/witness", algorithm=notes.COSIGNATURE_V1)
    body = _checkpoint()
    line = notes.cosign(body, "partner.example/witness", key, timestamp=1700000000)
    assert len(_text_flips(line)) > 2 * len(line)
    for mangled in _text_flips(line):
        with pytest.raises(NoteError):
            notes.verify_cosignature(body, mangled, wkey)
    for mangled in _text_flips(body):
        with pytest.raises(NoteError):
            notes.verify_cosignature(mangled, line, wkey)


def test_a_cosignature_of_another_time_does_not_verify() -> None:
    key, wkey = notes.generate_signer("w.example", algorithm=notes.COSIGNATURE_V1)
    body = _checkpoint()
    line = notes.cosign(body, "w.example", key, timestamp=1000)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[4:12] = (1001).to_bytes(8, "big")
    forged = f"— w.example {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match="invalid cosignature"):
        notes.verify_cosignature(body, forged, wkey)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "tab\tname"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(NoteError):
        notes.generate_signer(name)
