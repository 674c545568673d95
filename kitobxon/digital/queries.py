"""Reads, and the doors through which files, licences and digital loans are fetched.

Seeing that a file exists follows its record (published records for everyone, every record for
librarians); opening its bytes is a further ``policy.decide``, which ``opening`` asks with the
request's address and the reader's digital loan. Anything not visible is a 404, never a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from kitobxon.catalogue.queries import readable_records
from kitobxon.digital import policy
from kitobxon.digital.models import (
    Access,
    DigitalFile,
    DigitalLoan,
    DigitalLoanState,
    Licence,
    ReadingPosition,
    WaitlistEntry,
    WaitState,
    Watermark,
)


def client_ip(request: HttpRequest) -> str:
    """The reader's address; behind ``KITOBXON_PROXY_COUNT`` proxies, from X-Forwarded-For."""
    hops = settings.DIGITAL_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


def readable_files(user: Any) -> QuerySet[DigitalFile]:
    files = DigitalFile.objects.filter(record__in=readable_records(user).values("pk"))
    if not policy.is_staff(user):
        files = files.exclude(access=Access.LIBRARIANS)
    return files


def access_file(user: Any, file_id: int) -> DigitalFile:
    """The file's description (not yet its bytes: see ``opening``)."""
    file = readable_files(user).select_related("record").filter(pk=file_id).first()
    if file is None:
        raise Http404
    return file


def managed_file(user: Any, file_id: int) -> DigitalFile:
    """Only librarians change files."""
    if not policy.is_staff(user):
        raise Http404
    return access_file(user, file_id)


def record_files(user: Any, record_id: int) -> list[DigitalFile]:
    return list(
        readable_files(user)
        .filter(record_id=record_id, caption_for__isnull=True)
        .order_by("position", "id")
    )


def files_of_visible_record(user: Any, record_id: int, *, staff: bool) -> list[DigitalFile]:
    """``record_files`` for a record the caller has already been allowed to see (one query)."""
    files = DigitalFile.objects.filter(record_id=record_id, caption_for__isnull=True)
    if not staff:
        files = files.exclude(access=Access.LIBRARIANS)
    return list(files.order_by("position", "id"))


def cover_file(request: HttpRequest, record_id: int) -> DigitalFile | None:
    """The first file of a record the caller already sees that has a thumbnail they may open.

    Its thumbnail is the record's cover; a thumbnail follows its file's policy (a first page
    can say as much as the file), so each viewer gets the cover they may see, or none.
    """
    for file in files_for_request(request, record_id):
        if may_see_thumbnail(request, file):
            return file
    return None


def may_see_thumbnail(request: HttpRequest, file: DigitalFile) -> bool:
    """A thumbnail (a first page can say as much as the file) follows the file's decision; it
    is not a grant, since every visit to a record page with a cover would be one."""
    return bool(file.thumbnail) and opening(request, file).allowed


def files_for_request(request: HttpRequest, record_id: int) -> list[DigitalFile]:
    """``files_of_visible_record`` for the request's viewer, read once per request: the record
    page's cover and its digital panel both need the list."""
    read: dict[int, list[DigitalFile]] = request.__dict__.setdefault("_digital_record_files", {})
    if record_id not in read:
        staff = policy.is_staff(request.user)
        read[record_id] = files_of_visible_record(request.user, record_id, staff=staff)
    return read[record_id]


def active_loan(user: Any, record_id: int) -> DigitalLoan | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        DigitalLoan.objects.filter(
            reader_id=user.pk,
            licence__record_id=record_id,
            state=DigitalLoanState.ACTIVE,
            due_at__gt=timezone.now(),
        )
        .select_related("licence")
        .first()
    )


def opening(request: HttpRequest, file: DigitalFile, user: Any = None) -> policy.Decision:
    """May the request's reader (or ``user``, e.g. an API token's) open ``file`` now, from here."""
    user = request.user if user is None else user
    has_loan = False
    if file.access == Access.LICENSED and not policy.is_staff(user):
        has_loan = active_loan(user, file.record_id) is not None
    return policy.decide(file, user, ip=client_ip(request), has_loan=has_loan)


