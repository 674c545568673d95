"""Signed, expiring links to a file's bytes: the only way to reach them.

A link names the file, the reader it was issued to and what for ("view" or "download"), signed
with the site's secret and timestamped; it expires after ``DIGITAL_LINK_MINUTES``. A link works
only for the reader it was issued to (a shared link is refused), and every request through it is
decided again (``queries.opening``), so a digital loan that ended or an embargo set since stops
the bytes at once. Paths in storage (``files/ab/<sha256>.pdf``) are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _reader_id(user: Any) -> int:
    return int(user.pk) if getattr(user, "is_authenticated", False) else 0


def make_token(file: DigitalFile, user: Any, purpose: str = "view") -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    payload = [file.pk, _reader_id(user), purpose]
    return signing.dumps(payload, salt=SALT, compress=False)


def url_name(file: DigitalFile) -> str:
    """The last segment of a file's address, which browsers and apps save it under: the
    original name, made safe for a URL."""
    stem, dot, extension = file.original_name.rpartition(".")
    return f"{slugify(stem or file.original_name)[:60] or 'file'}{dot}{extension.lower()[:8]}"


def signed_url(file: DigitalFile, user: Any, purpose: str = "view") -> str:
    """The URL of ``file``'s bytes for ``user``; call only after ``policy.decide`` allowed it."""
    return reverse("digital:bytes", args=[make_token(file, user, purpose), url_name(file)])


def read_token(token: str, user: Any) -> Link:
    """The link's content, if it is genuine, fresh and issued to ``user``; else a refusal."""
    try:
        file_id, reader_id, purpose = signing.loads(
            token, salt=SALT, max_age=settings.DIGITAL_LINK_MINUTES * 60
        )
    except signing.SignatureExpired as exc:
        raise errors.LinkExpired() from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise errors.AccessDenied() from exc
    if reader_id != _reader_id(user) or purpose not in PURPOSES:
        raise errors.AccessDenied()
    return Link(int(file_id), int(reader_id), str(purpose))
