"""'Is this file authentic?': a reader proves a file's bytes against the signed log.

The file is hashed in the reader's browser and never uploaded; static/ledger/authentic.js then
checks the checkpoint's signature and the inclusion proof itself, so the page does not ask the
reader to trust this server. A pasted hash (also ``?sha256=`` in a shared link) is looked up
here too, so the answer is on the page even without JavaScript — unverified, and said so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, get_script_prefix, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kitobxon.ledger import queries
from kitobxon.ledger.schemas import FILE_KINDS, SHA256_HEX, file_entries_out


def normalise(text: str) -> str:
    """The first word of what was pasted, lower-cased: `sha256sum` prints "<hash>  <name>"."""
    words = text.split()
    return words[0].lower() if words else ""


def registrations(sha256: str) -> list[dict[str, Any]]:
    """The file's registrations as the API gives them, with ``registered_at`` for the page."""
    found = file_entries_out(queries.entries_with_file(sha256).filter(kind__in=FILE_KINDS))
    for item in found:
        item["registered_at"] = datetime.fromisoformat(item["time"])
    return found


def strings() -> dict[str, Any]:
    """Everything authentic.js says, in the reader's language ({name} marks a value)."""
    return {
        "hashing": _("Hashing {name} in your browser…"),
        "hashingDetail": _("The file is not uploaded: only its SHA-256 is sent to the ledger."),
        "progress": _("{percent}% hashed"),
        "checking": _("Checking the ledger…"),
        "invalidTitle": _("This is not a SHA-256 hash"),
        "invalidDetail": _("A SHA-256 hash is 64 hexadecimal digits."),
        "absentTitle": _("Not registered in the ledger"),
        "absentDetail": _(
            "The library has registered no file with exactly these bytes. "
            "A file changed in even one byte has a different hash."
        ),
        "pendingTitle": _("Registered, but not yet in a signed checkpoint"),
        "pendingDetail": _(
            "The library registered this file, but no signed checkpoint covers it yet, so it "
            "cannot be proven. Try again in a few minutes."
        ),
        "alsoPending": _("A later registration of these bytes is not yet in a signed checkpoint."),
        "authenticTitle": _("Authentic"),
        "authenticDetail": _(
            "These are exactly the bytes the library registered. Your browser checked the "
            "ledger's proof against the library's signed checkpoint."
        ),
        "belongsTo": _("Belongs to"),
        "unknownRecord": _("No record is named"),
        "registered": _("Registered"),
        "entry": _("Ledger entry"),
        "entryNumber": _("No. {index}"),
        "provenAgainst": _("Proven against"),
        "checkpointName": _("checkpoint of {origin}, {size} entries"),
        "rootHash": _("Signed root hash"),
        "fileHash": _("SHA-256 of the file"),
        "failedTitle": _("Verification failed"),
        "failedCheck": _("Failed check"),
        "checks": {
            "signature": _("signature"),
            "proof": _("proof"),
            "hash": _("hash"),
            "key": _("key"),
            "network": _("connection"),
        },
        "failSignature": _(
            "The checkpoint's signature does not verify with the library's public key."
        ),
        "failProof": _("The inclusion proof does not lead to the root of the signed checkpoint."),
        "failHash": _(
            "The ledger entry does not hash to its leaf, or does not name this file's SHA-256."
        ),
        "failKey": _("The library's public key could not be read."),
        "failNetwork": _("The ledger could not be reached. Try again."),
        "failRead": _("The file could not be read."),
    }


@require_GET
def authentic(request: HttpRequest) -> HttpResponse:
    pasted = request.GET.get("sha256", "")
    sha256 = normalise(pasted)
    found: list[dict[str, Any]] | None = None
    error = ""
    if pasted:
        if SHA256_HEX.fullmatch(sha256):
            found = registrations(sha256)
        else:
            error = _("A SHA-256 hash is 64 hexadecimal digits.")
    prefix = get_script_prefix()
    return render(
        request,
        "ledger/authentic.html",
        {
            "sha256": sha256 if found is not None else pasted[:200],
            "registrations": found,
            "error": error,
            "strings": strings(),
            "api_base": reverse("api:ledger_head").removesuffix("head"),
            "key_url": f"{prefix}ledger/key",
            "checkpoint_url": f"{prefix}ledger/checkpoint",
        },
    )


urlpatterns: list[URLPattern] = [path("ledger/authentic/", authentic, name="authentic")]
