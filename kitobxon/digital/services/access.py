"""The one door to a file's bytes and text: decide, record the grant, hand out a signed link.

Library rule: a file's bytes (and its text, through search inside it) are reached only after
``decide`` said yes for this reader, here and now, through ``policy.decide`` (``queries.opening``).
Every place that hands out a link, bytes or a document's text calls it: the reader page and the
open API (``open_file``: ``grant``, then sign a link), the byte server on every request, OPDS's
lasting address of an open file (``grant`` on every request, then the bytes, with no link in
between), search inside a document and the reading position, and downloads.

Grants are ledger entries (``access.granted`` on ``file:<id>``, ``{"reason", "purpose"}``, the
reader as their per-subject pseudonym) **once per reader, file, purpose and day**: the decision
is made on every call, but a reader who turns pages all day is one entry, not thousands, and a
link issued before midnight and used after it is recorded on both days. Readers who are not
signed in are not recorded (the file's open policy is already in the ledger). Refusals are not
written to the ledger: a public, permanent log of who was turned away from which book would say
more about readers than the library needs to prove, and would grow with every retry. A
download's entry is its ``watermark.issued`` (``services.downloads``), so ``decide`` does not
record one for it. Thumbnails follow the file's decision but are not grants
(``queries.may_see_thumbnail``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kitobxon.digital import errors, links, policy, queries
from kitobxon.digital.models import DigitalFile
from kitobxon.ledger import services as ledger

#: Decisions under which a download link gives the original bytes: an open-access file is
#: anyone's to keep, and librarians manage the originals. Any other download is a copy marked
#: for its reader, counted against the daily limit (``services.downloads``).
ORIGINAL_DOWNLOADS = frozenset({"open", "librarian"})

#: A day and a little more: the key names the day, so it need not outlive it by much.
GRANT_KEY_SECONDS = 26 * 60 * 60


def decide(
    request: HttpRequest,
    file: DigitalFile,
    *,
    purpose: str = "view",
    user: Any = None,
    record: bool = True,
) -> policy.Decision:
    """Whether the request's reader (or ``user``, e.g. an API token's) may have ``file`` now.

    Refuses with ``AccessDenied`` carrying the decision's sentence ("Borrow this title to read
    it.") and reason code, or ``NotDownloadable``; a yes is recorded (``record``) once per
    reader, file, purpose and day.
    """
    if purpose not in links.PURPOSES:
        raise ValueError(purpose)
    reader = request.user if user is None else user
    decision = queries.opening(request, file, reader)
    if not decision.allowed:
        raise errors.AccessDenied(decision.message, reason=decision.reason)
    if purpose == "download" and not decision.download:
        raise errors.NotDownloadable()
    if record and getattr(reader, "is_authenticated", False):
        _record_grant(file, reader, purpose=purpose, reason=decision.reason)
    return decision


def grant(
    request: HttpRequest, file: DigitalFile, *, purpose: str = "view", day: date | None = None
) -> policy.Decision:
    """Let the request's reader have ``file``'s original bytes now, or refuse saying why.

    ``purpose`` is "view" (read or play in the browser) or "download" (saved as a file; only
    when the decision allows downloads, and only for open-access files and librarians: other
    readers download a marked copy, ``MarkedCopyOnly``). The grant is recorded once for
    ``day`` (today).
    """
    decision = decide(request, file, purpose=purpose, record=False)
    if purpose == "download" and decision.reason not in ORIGINAL_DOWNLOADS:
        # Everyone else's download is a marked copy within the daily limit (downloads.download).
        raise errors.MarkedCopyOnly()
    if getattr(request.user, "is_authenticated", False):
        _record_grant(file, request.user, purpose=purpose, reason=decision.reason, day=day)
    return decision


def open_file(request: HttpRequest, file: DigitalFile, *, purpose: str = "view") -> str:
    """The signed URL of ``file``'s bytes for the request's reader (``grant``), or a refusal.

    The link names the day its grant was recorded for: its byte requests that day record
    nothing and ask no cache; on a later day the first of them records that day's grant.
    """
    today = timezone.localdate()
    grant(request, file, purpose=purpose, day=today)
    return links.signed_url(file, request.user, purpose, granted_on=today)


def grant_key(file: DigitalFile, reader: Any, purpose: str, day: date) -> str:
    """The cache key that says ``day``'s grant of ``file`` to ``reader`` is already recorded."""
    return f"digital:granted:{day.isoformat()}:{file.pk}:{reader.pk}:{purpose}"


def _record_grant(
    file: DigitalFile, reader: Any, *, purpose: str, reason: str, day: date | None = None
) -> None:
    key = grant_key(file, reader, purpose, day or timezone.localdate())
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
