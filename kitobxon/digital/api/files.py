"""Files of records over the API: what exists, what the caller may do with it and why, a signed
link to open it; librarians upload, change who may open a file, and remove it.

A file the caller may not see is 404; one they see but may not open answers 403 with the reason
(``{"detail": sentence, "code": reason}``), the same sentence the record page shows.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from kitobxon.accounts.api import AUTH
from kitobxon.catalogue.api import READ_AUTH
from kitobxon.catalogue.queries import access_record
from kitobxon.digital import errors, policy, queries
from kitobxon.digital.forms import PolicyFields
from kitobxon.digital.models import Access, DigitalFile
from kitobxon.digital.services import access as access_services
from kitobxon.digital.services import files as file_services

router = Router(tags=["digital"])


class FileOut(Schema):
    id: int
    record: int
    label: str
    original_name: str
    kind: str
    content_type: str
    size: int
    sha256: str
    pages: int | None
    text: str
    access: str
    segments: list[str]
    embargo_until: date | None
    downloadable: bool
    captions_for: int | None
    may_open: bool
    may_download: bool
    reason: str
    message: str
    reader_url: str


class LinkOut(Schema):
    url: str
    expires_in: int


class Refusal(Schema):
    detail: str
    code: str


class FilePatch(Schema):
    label: str | None = None
    access: str | None = None
    segments: list[str] | None = None
    embargo_until: date | None = None
    lift_embargo: bool = False
    downloadable: bool | None = None


def _user(request: HttpRequest) -> Any:
    from django.contrib.auth.models import AnonymousUser

    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_authenticated", False) else AnonymousUser()


def _out(request: HttpRequest, file: DigitalFile, user: Any) -> dict[str, Any]:
    decision = queries.opening(request, file, user)
    return {
        "id": file.pk,
        "record": file.record_id,
        "label": file.label,
        "original_name": file.original_name,
        "kind": file.kind,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "pages": file.page_count,
        "text": file.text_status,
        "access": file.access,
        "segments": list(file.segments or []),
        "embargo_until": file.embargo_until,
        "downloadable": file.downloadable,
        "captions_for": file.caption_for_id,
        "may_open": decision.allowed,
        "may_download": decision.allowed and decision.download,
        "reason": decision.reason,
        "message": decision.message,
        "reader_url": reverse("digital:reader", args=[file.pk]),
    }


def _librarian(request: HttpRequest) -> Any:
    user = _user(request)
    if not policy.is_staff(user):
        raise HttpError(403, _("Only librarians may manage digital files."))
    return user


def _check_policy(access: str, segments: list[str]) -> None:
    """The librarian's page's rules (``forms.PolicyFields``: a known policy, known segments, at
    least one for "segments"); a refusal is 422 ``{"detail": its first sentence}``."""
    form = PolicyFields(data={"access": access, "segments": segments})
    if not form.is_valid():
        first_field = next(iter(form.errors.values()))
        raise HttpError(422, str(first_field[0]))


@router.get(
    "/records/{record_id}/files",
    response=list[FileOut],
    auth=READ_AUTH,
    summary="A record's files, with what the caller may do",
)
def record_files(request: HttpRequest, record_id: int) -> list[dict[str, Any]]:
    user = _user(request)
    access_record(user, record_id)
    files = queries.readable_files(user).filter(record_id=record_id).order_by("position", "id")
    return [_out(request, file, user) for file in files]


@router.get("/files/{file_id}", response=FileOut, auth=READ_AUTH, summary="One file")
def file_detail(request: HttpRequest, file_id: int) -> dict[str, Any]:
    user = _user(request)
    return _out(request, queries.access_file(user, file_id), user)


@router.post(
    "/files/{file_id}/open",
    response={200: LinkOut, 403: Refusal},
    auth=READ_AUTH,
    summary="A signed, expiring link to the file's bytes (view, or download where allowed)",
    url_name="digital_open",
)
def open_file(request: HttpRequest, file_id: int, purpose: str = "view") -> Any:
    # A token's holder is request.user here too (AccessTokenAuth), so the link is theirs.
    user = _user(request)
    file = queries.access_file(user, file_id)
    if purpose not in ("view", "download"):
        raise Http404
    try:
        url = access_services.open_file(request, file, purpose=purpose)
    except errors.DigitalError as refusal:
        code = type(refusal).__name__  # NotDownloadable, MarkedCopyOnly: the file was allowed
        if isinstance(refusal, errors.AccessDenied):
            code = refusal.reason  # which rule refused: borrow…
        return Status(403, {"detail": refusal.message, "code": code})
    return {
        "url": request.build_absolute_uri(url),
        "expires_in": settings.DIGITAL_LINK_MINUTES * 60,
    }


@router.post(
    "/records/{record_id}/files",
    response={201: FileOut, 409: Refusal},
    auth=AUTH,
    summary="Upload a file to a record (librarians)",
)
def upload(
    request: HttpRequest,
    record_id: int,
    upload: File[UploadedFile],
    label: Form[str] = "",
    access: Form[str] = Access.REGISTERED,
    segments: Form[list[str] | None] = None,
    downloadable: Form[bool] = False,
    embargo_until: Form[date | None] = None,
    caption_for: Form[int | None] = None,
    caption_language: Form[str] = "",
) -> Any:
    user = _librarian(request)
    record = access_record(user, record_id)
    segments = segments or []
    _check_policy(access, segments)
    media = None
    if caption_for is not None:
        media = queries.managed_file(user, caption_for)
        if media.record_id != record.pk:
            raise Http404
    try:
        file = file_services.attach_file(
            record,
            upload,
            by=user,
            label=label,
            access=access,
            segments=segments,
            downloadable=downloadable,
            embargo_until=embargo_until,
            caption_for=media,
            caption_language=caption_language,
        )
    except errors.DigitalError as refusal:
        return Status(409, {"detail": refusal.message, "code": type(refusal).__name__})
    return Status(201, _out(request, file, user))


@router.patch(
    "/files/{file_id}",
    response=FileOut,
    auth=AUTH,
    summary="Change a file's label or who may open it (librarians)",
)
def change(request: HttpRequest, file_id: int, payload: FilePatch) -> dict[str, Any]:
    user = _librarian(request)
    file = queries.managed_file(user, file_id)
    _check_policy(
        file.access if payload.access is None else payload.access,
        file.segments if payload.segments is None else payload.segments,
    )
    embargo: Any = ""
    if payload.lift_embargo:
        embargo = None
    elif payload.embargo_until is not None:
        embargo = payload.embargo_until
    file = file_services.change_file(
        file,
        by=user,
        label=payload.label,
        access=payload.access,
        segments=payload.segments,
        embargo_until=embargo,
        downloadable=payload.downloadable,
    )
    return _out(request, file, user)


@router.delete(
    "/files/{file_id}", response={204: None}, auth=AUTH, summary="Remove a file (librarians)"
)
def remove(request: HttpRequest, file_id: int) -> Any:
    user = _librarian(request)
    file_services.remove_file(queries.managed_file(user, file_id), by=user)
    return Status(204, None)
