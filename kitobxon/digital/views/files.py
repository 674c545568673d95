"""The byte server: ``files/<token>/<name>``, the only address of a file's bytes.

Each request is checked afresh, in this order: the link is genuine, fresh and the reader's own
(else 410 for an expired link, 403 for any other); the file is visible to the reader (else 404);
``services.access.decide`` says yes now (else 403 with the reason; a view is recorded once per
reader, file and day: on the link's own day when it was issued, on a later day by the first
request), and a download link still allows a download. A digital loan that ended,
an embargo set or a policy changed after the link was issued therefore stops the bytes at the
next request. ``delivery`` then sends them.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.template import engines
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kitobxon.accounts import services as account_services
from kitobxon.catalogue.models import Record
from kitobxon.digital import delivery, errors, links, queries
from kitobxon.digital.services import access

# A refusal is usually seen by a reader who followed an old link, so it is a page of the site.
# Its words are passed in through gettext (makemessages does not read templates in strings).
_REFUSAL = engines["django"].from_string(
    '{% extends "base.html" %}{% block title %}{{ heading }}{% endblock %}'
    '{% block content %}<h1>{{ heading }}</h1><p role="alert">{{ message }}</p>'
    '<p><a href="{% url "core:home" %}">{{ home }}</a></p>{% endblock %}'
)


def refusal(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """A page saying why the bytes are refused (the decision's or the link's sentence)."""
    context = {
        "heading": _("This file cannot be opened"),
        "message": message,
        "home": _("Go to the home page"),
    }
    response = HttpResponse(_REFUSAL.render(context, request), status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD"])
def file_bytes(request: HttpRequest, token: str, name: str) -> HttpResponseBase:
    """The bytes behind a signed link; ``name`` only makes the address readable.

    Apps holding a personal access token (``Authorization: Bearer kbx_…``) open links the API
    gave them the same way a browser session does.
    """
    bearer = request.META.get("HTTP_AUTHORIZATION", "")
    if bearer.startswith("Bearer "):
        holder = account_services.user_for_access_token(bearer.removeprefix("Bearer ").strip())
        if holder is None:
            return refusal(request, errors.AccessDenied().message, status=403)
        request.user = holder
    try:
        link = links.read_token(token, request.user)
    except errors.LinkExpired as expired:
        return refusal(request, expired.message, status=410)
    except errors.AccessDenied as denied:
        return refusal(request, denied.message, status=403)
    file = queries.access_file(request.user, link.file_id)
    # A download link was recorded when it was issued (its grant, or its watermark); so was a
    # view link's grant for the day it names, which spares that day's ranges the cache.
    record = link.purpose == "view" and link.granted_on != timezone.localdate()
    try:
        access.decide(request, file, purpose=link.purpose, record=record)
    except errors.DigitalError as refused:
        return refusal(request, refused.message, status=403)
    return delivery.serve(request, file, attachment=link.purpose == "download")


@require_http_methods(["GET", "HEAD"])
def thumbnail(request: HttpRequest, file_id: int) -> HttpResponseBase:
    """A file's thumbnail (first PDF page, EPUB cover, image), only to readers who may open it:
    a first page can say as much as the file."""
    file = queries.access_file(request.user, file_id)
    if not queries.may_see_thumbnail(request, file):
        raise Http404
    response = FileResponse(default_storage.open(file.thumbnail, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def record_cover(request: HttpRequest, record: Record) -> str | None:
    """The record's cover for the catalogue (``catalogue.covers``): a file's thumbnail, when
    the viewer may open that file; otherwise the catalogue draws one."""
    file = queries.cover_file(request, record.pk)
    return reverse("digital:thumbnail", args=[file.pk]) if file else None


urlpatterns: list[URLPattern] = [
    path("files/<str:token>/<str:name>", file_bytes, name="bytes"),
    path("digital/files/<int:file_id>/thumbnail", thumbnail, name="thumbnail"),
]