def licence_for(record_id: int) -> Licence | None:
    return Licence.objects.filter(record_id=record_id).first()


def loans_out(licence: Licence) -> int:
    return DigitalLoan.objects.filter(
        licence=licence, state=DigitalLoanState.ACTIVE, due_at__gt=timezone.now()
    ).count()


def readable_digital_loans(user: Any) -> QuerySet[DigitalLoan]:
    loans = DigitalLoan.objects.select_related("licence__record")
    if policy.is_staff(user):
        return loans
    if not getattr(user, "is_authenticated", False):
        return loans.none()
    return loans.filter(reader_id=user.pk)


def access_digital_loan(user: Any, loan_id: int) -> DigitalLoan:
    loan = readable_digital_loans(user).filter(pk=loan_id).first()
    if loan is None:
        raise Http404
    return loan


def readable_waits(user: Any) -> QuerySet[WaitlistEntry]:
    waits = WaitlistEntry.objects.select_related("licence__record")
    if policy.is_staff(user):
        return waits
    if not getattr(user, "is_authenticated", False):
        return waits.none()
    return waits.filter(reader_id=user.pk)


def waiting_position(entry: WaitlistEntry) -> int:
    """1 for the first reader in the queue."""
    return (
        WaitlistEntry.objects.filter(
            licence_id=entry.licence_id,
            state=WaitState.WAITING,
            created_at__lte=entry.created_at,
        )
        .exclude(created_at=entry.created_at, pk__gt=entry.pk)
        .count()
    )


def reading_position(user: Any, file: DigitalFile) -> ReadingPosition | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return ReadingPosition.objects.filter(reader_id=user.pk, file=file).first()


def trace_watermark(user: Any, fingerprint: str) -> Watermark | None:
    """Librarians trace a leaked copy back to its reader by the printed fingerprint."""
    if not policy.is_staff(user):
        raise Http404
    return (
        Watermark.objects.select_related("file__record", "reader")
        .filter(fingerprint=fingerprint.strip().lower())
        .first()
    )


@dataclass(frozen=True, slots=True)
class LicenceStatus:
    """What the record page says about a licensed title: "borrow: 2 of 3 copies free"."""

    licence: Licence
    copies: int
    out: int
    free: int
    waiting: int
    valid: bool
    my_loan: DigitalLoan | None
    my_wait: WaitlistEntry | None
    my_position: int | None


def licence_status(user: Any, record_id: int) -> LicenceStatus | None:
    licence = licence_for(record_id)
    if licence is None:
        return None
    now = timezone.now()
    out = loans_out(licence)
    offers = WaitlistEntry.objects.filter(
        licence=licence, state=WaitState.OFFERED, offered_until__gt=now
    )
    my_loan = active_loan(user, record_id)
    my_wait = None
    if getattr(user, "is_authenticated", False):
        my_wait = (
            WaitlistEntry.objects.filter(
                licence=licence, reader_id=user.pk, state__in=[WaitState.WAITING, WaitState.OFFERED]
            )
            .order_by("-created_at")
            .first()
        )
    offered_to_others = offers.exclude(reader_id=getattr(user, "pk", None)).count()
    valid = licence.valid_until is None or timezone.localdate() <= licence.valid_until
    return LicenceStatus(
        licence=licence,
        copies=licence.copies,
        out=out,
        free=max(0, licence.copies - out - offered_to_others) if valid else 0,
        waiting=WaitlistEntry.objects.filter(licence=licence, state=WaitState.WAITING).count(),
        valid=valid,
        my_loan=my_loan,
        my_wait=my_wait,
        my_position=(
            waiting_position(my_wait)
            if my_wait is not None and my_wait.state == WaitState.WAITING
            else None
        ),
    )
