"""The log's published face: its latest checkpoint, its key, the witnesses' door, an overview.

/ledger/checkpoint and /ledger/key are plain text for tools (and other libraries' witnesses);
/ledger/cosignatures is where those witnesses post their cosignatures — authenticated by the
signature itself, so it needs no session and no CSRF token; /ledger/ explains it all to people.
"""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from kitobxon.ledger import checkpoints, queries, witnessing

TEXT = "text/plain; charset=utf-8"
MAX_COSIGNATURE_BODY = 64 * 1024


def _text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type=TEXT, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=10)
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest checkpoint as a C2SP signed note, with every accepted cosignature."""
    latest = queries.latest_checkpoint()
    if latest is None:
        return _text(_("This library has not signed a checkpoint yet.") + "\n", status=404)
    return _text(checkpoints.published_note(latest))


@require_GET
@cache_control(public=True, max_age=300)
def key(request: HttpRequest) -> HttpResponse:
    """The verifier key of the log's checkpoints, one line."""
    return _text(checkpoints.verifier_key() + "\n")


@csrf_exempt
@require_POST
def cosignatures(request: HttpRequest) -> HttpResponse:
    """A witness posts our checkpoint's text, a blank line and its cosignature line."""
    length = request.headers.get("Content-Length") or "0"
    if not length.isdigit() or int(length) > MAX_COSIGNATURE_BODY:
        return _text(_("The request is too large.") + "\n", status=413)
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _text(_("The request is not UTF-8 text.") + "\n", status=400)
    try:
        accepted = witnessing.accept_cosignatures(text)
    except witnessing.CosignatureRefused as refusal:
        return _text(refusal.message + "\n", status=refusal.status)
    names = ", ".join(sorted(c.witness.name for c in accepted))
    size = accepted[0].checkpoint.tree_size
    message = _("Accepted the cosignature of %(names)s on checkpoint %(size)s.") % {
        "names": names,
        "size": size,
    }
    return _text(message + "\n")


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """What the ledger is, its latest checkpoint, its key and its witnesses."""
    latest = queries.latest_checkpoint()
    context = {
        "checkpoint": latest,
        "root_hash": base64.b64encode(bytes(latest.root_hash)).decode() if latest else "",
        "note": checkpoints.published_note(latest) if latest else "",
        "unsigned": max(0, queries.head().size - latest.tree_size) if latest else 0,
        "verifier_key": checkpoints.verifier_key(),
        "witnesses": witnessing.witnesses_with_last_cosignature(),
    }
    return render(request, "ledger/index.html", context)


urlpatterns: list[URLPattern] = [
    path("ledger/", index, name="index"),
    path("ledger/checkpoint", checkpoint, name="checkpoint"),
    path("ledger/key", key, name="key"),
    path("ledger/cosignatures", cosignatures, name="cosignatures"),
]
