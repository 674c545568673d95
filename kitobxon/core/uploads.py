"""Refusing an upload larger than anything the library accepts, before its body is read.

Django spools a multipart body to disk before any view sees it (the CSRF check reads the form
first), so a 5 GB request would fill the temporary directory before the per-kind limits in the
views could say no. This middleware reads only ``CONTENT_LENGTH`` (under WSGI the body can never
be longer) and answers 413 at once when it exceeds ``UPLOAD_MAX_MB``, the largest file any
upload form takes plus room for the form itself. Per-kind limits are still checked on the
stored bytes by the apps. In production nginx's ``client_max_body_size`` should say the same.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

MB = 1024 * 1024
#: The form fields, boundaries and part headers around the file.
FORM_ALLOWANCE = MB


def largest_body() -> int:
    return int(settings.UPLOAD_MAX_MB * MB + FORM_ALLOWANCE)


def declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.content_type == "multipart/form-data":
            length = declared_length(request)
            if length > largest_body():
                return self.refuse(request, length)
        return self.get_response(request)

    def refuse(self, request: HttpRequest, length: int) -> HttpResponse:
        message = _(
            "This upload is %(size)s MB; the largest file the library accepts is %(limit)s MB."
        ) % {"size": f"{length / MB:.1f}", "limit": settings.UPLOAD_MAX_MB}
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": message}, status=413)
        else:
            response = render(request, "413.html", {"message": message}, status=413)
        # No "Connection: close" here: WSGI forbids hop-by-hop headers (wsgiref, under
        # runserver and live_server, refuses the response) and gunicorn drops them, reading
        # and discarding the unread body itself before the connection's next request.
        return response
