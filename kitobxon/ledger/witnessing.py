"""Witnessing: partner libraries countersign each other's checkpoints.

Both sides of c2sp.org/tlog-cosignature live here. As a *log*, we accept cosignatures from the
witnesses a librarian added (`kitobxon ledger add-witness VKEY`) and publish them under our
checkpoint. As a *witness*, `kitobxon ledger witness URL` fetches a partner's checkpoint, checks
it is signed by the key we pinned the first time and extends the last checkpoint we saw — by
an RFC 9162 consistency proof — then stores it, cosigns it and posts the cosignature back. A
smaller tree, or another root for the same size, is a fork: refused, reported, nothing stored.

The witness key is separate from the log's key (LEDGER_DIR/witness.key), named
``<LEDGER_ORIGIN>/witness``, with signature type 0x04 so it can only ever cosign.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kitobxon.core import outbound
from kitobxon.core.errors import DomainError
from kitobxon.ledger import checkpoints, merkle, notes
from kitobxon.ledger.models import Checkpoint, Cosignature, Witness, WitnessedLog

WITNESS_KEY_FILE = "witness.key"
MAX_RESPONSE = 1 << 20
MAX_FUTURE_SECONDS = 600
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Kitobxon-witness/1"


# --- Our witness key --------------------------------------------------------------------------


def witness_name() -> str:
    return f"{settings.LEDGER_ORIGIN}/witness"


def witness_key() -> Ed25519PrivateKey:
    """This library's witness key, LEDGER_DIR/witness.key, generated on first use."""
    return checkpoints.stored_key(WITNESS_KEY_FILE)


def witness_verifier_key() -> str:
    """What a partner passes to `kitobxon ledger add-witness` to accept our cosignatures."""
    return notes.verifier_key(witness_name(), witness_key(), algorithm=notes.COSIGNATURE_V1)


# --- As a log: accepting cosignatures ---------------------------------------------------------


class CosignatureRefused(DomainError):
    """A posted cosignature we do not accept; ``status`` is the HTTP status to answer with."""

    status = 400
    default_message = gettext_lazy("This cosignature is not accepted.")


class MalformedCosignature(CosignatureRefused):
    status = 400
    default_message = gettext_lazy(
        "Send the checkpoint text, a blank line and the cosignature line."
    )


class UnknownWitness(CosignatureRefused):
    status = 403
    default_message = gettext_lazy("No cosignature here is from a witness this library has added.")


class BadCosignature(CosignatureRefused):
    status = 403
    default_message = gettext_lazy("The cosignature does not verify.")


class UnknownCheckpoint(CosignatureRefused):
    status = 404
    default_message = gettext_lazy("This log has no checkpoint of that size.")


class OtherCheckpoint(CosignatureRefused):
    status = 409
    default_message = gettext_lazy("The cosigned text is not our checkpoint of that size.")


class WitnessKeyRefused(DomainError):
    default_message = gettext_lazy("This is not a witness key.")


def add_witness(verifier_key: str) -> tuple[Witness, bool]:
    """Accept cosignatures from the witness of ``verifier_key``; (witness, newly added)."""
    try:
        parsed = notes.parse_verifier_key(verifier_key)
    except notes.NoteError as error:
        message = _("This is not a verifier key: %(error)s") % {"error": error}
        raise WitnessKeyRefused(message) from error
    if parsed.algorithm != notes.COSIGNATURE_V1:
        raise WitnessKeyRefused(
            _("This is a log key, not a witness key; ask for `kitobxon ledger key --witness`.")
        )
    key = str(parsed)
    existing = Witness.objects.filter(name=parsed.name).first()
    if existing is not None:
        if existing.verifier_key != key:
            raise WitnessKeyRefused(
                _("A witness named %(name)s is already added with another key.")
                % {"name": parsed.name}
            )
        return existing, False
    try:
        with transaction.atomic():
            return Witness.objects.create(name=parsed.name, verifier_key=key), True
    except IntegrityError:
        return Witness.objects.get(name=parsed.name, verifier_key=key), False


