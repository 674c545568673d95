"""Signed, expiring links to a file's bytes: the only way to reach them.

A link names the file, the reader it was issued to and what for ("view" or "download"), signed
with the site's secret and timestamped; it expires after ``DIGITAL_LINK_MINUTES``. A link works
only for the reader it was issued to (a shared link is refused), and every request through it is
decided again (``queries.opening``), so a digital loan that ended or an embargo set since stops
the bytes at once. Paths in storage (``files/ab/<sha256>.pdf``) are never shown.

A link issued with its grant (``services.access.open_file``) also names the library day that
grant was recorded for, so the byte server need not record, or ask whether it recorded, a grant
for each of that day's many range requests; only a later day's first request records again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.text import slugify

from kitobxon.digital import errors
from kitobxon.digital.models import DigitalFile

SALT = "kitobxon.digital.link"
PURPOSES = ("view", "download")


@dataclass(frozen=True, slots=True)
class Link:
    file_id: int
    reader_id: int  # 0 for a reader who is not signed in
    purpose: str
    #: The day whose grant was recorded when the link was issued; None when none was (a
    #: download link, whose record is its grant or watermark, or a link signed without one).
    granted_on: date | None = None


def _reader_id(user: Any) -> int:
    return int(user.pk) if getattr(user, "is_authenticated", False) else 0


def make_token(
    file: DigitalFile, user: Any, purpose: str = "view", *, granted_on: date | None = None
) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    day = granted_on.isoformat() if granted_on else None
    payload = [file.pk, _reader_id(user), purpose, day]
    return signing.dumps(payload, salt=SALT, compress=False)


def url_name(file: DigitalFile) -> str:
    """The last segment of a file's address, which browsers and apps save it under: the
    original name, made safe for a URL."""
    stem, dot, extension = file.original_name.rpartition(".")
    return f"{slugify(stem or file.original_name)[:60] or 'file'}{dot}{extension.lower()[:8]}"


def signed_url(
    file: DigitalFile, user: Any, purpose: str = "view", *, granted_on: date | None = None
) -> str:
    """The URL of ``file``'s bytes for ``user``; call only after ``policy.decide`` allowed it
    (and, with ``granted_on``, after that day's grant was recorded)."""
    token = make_token(file, user, purpose, granted_on=granted_on)
    return reverse("digital:bytes", args=[token, url_name(file)])


def read_token(token: str, user: Any) -> Link:
    """The link's content, if it is genuine, fresh and issued to ``user``; else a refusal."""
    try:
        # Links signed before they named a day have three parts: their grants are recorded
        # by the byte server, as for any link without a day.
        file_id, reader_id, purpose, *day = signing.loads(
            token, salt=SALT, max_age=settings.DIGITAL_LINK_MINUTES * 60
        )
        granted_on = date.fromisoformat(day[0]) if day and day[0] else None
    except signing.SignatureExpired as exc:
        raise errors.LinkExpired() from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise errors.AccessDenied() from exc
    if reader_id != _reader_id(user) or purpose not in PURPOSES:
        raise errors.AccessDenied()
    return Link(int(file_id), int(reader_id), str(purpose), granted_on)
