"""Signed checkpoints: the log's key, when a checkpoint is due, and the note it publishes.

A checkpoint is the log's signed word that its tree had a given size and root. It is made by a
job every minute when due — ``LEDGER_CHECKPOINT_ENTRIES`` new entries or
``LEDGER_CHECKPOINT_MINUTES`` since the last one — or at once by `kitobxon ledger checkpoint`.
The log never signs a tree that does not extend its last checkpoint (c2sp.org/tlog-checkpoint:
"a log MUST NOT sign any checkpoint which is inconsistent with any checkpoint it previously
signed"), and two makers at once end with one checkpoint per size.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kitobxon.ledger import keys, merkle, notes, queries, services
from kitobxon.ledger.models import Checkpoint, TreeHead

SIGNING_KEY_FILE = "signing.key"


class TreeRewritten(RuntimeError):
    """The stored tree does not extend the last checkpoint: refuse to sign, run `ledger verify`."""


def new_key_file() -> bytes:
    """A fresh Ed25519 key as PKCS#8 PEM, the form OpenSSL and most tools read."""
    return Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )


def load_key(raw: bytes) -> Ed25519PrivateKey:
    """An Ed25519 key from a PKCS#8 PEM file or a raw 32-byte seed."""
    if len(raw) == 32:
        return Ed25519PrivateKey.from_private_bytes(raw)
    key = load_pem_private_key(raw, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the ledger's keys are Ed25519 keys")
    return key


@cache
def _key_in(directory: str, name: str) -> Ed25519PrivateKey:
    return load_key(keys.secret_file(name, new_key_file))


def stored_key(name: str) -> Ed25519PrivateKey:
    """The Ed25519 key in LEDGER_DIR/name, generated (mode 0600) on first use."""
    return _key_in(str(settings.LEDGER_DIR), name)


def signing_key() -> Ed25519PrivateKey:
    """The log's key, LEDGER_DIR/signing.key."""
    return stored_key(SIGNING_KEY_FILE)


def origin() -> str:
    """The log's name: the first line of its checkpoints and the name of its key."""
    return str(settings.LEDGER_ORIGIN)


def verifier_key() -> str:
    """The public key that verifies our checkpoints, as a C2SP verifier key string."""
    return notes.verifier_key(origin(), signing_key())


def _head_for_update() -> queries.Head:
    row = TreeHead.objects.select_for_update().filter(pk=1).first()
    if row is None:
        return queries.Head(0, merkle.EMPTY_ROOT)
    return queries.Head(row.size, bytes(row.root_hash))


def _due(latest: Checkpoint | None, size: int, force: bool) -> bool:
    if latest is None:
        return size > 0 or force
    if size < latest.tree_size:
        raise TreeRewritten(
            f"the tree has {size} entries but checkpoint {latest.tree_size} was signed"
        )
    if size == latest.tree_size:
        return False
    if force or size - latest.tree_size >= settings.LEDGER_CHECKPOINT_ENTRIES:
        return True
    waited = timezone.now() - latest.signed_at
    return waited >= timedelta(minutes=settings.LEDGER_CHECKPOINT_MINUTES)


def _check_extends(latest: Checkpoint, head: queries.Head) -> None:
    try:
        proof = queries.consistency_proof(latest.tree_size, head.size) if latest.tree_size else []
        merkle.verify_consistency(
            latest.tree_size, head.size, bytes(latest.root_hash), head.root_hash, proof
        )
    except (merkle.ProofError, LookupError) as error:
        raise TreeRewritten(
            f"the tree of {head.size} does not extend checkpoint {latest.tree_size}: {error}"
        ) from error


def make_checkpoint(*, force: bool = False) -> Checkpoint | None:
    """Integrate queued entries, then sign the tree if it grew and a checkpoint is due.

    ``force`` signs whenever the tree grew (and the empty tree, if nothing was ever signed).
    Returns the new checkpoint, or None when there was nothing to sign. The head row is
    locked while signing, so the tree cannot move under the signature; the unique tree size
    settles two makers that race on a backend without row locks.
    """
    services.integrate()
    with transaction.atomic():
        head = _head_for_update()
        latest = queries.latest_checkpoint()
        if not _due(latest, head.size, force):
            return None
        if latest is not None:
            _check_extends(latest, head)
        body = notes.format_checkpoint(origin(), head.size, head.root_hash)
        note = notes.sign_note(body, origin(), signing_key())
        try:
            with transaction.atomic():
                return Checkpoint.objects.create(
                    tree_size=head.size,
                    root_hash=head.root_hash,
                    note=note,
                    signed_at=timezone.now(),
                )
        except IntegrityError:
            return None


def cosignature_lines(checkpoint: Checkpoint) -> list[str]:
    """The accepted witnesses' cosignature lines for a checkpoint, by witness name."""
    lines = checkpoint.cosignatures.order_by("witness__name").values_list("line", flat=True)
    return [line if line.endswith("\n") else f"{line}\n" for line in lines]


def published_note(checkpoint: Checkpoint) -> str:
    """The checkpoint as published: the log's signature, then every witness's cosignature."""
    return checkpoint.note + "".join(cosignature_lines(checkpoint))


def verify_checkpoint(checkpoint: Checkpoint) -> None:
    """Raise NoteError unless the stored checkpoint is exactly what our key signed.

    The note must be signed by the log's key (under the origin it names, so renaming the log
    later does not orphan old checkpoints), carry no other line, and state the row's size and
    root; every stored cosignature must verify with its witness's key.
    """
    body, signatures = notes.split_note(checkpoint.note)
    parsed = notes.parse_checkpoint(body)
    key = notes.verifier_key(parsed.origin, signing_key())
    notes.verify_note(checkpoint.note, key)
    if len(signatures) != 1:
        raise notes.NoteError(f"checkpoint {checkpoint.tree_size} carries extra signature lines")
    if parsed.size != checkpoint.tree_size:
        raise notes.NoteError(f"checkpoint {checkpoint.tree_size} signs size {parsed.size}")
    if parsed.root_hash != bytes(checkpoint.root_hash):
        raise notes.NoteError(f"checkpoint {checkpoint.tree_size} signs another root hash")
    for cosignature in checkpoint.cosignatures.select_related("witness"):
        timestamp = notes.verify_cosignature(
            body, cosignature.line, cosignature.witness.verifier_key
        )
        if timestamp != cosignature.timestamp:
            raise notes.NoteError(
                f"{cosignature.witness}'s cosignature of {checkpoint.tree_size} has another time"
            )