def accept_cosignatures(text: str) -> list[Cosignature]:
    """Store the cosignatures in a posted note: our checkpoint's text, cosigned by witnesses.

    The text must be exactly the body of one of our checkpoints; lines from keys we do not
    know are ignored (the note may carry our own signature too); a line from a known witness
    must verify. Posting the same cosignature twice changes nothing; a newer one replaces it.
    """
    try:
        body, signatures = notes.split_note(text)
        stated = notes.parse_checkpoint(body)
    except notes.NoteError as error:
        raise MalformedCosignature() from error
    checkpoint = Checkpoint.objects.filter(tree_size=stated.size).first()
    if checkpoint is None:
        raise UnknownCheckpoint()
    if notes.split_note(checkpoint.note)[0] != body:
        raise OtherCheckpoint()
    known: dict[tuple[str, bytes], Witness] = {}
    for added in Witness.objects.all():
        parsed = notes.parse_verifier_key(added.verifier_key)
        known[(parsed.name, parsed.key_id)] = added
    found: list[tuple[Witness, str, int]] = []
    for signature in signatures:
        witness = known.get((signature.name, signature.key_id))
        if witness is None:
            continue
        try:
            timestamp = notes.verify_cosignature(body, signature.line, witness.verifier_key)
        except notes.NoteError as error:
            raise BadCosignature() from error
        if timestamp > timezone.now().timestamp() + MAX_FUTURE_SECONDS:
            raise BadCosignature(_("The cosignature is dated in the future."))
        found.append((witness, signature.line.rstrip("\n"), timestamp))
    if not found:
        raise UnknownWitness()
    return [_store(checkpoint, *item) for item in found]


def _store(checkpoint: Checkpoint, witness: Witness, line: str, timestamp: int) -> Cosignature:
    with transaction.atomic():
        current = (
            Cosignature.objects.select_for_update()
            .filter(checkpoint=checkpoint, witness=witness)
            .first()
        )
        if current is None:
            try:
                with transaction.atomic():
                    return Cosignature.objects.create(
                        checkpoint=checkpoint, witness=witness, timestamp=timestamp, line=line
                    )
            except IntegrityError:
                current = Cosignature.objects.get(checkpoint=checkpoint, witness=witness)
        if timestamp > current.timestamp:
            current.timestamp, current.line = timestamp, line
            current.save(update_fields=["timestamp", "line"])
        return current


def witnesses_with_last_cosignature() -> list[tuple[Witness, datetime | None]]:
    """Every witness we accept, with when it last cosigned one of our checkpoints."""
    rows = Witness.objects.annotate(last=Max("cosignatures__timestamp")).order_by("name")
    return [
        (witness, datetime.fromtimestamp(witness.last, UTC) if witness.last is not None else None)
        for witness in rows
    ]


# --- As a witness: checking and cosigning a partner's log -------------------------------------


class WitnessError(Exception):
    """Witnessing stopped. ``fork`` is set when the log showed an inconsistent history."""

    def __init__(self, message: str, *, fork: bool = False) -> None:
        super().__init__(message)
        self.fork = fork


@dataclass(frozen=True)
class WitnessReport:
    url: str
    origin: str
    previous_size: int
    size: int
    root_hash: bytes
    first_time: bool
    cosignature: str
    posted: bool
    answer: str

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "origin": self.origin,
            "previous_size": self.previous_size,
            "size": self.size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "first_time": self.first_time,
            "cosignature": self.cosignature,
            "posted": self.posted,
            "answer": self.answer,
        }


def _base(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise WitnessError(_("%(url)s is not an http(s) address.") % {"url": url})
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _request(
    url: str, *, data: bytes | None = None, timeout: float = TIMEOUT_SECONDS
) -> tuple[int, str]:
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/plain, application/json",
        # The partner's refusals come back in the language this command speaks.
        "Accept-Language": translation.get_language() or settings.LANGUAGE_CODE,
    }
    if data is not None:
        headers["Content-Type"] = "text/plain; charset=utf-8"
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    try:
        # A partner's log is on the public internet: an address (or a redirect) into the
        # library's own network is refused unless the administrator allows it.
        with outbound.open_url(request, timeout=timeout) as response:
            return response.status, response.read(MAX_RESPONSE).decode("utf-8", "replace")
    except outbound.OutboundRefused as error:
        raise WitnessError(error.message) from error
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_RESPONSE).decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        message = _("Could not reach %(url)s: %(error)s") % {"url": url, "error": error}
        raise WitnessError(message) from error


def _get(url: str, timeout: float) -> str:
    status, text = _request(url, timeout=timeout)
    if status != 200:
        raise WitnessError(
            _("%(url)s answered %(status)s: %(text)s")
            % {"url": url, "status": status, "text": text.strip()[:200]}
        )
    return text


def _consistency_proof(base: str, first: int, second: int, timeout: float) -> list[bytes]:
    query = urllib.parse.urlencode({"from": first, "to": second})
    text = _get(f"{base}/api/ledger/proof/consistency?{query}", timeout)
    try:
        answer = json.loads(text)
        if answer["from"] != first or answer["to"] != second:
            raise ValueError("the proof is for other sizes")
        return [base64.b64decode(item, validate=True) for item in answer["proof"]]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise WitnessError(
            _("The log's consistency proof could not be read: %(error)s") % {"error": error},
            fork=True,
        ) from error


