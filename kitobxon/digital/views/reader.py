"""The in-browser reader: one page per kind of file, opened where the reader stopped.

A file the reader may not see is 404; one they see but may not open now is a page saying why
(status 403) with the way back to its record. Otherwise the page gets a signed link to the bytes
(``services.access.open_file``, which records the grant) and the reader's saved position, and
the browser does the rest: pdf.js for PDFs, foliate-js for EPUBs, <audio>/<video> with their
captions, <img>, and <model-viewer> for 3D models.

Library rule: files come from publishers, not from the library, so their content is untrusted.
Each reader page narrows the site's Content-Security-Policy to what its reader needs (no
``'unsafe-eval'``; blob: frames, styles and images only for the EPUB reader, whose book pages
inherit the policy and therefore run none of the book's scripts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csp.constants import NONCE, SELF, UNSAFE_INLINE, WASM_UNSAFE_EVAL
from csp.decorators import csp_replace
from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from kitobxon.digital import delivery, errors, queries
from kitobxon.digital.models import DigitalFile, FileKind
from kitobxon.digital.services import access

#: The directives each reader page sets in place of the site's (config/settings.py), per kind.
_STRICT_SCRIPTS: dict[str, list[Any]] = {"script-src": [SELF]}
POLICIES: dict[str, dict[str, list[Any]]] = {
    FileKind.PDF: {**_STRICT_SCRIPTS, "worker-src": [SELF]},
    FileKind.EPUB: {
        # The nonce admits only the page's import map (foliate-js imports a bare module name).
        "script-src": [SELF, NONCE],
        # foliate-js lays out book pages in blob: frames with its own <style> elements; the
        # book's styles, pictures and fonts are blob: URLs made from the EPUB in the browser.
        "frame-src": [SELF, "blob:"],
        "style-src": [SELF, UNSAFE_INLINE, "blob:"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
    },
    FileKind.AUDIO: _STRICT_SCRIPTS,
    FileKind.VIDEO: _STRICT_SCRIPTS,
    FileKind.IMAGE: _STRICT_SCRIPTS,
    # model-viewer compiles its mesh decoders (WebAssembly, not JavaScript eval), styles its
    # parts with style attributes, and three.js turns the model's textures into blob: images.
    FileKind.MODEL_3D: {
        "script-src": [SELF, WASM_UNSAFE_EVAL],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
    },
}
MEDIA_KINDS = (FileKind.AUDIO, FileKind.VIDEO)
#: Where a reader's bytes are fetched from (fetch, <audio>/<video>, <img>), hence where an S3
#: store's origin must be allowed when the byte link redirects there.
STORAGE_DIRECTIVES = ("connect-src", "media-src", "img-src")


def page_policy(kind: str) -> dict[str, list[Any]]:
    """The reader page's directives: its kind's, and the S3 store's origin if bytes come from
    one (each directive then starts from the page's own list, else the site's)."""
    policy = dict(POLICIES[kind])
    origin = delivery.storage_origin()
    if origin:
        site = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        for directive in STORAGE_DIRECTIVES:
            base = policy.get(directive) or site.get(directive) or site["default-src"]
            policy[directive] = [*base, origin]
    return policy


@dataclass(frozen=True, slots=True)
class Captions:
    url: str
    open_api: str
    language: str
    label: str


@require_safe
def reader(request: HttpRequest, file_id: int) -> HttpResponseBase:
    file = queries.access_file(request.user, file_id)
    if file.kind == FileKind.CAPTIONS:  # captions are shown with their video
        if not file.caption_for_id:
            raise Http404
        return HttpResponseRedirect(reverse("digital:reader", args=[file.caption_for_id]))
    try:
        url = access.open_file(request, file, purpose="view")
    except errors.AccessDenied as refusal:
        return _refused(request, file, refusal.message)
    position = queries.reading_position(request.user, file)
    context = {
        "file": file,
        "record": file.record,
        "url": url,
        "position": position.position if position else "",
        "progress": position.progress if position else 0.0,
        "keeps_position": request.user.is_authenticated,
        "position_api": reverse("api:digital_position", args=[file.pk]),
        "open_api": reverse("api:digital_open", args=[file.pk]),
        "search_api": reverse("api:digital_search", args=[file.pk]),
        "captions": _captions(request, file) if file.kind in MEDIA_KINDS else [],
        "strings": _strings(file.kind),
    }
    response = render(request, f"digital/reader_{file.kind}.html", context)
    return csp_replace(page_policy(file.kind))(lambda _request: response)(request)


def _refused(request: HttpRequest, file: DigitalFile, message: str) -> HttpResponse:
    return render(
        request,
        "digital/reader_refused.html",
        {"file": file, "record": file.record, "message": message},
        status=403,
    )


def _captions(request: HttpRequest, file: DigitalFile) -> list[Captions]:
    """The captions of a video or recording this reader may open, each by its own signed link."""
    tracks = []
    for caption in file.captions.order_by("position", "id"):
        try:
            url = access.open_file(request, caption, purpose="view")
        except errors.AccessDenied:
            continue
        tracks.append(
            Captions(
                url,
                reverse("api:digital_open", args=[caption.pk]),
                caption.caption_language,
                _language_name(caption.caption_language),
            )
        )
    return tracks


def _language_name(code: str) -> str:
    if not code:
        return _("Captions")
    try:
        return str(get_language_info(code.lower())["name_local"])
    except KeyError:
        return code


def _strings(kind: str) -> dict[str, str]:
    """What the reader's script says, in the reader's language (the script holds no words)."""
    strings = {
        "not_saved": _("Your place could not be saved; it will be tried again."),
        "failed": _("This file could not be opened. Try again from its record page."),
    }
    if kind == FileKind.PDF:
        strings |= {
            "of_pages": _("of %(count)s"),
            "hit_page": _("Page %(page)s"),
            "searching": _("Searching…"),
            "hits": _("Pages found: %(count)s"),
            "no_hits": _("Not found in this document."),
            "no_text": _("This document has no searchable text yet."),
            "no_outline": _("This document has no table of contents."),
        }
    elif kind == FileKind.EPUB:
        strings |= {
            "searching": _("Searching…"),
            "no_hits": _("Not found in this book."),
            "hits": _("Places found: %(count)s"),
            "progress": _("%(percent)s%% read"),
            "no_toc": _("This book has no table of contents."),
        }
    elif kind == FileKind.MODEL_3D:
        strings |= {"loaded": _("The model is ready: drag to turn it, pinch or scroll to zoom.")}
    return strings


urlpatterns = [
    path("digital/files/<int:file_id>/", reader, name="reader"),
]
