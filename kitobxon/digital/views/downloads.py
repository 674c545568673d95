"""Downloading a marked copy, and tracing a leaked copy back to its reader.

``download`` (POST from the record page's "Download" button) sends a PDF marked for the reader
as an attachment, or redirects to a signed download link for other kinds; a refusal goes back
to the record page with the reason. ``watermarks`` lets librarians look up the fingerprint
printed on a copy; anyone else gets 404, as for anything they may not see.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from kitobxon.digital import errors, queries
from kitobxon.digital.services import access, downloads

FINGERPRINT = re.compile(r"[0-9a-f]{8,32}")


@require_POST
def download(request: HttpRequest, file_id: int) -> HttpResponseBase:
    file = queries.access_file(request.user, file_id)
    back = reverse("catalogue:record", args=[file.record_id])
    if not request.user.is_authenticated:
        messages.info(request, _("Sign in to download this file."))
        return HttpResponseRedirect(f"{reverse('accounts:login')}?{urlencode({'next': back})}")
    try:
        decision = access.decide(request, file, purpose="download", record=False)
        copy = downloads.download(file, request.user, decision=decision)
    except errors.DigitalError as refusal:
        messages.error(request, refusal.message)
        return HttpResponseRedirect(back)
    if copy.path is None:
        return HttpResponseRedirect(copy.url)
    return attachment(copy)


def attachment(copy: downloads.Download) -> FileResponse:
    """Stream the marked PDF; its temporary file is gone from the disk once it is open."""
    assert copy.path is not None
    handle = copy.path.open("rb")
    copy.path.unlink(missing_ok=True)
    response = FileResponse(
        handle, as_attachment=True, filename=copy.filename, content_type="application/pdf"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def watermarks(request: HttpRequest) -> HttpResponse:
    """Librarians: whose copy is this? (the fingerprint printed at the foot of each page)."""
    asked = request.GET.get("fingerprint", "").strip()
    found = FINGERPRINT.search(asked.lower())
    fingerprint = found.group(0) if found else ""
    mark = queries.trace_watermark(request.user, fingerprint)  # 404 unless a librarian
    return render(
        request,
        "digital/watermarks.html",
        {"asked": asked, "fingerprint": fingerprint, "mark": mark},
    )


urlpatterns: list[URLPattern] = [
    path("digital/files/<int:file_id>/download", download, name="download"),
    path("digital/watermarks/", watermarks, name="watermarks"),
]