def witness_log(
    url: str, *, key: str | None = None, timeout: float = TIMEOUT_SECONDS
) -> WitnessReport:
    """Check a partner's latest checkpoint against what we saw before, store it, cosign it.

    The first time, the log's key comes from ``key`` or, trusting on first use, from
    URL/ledger/key; from then on it is pinned. Raises WitnessError (``fork=True`` when the log
    contradicts itself) and leaves the stored state as it was.
    """
    base = _base(url)
    known = WitnessedLog.objects.filter(url=base).first()
    if (
        known is not None
        and key
        and notes.parse_verifier_key(key) != notes.parse_verifier_key(known.verifier_key)
    ):
        raise WitnessError(
            _("This log was pinned to another key (%(key)s); refusing %(new)s.")
            % {"key": known.verifier_key, "new": key.strip()},
            fork=True,
        )
    if known is not None:
        log_key = known.verifier_key
    else:
        log_key = (key or _get(f"{base}/ledger/key", timeout)).strip()
    try:
        verifier = notes.parse_verifier_key(log_key)
    except notes.NoteError as error:
        message = _("The log's key is not usable: %(error)s") % {"error": error}
        raise WitnessError(message) from error
    if verifier.algorithm != notes.ED25519:
        raise WitnessError(_("The log's key is a witness key, not a log key."))

    note = _get(f"{base}/ledger/checkpoint", timeout)
    try:
        body = notes.verify_note(note, log_key)
        checkpoint = notes.parse_checkpoint(body)
    except notes.NoteError as error:
        raise WitnessError(
            _("The checkpoint is not signed by the log's key: %(error)s") % {"error": error},
            fork=True,
        ) from error
    if checkpoint.origin != verifier.name:
        raise WitnessError(
            _("The checkpoint names origin %(origin)s, the key %(name)s.")
            % {"origin": checkpoint.origin, "name": verifier.name},
            fork=True,
        )
    previous_size = 0
    if known is not None:
        previous_size = known.tree_size
        _check_consistent(base, known, checkpoint, timeout)

    _save_state(base, known, checkpoint, log_key, note)
    line = notes.cosign(body, witness_name(), witness_key())
    status, answer = _request(
        f"{base}/ledger/cosignatures", data=f"{body}\n{line}".encode(), timeout=timeout
    )
    return WitnessReport(
        url=base,
        origin=checkpoint.origin,
        previous_size=previous_size,
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        first_time=known is None,
        cosignature=line,
        posted=status in {200, 201},
        answer=answer.strip(),
    )


def _check_consistent(
    base: str, known: WitnessedLog, checkpoint: notes.CheckpointBody, timeout: float
) -> None:
    old_size, old_root = known.tree_size, bytes(known.root_hash)
    if checkpoint.origin != known.origin:
        raise WitnessError(
            _("The log now calls itself %(origin)s, not %(known)s.")
            % {"origin": checkpoint.origin, "known": known.origin},
            fork=True,
        )
    if checkpoint.size < old_size:
        raise WitnessError(
            _("Fork: the log shows %(size)s entries, but we already saw %(old)s.")
            % {"size": checkpoint.size, "old": old_size},
            fork=True,
        )
    if checkpoint.size == old_size:
        if checkpoint.root_hash != old_root:
            raise WitnessError(
                _("Fork: the log shows another root hash for the same %(size)s entries.")
                % {"size": old_size},
                fork=True,
            )
        return
    if old_size == 0:
        return
    proof = _consistency_proof(base, old_size, checkpoint.size, timeout)
    try:
        merkle.verify_consistency(old_size, checkpoint.size, old_root, checkpoint.root_hash, proof)
    except merkle.ProofError as error:
        raise WitnessError(
            _("Fork: the tree of %(size)s does not extend the tree of %(old)s we saw (%(error)s).")
            % {"size": checkpoint.size, "old": old_size, "error": error},
            fork=True,
        ) from error


def _save_state(
    base: str,
    known: WitnessedLog | None,
    checkpoint: notes.CheckpointBody,
    log_key: str,
    note: str,
) -> None:
    with transaction.atomic():
        if known is None:
            try:
                with transaction.atomic():
                    WitnessedLog.objects.create(
                        url=base,
                        origin=checkpoint.origin,
                        verifier_key=log_key,
                        tree_size=checkpoint.size,
                        root_hash=checkpoint.root_hash,
                        note=note,
                    )
                    return
            except IntegrityError as error:
                raise WitnessError(
                    _("Another witness run started on this log; try again.")
                ) from error
        current = WitnessedLog.objects.select_for_update().get(pk=known.pk)
        if (current.tree_size, bytes(current.root_hash)) != (
            known.tree_size,
            bytes(known.root_hash),
        ):
            raise WitnessError(_("Another witness run moved this log on; try again."))
        current.tree_size = checkpoint.size
        current.root_hash = checkpoint.root_hash
        current.note = note
        current.save(update_fields=["tree_size", "root_hash", "note", "checked_at"])
