"""C2SP signed notes, checkpoints and witness cosignatures, as pure functions.

Three small specifications, followed to the letter so that any transparency-log tool (Go's
``golang.org/x/mod/sumdb/note``, ``transparency-dev/formats``, Sigsum) reads what we publish:

- c2sp.org/signed-note: a text ending in a newline, a blank line, then one or more lines
  ``— <key name> <base64(4-byte key ID || signature)>``. An Ed25519 key's ID is
  ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; its *verifier key* is the string
  ``<name>+<8 hex key ID>+<base64(0x01 || public key)>``.
- c2sp.org/tlog-checkpoint: the text is ``<origin>\\n<tree size>\\n<base64 root hash>\\n``,
  optionally followed by non-empty extension lines.
- c2sp.org/tlog-cosignature (``cosignature/v1``, signature type 0x04): a witness signs
  ``cosignature/v1\\ntime <unix seconds>\\n`` followed by the checkpoint text, and its line
  carries ``key ID || 8-byte big-endian timestamp || signature``.

Parsing is strict — one spelling for every value (no leading zeros, canonical base64, no
trailing bytes), so a note that differs by one byte from a signed one never verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
"""Signature type of a plain Ed25519 note signature (the log's own)."""

COSIGNATURE_V1 = 0x04
"""Signature type of a timestamped Ed25519 witness cosignature."""

EM_DASH = "\u2014"
MAX_SIGNATURES = 100
MAX_TIMESTAMP = 2**63 - 1
HASH_SIZE = 32

_SIZE = re.compile(r"0|[1-9][0-9]{0,18}", re.ASCII)
_HEX8 = re.compile(r"[0-9a-f]{8}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A note, checkpoint, key or cosignature that is malformed or does not verify."""


@dataclass(frozen=True)
class CheckpointBody:
    """The three lines a log commits to (and any extension lines)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root_hash, self.extensions)


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key: who signs, with which key, of which signature type."""

    name: str
    key_id: bytes
    algorithm: int
    public_key: bytes

    def __str__(self) -> str:
        return _verifier_key_string(self.name, self.algorithm, self.public_key)


@dataclass(frozen=True)
class Signature:
    """One signature line of a note, not yet verified."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{EM_DASH} {self.name} {encoded}\n"


@dataclass(frozen=True)
class OpenedNote:
    """A note whose text was verified by at least one trusted key."""

    body: str
    verified: tuple[Signature, ...]
    unverified: tuple[Signature, ...]


# --- Names, keys and key IDs ------------------------------------------------------------------


def valid_name(name: str) -> bool:
    """Key names are non-empty and contain no Unicode space and no "+"."""
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() for ch in name)
        and not _CONTROL.search(name)
    )


def key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || signature type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


def _public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _private_key(key: Ed25519PrivateKey | bytes) -> Ed25519PrivateKey:
    if isinstance(key, Ed25519PrivateKey):
        return key
    if isinstance(key, bytes | bytearray) and len(key) == 32:
        return Ed25519PrivateKey.from_private_bytes(bytes(key))
    raise NoteError("an Ed25519 private key (or its 32-byte seed) is needed")


def _check_name(name: str) -> None:
    if not valid_name(name):
        raise NoteError(f"{name!r} is not a valid key name")


def _verifier_key_string(name: str, algorithm: int, public_key: bytes) -> str:
    encoded = base64.b64encode(bytes([algorithm]) + public_key).decode()
    return f"{name}+{key_id(name, algorithm, public_key).hex()}+{encoded}"


def verifier_key(
    name: str, private_key: Ed25519PrivateKey | bytes, *, algorithm: int = ED25519
) -> str:
    """The verifier key string of a private key under ``name``.

    ``algorithm=COSIGNATURE_V1`` gives a witness's key: the same Ed25519 key, a different
    key ID, so a witness's cosignature is never mistaken for a plain note signature.
    """
    _check_name(name)
    if algorithm not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"unknown signature type {algorithm:#04x}")
    return _verifier_key_string(name, algorithm, _public_bytes(_private_key(private_key)))


def generate_signer(name: str, *, algorithm: int = ED25519) -> tuple[Ed25519PrivateKey, str]:
    """A new Ed25519 key and its verifier key string under ``name``."""
    _check_name(name)
    private_key = Ed25519PrivateKey.generate()
    return private_key, verifier_key(name, private_key, algorithm=algorithm)


def signer_key(name: str, private_key: Ed25519PrivateKey | bytes) -> str:
    """The Go-compatible ``PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`` string."""
    _check_name(name)
    key = _private_key(private_key)
    seed = key.private_bytes_raw()
    encoded = base64.b64encode(bytes([ED25519]) + seed).decode()
    return f"PRIVATE+KEY+{name}+{key_id(name, ED25519, _public_bytes(key)).hex()}+{encoded}"


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """The name and private key of a ``PRIVATE+KEY+…`` string (as made by Go's note package)."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("not a signer key")
    name, hex_id, encoded = parts[2], parts[3], parts[4]
    _check_name(name)
    raw = _b64decode(encoded)
    if not _HEX8.fullmatch(hex_id) or len(raw) != 33 or raw[0] != ED25519:
        raise NoteError("malformed signer key")
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if key_id(name, ED25519, _public_bytes(key)).hex() != hex_id:
        raise NoteError("the signer key's ID does not match its key")
    return name, key


def parse_verifier_key(vkey: str) -> Verifier:
    """A verifier key string, checked: valid name, known type, 32-byte key, matching ID."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key has the form name+keyid+key")
    name, hex_id, encoded = parts
    _check_name(name)
    if not _HEX8.fullmatch(hex_id):
        raise NoteError("a verifier key's ID is eight lowercase hex digits")
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("only Ed25519 (type 0x01) and cosignature/v1 (0x04) keys are known")
    algorithm, public_key = raw[0], raw[1:]
    if key_id(name, algorithm, public_key).hex() != hex_id:
        raise NoteError("the verifier key's ID does not match its key")
    return Verifier(name, bytes.fromhex(hex_id), algorithm, public_key)


def _b64decode(text: str) -> bytes:
    """Standard base64, canonical only: decoding then encoding gives the same text back."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise NoteError("malformed base64") from error
    if base64.b64encode(raw).decode() != text:
        raise NoteError("non-canonical base64")
    return raw


# --- Signed notes -----------------------------------------------------------------------------


def _check_text(text: str) -> None:
    if _CONTROL.search(text):
        raise NoteError("a note contains no control characters other than newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise NoteError("a note is valid UTF-8") from error


def _check_body(body: str) -> None:
    if not body.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    _check_text(body)


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey | bytes) -> str:
    """The signed note: ``body``, a blank line and one Ed25519 signature line by ``name``."""
    _check_body(body)
    _check_name(name)
    key = _private_key(private_key)
    signature = key.sign(body.encode())
    line = Signature(name, key_id(name, ED25519, _public_bytes(key)), signature).line
    return f"{body}\n{line}"


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """A note's text and its signature lines, checked for form only (nothing is verified)."""
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as error:
            raise NoteError("a note is valid UTF-8") from error
    _check_text(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a note has a blank line before its signatures")
    body, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("a note ends with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return body, [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> Signature:
    prefix = f"{EM_DASH} "
    if not line.startswith(prefix):
        raise NoteError("a signature line starts with an em dash and a space")
    fields = line[len(prefix) :].split(" ")
    if len(fields) != 2:
        raise NoteError("a signature line is a name and a signature")
    name, encoded = fields
    _check_name(name)
    raw = _b64decode(encoded)
    if len(raw) < 5:
        raise NoteError("a signature is a key ID and at least one byte")
    return Signature(name, raw[:4], raw[4:])


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def _signature_verifies(verifier: Verifier, body: str, signature: bytes) -> bool:
    public_key = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    if verifier.algorithm == ED25519:
        message, raw = body.encode(), signature
    else:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        message, raw = _cosigned_message(body, timestamp), signature[8:]
    if len(raw) != 64:
        return False
    try:
        public_key.verify(raw, message)
    except InvalidSignature:
        return False
    return True


def open_note(note: str | bytes, verifier_keys: Iterable[str | Verifier]) -> OpenedNote:
    """Verify a note against trusted keys, as c2sp.org/signed-note asks.

    Lines from unknown keys (another name or key ID) are set aside unverified; a line from a
    known key must verify, or the whole note is refused; and at least one must.
    """
    body, signatures = split_note(note)
    verifiers: dict[tuple[str, bytes], Verifier] = {}
    for key in verifier_keys:
        trusted = key if isinstance(key, Verifier) else parse_verifier_key(key)
        verifiers[(trusted.name, trusted.key_id)] = trusted
    verified: list[Signature] = []
    unverified: list[Signature] = []
    for signature in signatures:
        verifier = verifiers.get((signature.name, signature.key_id))
        if verifier is None:
            unverified.append(signature)
            continue
        if verifier.algorithm == COSIGNATURE_V1:
            parse_checkpoint(body)
        if not _signature_verifies(verifier, body, signature.signature):
            raise NoteError(f"invalid signature by {signature.name}")
        if signature not in verified:
            verified.append(signature)
    if not verified:
        raise NoteError("no signature by a trusted key")
    return OpenedNote(body, tuple(verified), tuple(unverified))


def verify_note(note: str | bytes, verifier_key: str) -> str:
    """The text of ``note`` if ``verifier_key`` signed it; NoteError otherwise."""
    return open_note(note, [verifier_key]).body


# --- Checkpoints ------------------------------------------------------------------------------


def format_checkpoint(
    origin: str, size: int, root_hash: bytes, extensions: Iterable[str] = ()
) -> str:
    """The checkpoint text: origin, tree size and base64 root hash, one per line."""
    body = CheckpointBody(origin, size, bytes(root_hash), tuple(extensions))
    lines = [origin, str(size), base64.b64encode(body.root_hash).decode(), *body.extensions]
    text = "".join(f"{line}\n" for line in lines)
    if parse_checkpoint(text) != body:
        raise NoteError("this checkpoint cannot be written")
    return text


def parse_checkpoint(body: str) -> CheckpointBody:
    """The origin, size and root of a checkpoint's text, checked strictly."""
    _check_body(body)
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash")
    origin, size, root, *extensions = lines
    if not origin:
        raise NoteError("a checkpoint's origin is not empty")
    if not _SIZE.fullmatch(size) or int(size) > MAX_TIMESTAMP:
        raise NoteError("a checkpoint's size is a decimal number without leading zeros")
    root_hash = _b64decode(root)
    if len(root_hash) != HASH_SIZE:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("a checkpoint's extension lines are not empty")
    return CheckpointBody(origin, int(size), root_hash, tuple(extensions))


# --- Cosignatures -----------------------------------------------------------------------------


def cosign(
    body: str,
    name: str,
    private_key: Ed25519PrivateKey | bytes,
    *,
    timestamp: int | None = None,
) -> str:
    """A witness's cosignature/v1 line (ending in a newline) over a checkpoint's text."""
    parse_checkpoint(body)
    _check_name(name)
    key = _private_key(private_key)
    when = int(time.time()) if timestamp is None else timestamp
    if not 0 <= when <= MAX_TIMESTAMP:
        raise NoteError("a cosignature's time is a Unix time in seconds")
    signature = key.sign(_cosigned_message(body, when))
    stamp = when.to_bytes(8, "big")
    return Signature(name, key_id(name, COSIGNATURE_V1, _public_bytes(key)), stamp + signature).line


def verify_cosignature(body: str, line: str, verifier_key: str) -> int:
    """The time (Unix seconds) at which the witness of ``verifier_key`` cosigned ``body``.

    ``line`` is one signature line, with or without its final newline.
    """
    verifier = parse_verifier_key(verifier_key)
    if verifier.algorithm != COSIGNATURE_V1:
        raise NoteError("this is not a witness (cosignature/v1) key")
    parse_checkpoint(body)
    text = line[:-1] if line.endswith("\n") else line
    if "\n" in text:
        raise NoteError("a cosignature is one line")
    signature = _parse_signature_line(text)
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise NoteError("this cosignature is by another key")
    if not _signature_verifies(verifier, body, signature.signature):
        raise NoteError(f"invalid cosignature by {signature.name}")
    return cosignature_time(signature)


def cosignature_time(signature: Signature) -> int:
    """The timestamp a cosignature/v1 signature carries."""
    if len(signature.signature) != 8 + 64:
        raise NoteError("not a cosignature/v1 signature")
    return int.from_bytes(signature.signature[:8], "big")
