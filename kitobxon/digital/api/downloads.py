"""Downloading a marked copy over the API.

``POST /files/{id}/download`` answers the PDF marked for the caller (``application/pdf``, as an
attachment) or, for other kinds, ``{"url": signed download link}``. A refusal is 409
``{"detail": sentence, "code": refusal}`` (``AccessDenied``, ``NotDownloadable``,
``DownloadLimit``); a file the caller may not see is 404; without a token or session, 401.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from kitobxon.accounts.api import AUTH
from kitobxon.digital import errors, queries
from kitobxon.digital.services import access, downloads
from kitobxon.digital.views.downloads import attachment

router = Router(tags=["digital"])


class DownloadLinkOut(Schema):
    url: str


class Refusal(Schema):
    detail: str
    code: str


@router.post(
    "/files/{file_id}/download",
    response={200: DownloadLinkOut, 409: Refusal},
    auth=AUTH,
    summary="Download a copy marked for you: the PDF itself, or a signed link for other kinds",
    openapi_extra={
        "responses": {
            200: {
                "description": "The marked PDF (attachment), or a signed link for other kinds",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download(request: HttpRequest, file_id: int) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    file = queries.access_file(user, file_id)
    try:
        decision = access.decide(request, file, purpose="download", user=user, record=False)
        copy = downloads.download(file, user, decision=decision)
    except errors.DigitalError as refusal:
        return Status(409, {"detail": refusal.message, "code": type(refusal).__name__})
    if copy.path is None:
        return {"url": request.build_absolute_uri(copy.url)}
    return attachment(copy)
