"""Sending a file's bytes once access was decided: ranges, validators, safe headers.

The view (``views.files``) checks the link and decides access on every request; this module
only sends. Three ways, by where the bytes live:

- local storage, streamed by the app: only the requested span is read, 256 KB at a time, so a
  1 GB video costs a worker a few hundred kilobytes, whatever the number of readers;
- local storage behind nginx or Apache (``DIGITAL_SENDFILE``): the app answers with an empty body
  and ``X-Accel-Redirect`` / ``X-Sendfile``, and the web server sends the file (ranges included);
- an S3-compatible store: a redirect to a presigned URL that lives a minute; the store serves
  the bytes and ranges from its own origin.

Library rule: the bytes are the library's original, never changed once stored, so the ETag is
their SHA-256; they are served as an untrusted document (``nosniff``, ``sandbox``), are never
cached by a shared cache, and their place in storage is never shown to the reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from kitobxon.digital.models import DigitalFile

CHUNK = 256 * 1024
#: The bytes never change, so revalidation is a cheap 304; max-age=0 makes the browser ask
#: again, which keeps "every request is decided again" true even for its own cache.
CACHE_CONTROL = "private, max-age=0, must-revalidate"
#: A presigned URL only has to survive the redirect.
PRESIGNED_SECONDS = 60
#: Longer numbers are not byte positions of any file we hold (and int() of huge strings is slow).
_RANGE = re.compile(r"^(\d{0,19})-(\d{0,19})$")
_BYTES_UNIT = re.compile(r"^\s*bytes\s*=(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes ``start`` to ``end`` inclusive, as HTTP counts them."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeRefused(Exception):
    """A Range that cannot be served: 416 with ``Content-Range: bytes */<size>``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def requested_span(header: str, size: int) -> Span | None:
    """The one span a ``Range`` header asks for, or None to send the whole file.

    RFC 9110 §14.2: a header that is not a valid ``bytes`` range is ignored (the whole file,
    200); a valid range that starts past the end is unsatisfiable (416). Several ranges at once
    are refused (416): a multi-range request makes the server cut one file into many parts,
    the classic amplification attack (many overlapping small ranges, or thousands of parts),
    and no browser or media player sends one, so refusing costs readers nothing.
    """
    unit = _BYTES_UNIT.match(header or "")
    if unit is None:
        return None
    specs = [part.strip() for part in unit.group(1).split(",") if part.strip()]
    if len(specs) > 1:
        raise RangeRefused(_("Only one byte range may be requested at a time."))
    if not specs:
        return None
    numbers = _RANGE.match(specs[0])
    if numbers is None:
        return None
    first, last = numbers.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeRefused(_("The requested range is empty."))
        if size == 0:
            return None
        return Span(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeRefused(_("The requested range starts past the end of the file."))
    end = min(int(last), size - 1) if last else size - 1
    return Span(start, end)


def etag(file: DigitalFile) -> str:
    return f'"{file.sha256}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def not_modified(request: HttpRequest, file: DigitalFile) -> bool:
    """If-None-Match names our ETag (weak comparison, RFC 9110 §13.1.2) or is ``*``."""
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    tags = [tag.removeprefix("W/") for tag in _tags(header)]
    return "*" in tags or etag(file) in tags


def range_applies(request: HttpRequest, file: DigitalFile) -> bool:
    """If-Range: the range holds only while the reader's copy is ours (strong comparison).

    A date, a weak tag or another tag means "send everything"; so does any If-Range at all
    on a file we never sent a Last-Modified for.
    """
    header = request.META.get("HTTP_IF_RANGE")
    return header is None or header.strip() == etag(file)


def serve(request: HttpRequest, file: DigitalFile, *, attachment: bool) -> HttpResponseBase:
    """The response carrying ``file``'s bytes (or the redirect or hand-over that does)."""
    # Upload names come from readers' machines: no control characters may reach a header.
    name = "".join(ch for ch in file.original_name if ch.isprintable()) or "file"
    disposition = content_disposition_header(attachment, name) or "inline"
    local = _local_path(file.name)
    if local is None:
        return _presigned_redirect(file, disposition)
    if not_modified(request, file):
        response: HttpResponseBase = HttpResponseNotModified()
        _protect(response, file)
        return response
    if settings.DIGITAL_SENDFILE:
        return _hand_over(file, local, disposition)

    span: Span | None = None
    if range_applies(request, file):
        try:
            span = requested_span(request.META.get("HTTP_RANGE", ""), file.size)
        except RangeRefused as refused:
            response = HttpResponse(
                refused.reason + "\n", status=416, content_type="text/plain; charset=utf-8"
            )
            response["Content-Range"] = f"bytes */{file.size}"
            _protect(response, file)
            return response
    start, length = (span.start, span.length) if span else (0, file.size)
    if request.method == "HEAD":
        response = HttpResponse(content_type=file.content_type)
    else:
        span_file = FileSpan(default_storage.open(file.name, "rb"), start, length)
        response = SpanResponse(span_file, content_type=file.content_type)
    if span is not None:
        response.status_code = 206
        response["Content-Range"] = f"bytes {span.start}-{span.end}/{file.size}"
    response["Content-Length"] = str(length)
    response["Content-Disposition"] = disposition
    _protect(response, file)
    return response


class FileSpan:
    """Bytes ``start`` .. ``start + length`` of an open file, as a file that ends there.

    Iterated, it gives 256 KB chunks. It also has ``fileno``: under gunicorn the response is
    handed to ``wsgi.file_wrapper`` (see ``SpanResponse``), which sends the span with
    sendfile(2) from the position set here for Content-Length bytes, without copying it through
    Python; other servers call ``read``, which never reads past the span. The server closes it
    (through the response) when the body is sent or the reader went away.
    """

    def __init__(self, handle: IO[bytes], start: int, length: int) -> None:
        handle.seek(start)
        self.handle = handle
        self.left = length

    def read(self, size: int = -1) -> bytes:
        wanted = CHUNK if size is None or size < 0 else min(size, CHUNK)
        if self.left <= 0 or wanted == 0:
            return b""
        chunk = self.handle.read(min(wanted, self.left))
        self.left -= len(chunk)
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        # A file shorter than recorded ends the body early; the fixity check will say why.
        while chunk := self.read(CHUNK):
            yield chunk

    def fileno(self) -> int:
        return self.handle.fileno()

    def close(self) -> None:
        self.handle.close()


class SpanResponse(StreamingHttpResponse):
    """A streamed span that Django gives to the server's ``wsgi.file_wrapper`` when it has
    one (as for ``FileResponse``): ``file_to_stream`` and ``block_size`` are what it looks for.
    """

    block_size = CHUNK

    def __init__(self, span: FileSpan, *, content_type: str) -> None:
        super().__init__(span, content_type=content_type)
        self.file_to_stream = span


def _protect(response: HttpResponseBase, file: DigitalFile) -> None:
    """Headers every answer about the bytes carries: validators and the untrusted-document
    policy (a PDF or SVG opened directly runs no script with the library's cookies)."""
    response["ETag"] = etag(file)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    # The link carries the reader's token: a link clicked inside a document must not leak it.
    response["Referrer-Policy"] = "no-referrer"


def _local_path(name: str) -> Path | None:
    """Where the bytes are on this machine, or None for a remote store such as S3."""
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:
        return None


def _hand_over(file: DigitalFile, local: Path, disposition: str) -> HttpResponse:
    """Let the web server in front send the file: it does ranges and sendfile(2) itself."""
    response = HttpResponse(content_type=file.content_type)
    if settings.DIGITAL_SENDFILE == "x-accel-redirect":
        response["X-Accel-Redirect"] = f"{settings.DIGITAL_SENDFILE_PREFIX}{file.name}"
    elif settings.DIGITAL_SENDFILE == "x-sendfile":
        response["X-Sendfile"] = str(local)
    else:
        raise ValueError(f"DIGITAL_SENDFILE: {settings.DIGITAL_SENDFILE!r}")
    response["Content-Disposition"] = disposition
    _protect(response, file)
    return response


def storage_origin() -> str | None:
    """The origin browsers fetch bytes from after the redirect (an S3 store), or None when the
    app or its web server sends them (local storage: the site's own origin).

    Read from a URL the storage itself makes (presigned locally, no request), so it is right
    for any endpoint, bucket addressing style or region.
    """
    probe = "files/00/origin"
    if _local_path(probe) is not None:
        return None
    parts = urlsplit(default_storage.url(probe))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _presigned_redirect(file: DigitalFile, disposition: str) -> HttpResponseRedirect:
    """Send the reader to the store with a URL that works for a minute, for these bytes only."""
    store: Any = default_storage  # S3Storage.url takes the response overrides and the expiry
    url = store.url(
        file.name,
        parameters={
            "ResponseContentDisposition": disposition,
            "ResponseContentType": file.content_type,
            "ResponseCacheControl": CACHE_CONTROL,
        },
        expire=PRESIGNED_SECONDS,
    )
    response = HttpResponseRedirect(url)
    # The redirect itself is per request: the next request is decided again.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
