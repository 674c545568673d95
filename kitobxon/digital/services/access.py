"""Opening a file: decide, record the grant in the ledger, hand out a signed link.

Library rule: a file's bytes are reached only through a signed link, and a link is issued only
after ``policy.decide`` (through ``queries.opening``) said yes for this reader, here and now.
The grant is a ledger entry (``access.granted`` on ``file:<id>``, the reader pseudonymous) once
per reader, file, purpose and day: the decision is made on every call, but a reader who turns
pages all day is one entry, not thousands. Readers who are not signed in are not recorded; the
file's open policy is already in the ledger (``services.files`` records it).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kitobxon.digital import errors, links, queries
from kitobxon.digital.models import DigitalFile
from kitobxon.ledger import services as ledger

#: A day and a little more: the key names the day, so it need not outlive it by much.
GRANT_KEY_SECONDS = 26 * 60 * 60


def open_file(request: HttpRequest, file: DigitalFile, *, purpose: str = "view") -> str:
    """The signed URL of ``file``'s bytes for the request's reader, or a refusal saying why.

    ``purpose`` is "view" (read or play in the browser) or "download" (saved as a file; only
    when the decision allows downloads). Refuses with ``AccessDenied`` carrying the decision's
    sentence ("Borrow this title to read it.") or ``NotDownloadable``.
    """
    if purpose not in links.PURPOSES:
        raise ValueError(purpose)
    decision = queries.opening(request, file)
    if not decision.allowed:
        raise errors.AccessDenied(decision.message)
    if purpose == "download" and not decision.download:
        raise errors.NotDownloadable()
    reader = request.user
    if getattr(reader, "is_authenticated", False):
        _record_grant(file, reader, purpose=purpose, reason=decision.reason)
    return links.signed_url(file, reader, purpose)


def grant_key(file: DigitalFile, reader: Any, purpose: str) -> str:
    """The cache key that says today's grant of ``file`` to ``reader`` is already recorded."""
    day = timezone.localdate().isoformat()
    return f"digital:granted:{day}:{file.pk}:{reader.pk}:{purpose}"


def _record_grant(file: DigitalFile, reader: Any, *, purpose: str, reason: str) -> None:
    key = grant_key(file, reader, purpose)
    # cache.add is atomic (Redis SET NX, or the local cache's lock): of two pages opened at
    # once, one records. A failed write forgets the key, so the next opening records again.
    if not cache.add(key, 1, timeout=GRANT_KEY_SECONDS):
        return
    try:
        with transaction.atomic():
            ledger.record(
                "access.granted",
                subject=file.subject,
                reader=reader,
                data={"reason": reason, "purpose": purpose},
            )
    except BaseException:
        cache.delete(key)
        raise
