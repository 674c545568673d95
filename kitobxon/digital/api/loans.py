"""Digital loans and waiting lists over JSON, thin over ``services.loans`` and ``queries``.

Readers borrow, return and wait for themselves and list their own digital loans; librarians
list everyone's (``?reader=`` narrows it), may return any loan, and set or remove a title's
licence. Somebody else's loan, or a record the caller may not see, answers 404; a refusal 409
``{"detail": sentence, "code": refusal}``; a call without a session or token 401.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
"""

from datetime import UTC
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from kitobxon.accounts.api import AUTH
from kitobxon.catalogue.api import READ_AUTH
from kitobxon.catalogue.models import Record
from kitobxon.catalogue.queries import readable_records
from kitobxon.digital import policy, queries
from kitobxon.digital.api.files import _librarian
from kitobxon.digital.errors import DigitalError
from kitobxon.digital.forms import LicenceForm
from kitobxon.digital.models import DigitalLoan, DigitalLoanState, WaitlistEntry, WaitState
from kitobxon.digital.schemas import (
    DigitalLoanFilters,
    DigitalLoanOut,
    Invalid,
    LicenceIn,
    LicenceOut,
    Refusal,
    WaitOut,
)
from kitobxon.digital.services import licences
from kitobxon.digital.services import loans as services

router = Router(tags=["digital"])

STATES = ("active", "returned", "expired", "all")


def _caller(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _refused(error: DigitalError) -> Status:
    return Status(409, {"detail": error.message, "code": type(error).__name__})


def _record(user: Any, record_id: int) -> Record:
    record = readable_records(user).filter(pk=record_id).first()
    if record is None:
        raise Http404
    return record


def _as_stored(loan: DigitalLoan) -> DigitalLoan:
    """Times as the database gives them back (UTC), so a new loan reads like a listed one."""
    loan.started_at = loan.started_at.astimezone(UTC)
    loan.due_at = loan.due_at.astimezone(UTC)
    if loan.ended_at is not None:
        loan.ended_at = loan.ended_at.astimezone(UTC)
    return loan


@router.get(
    "/loans", response=list[DigitalLoanOut], auth=AUTH, summary="Digital loans (mine by default)"
)
@paginate(PageNumberPagination, page_size=50)
def list_loans(request: HttpRequest, filters: Query[DigitalLoanFilters]) -> QuerySet[DigitalLoan]:
    user = _caller(request)
    if filters.state not in STATES:
        raise HttpError(422, _("Unknown state: %(state)s") % {"state": filters.state})
    loans = queries.readable_digital_loans(user)
    if policy.is_staff(user):
        if filters.reader is not None:
            loans = loans.filter(reader_id=filters.reader)
    elif filters.reader is not None and filters.reader != user.pk:
        raise HttpError(403, _("Only librarians may do this."))
    else:
        loans = loans.filter(reader_id=user.pk)
    if filters.state == "active":
        loans = loans.filter(state=DigitalLoanState.ACTIVE, due_at__gt=timezone.now())
    elif filters.state != "all":
        loans = loans.filter(state=filters.state)
    return loans.order_by("due_at", "id")


@router.post(
    "/records/{record_id}/borrow",
    response={201: DigitalLoanOut, 409: Refusal},
    auth=AUTH,
    summary="Borrow a licensed title",
)
def borrow(request: HttpRequest, record_id: int) -> Status:
    user = _caller(request)
    record = _record(user, record_id)
    try:
        loan = services.borrow(record, user, by=user)
    except DigitalError as error:
        return _refused(error)
    loan.licence.record = record
    return Status(201, _as_stored(loan))


@router.post(
    "/loans/{loan_id}/return",
    response={200: DigitalLoanOut, 409: Refusal},
    auth=AUTH,
    summary="Return a digital loan early",
)
def return_loan(request: HttpRequest, loan_id: int) -> Status:
    user = _caller(request)
    loan = queries.access_digital_loan(user, loan_id)
    try:
        returned = services.return_loan(loan, by=user)
    except DigitalError as error:
        return _refused(error)
    returned.licence.record = loan.licence.record
    return Status(200, _as_stored(returned))


def _with_position(entry: WaitlistEntry) -> WaitlistEntry:
    position = queries.waiting_position(entry) if entry.state == WaitState.WAITING else None
    entry.position = position  # type: ignore[attr-defined]
    entry.created_at = entry.created_at.astimezone(UTC)
    if entry.offered_until is not None:
        entry.offered_until = entry.offered_until.astimezone(UTC)
    return entry


@router.post(
    "/records/{record_id}/waitlist",
    response={201: WaitOut, 409: Refusal},
    auth=AUTH,
    summary="Join the waiting list",
)
def join_waitlist(request: HttpRequest, record_id: int) -> Status:
    user = _caller(request)
    record = _record(user, record_id)
    try:
        entry = services.join_waitlist(record, user, by=user)
    except DigitalError as error:
        return _refused(error)
    entry.licence.record = record
    return Status(201, _with_position(entry))


@router.delete(
    "/records/{record_id}/waitlist",
    response={204: None, 409: Refusal},
    auth=AUTH,
    summary="Leave the waiting list",
)
def leave_waitlist(request: HttpRequest, record_id: int) -> Status:
    user = _caller(request)
    record = _record(user, record_id)
    try:
        services.leave_waitlist(record, user, by=user)
    except DigitalError as error:
        return _refused(error)
    return Status(204, None)


def _licence_out(user: Any, record: Record) -> LicenceOut:
    status = queries.licence_status(user, record.pk)
    if status is None:
        raise Http404
    return LicenceOut(
        record_id=record.pk,
        copies=status.copies,
        loan_days=status.licence.loan_days,
        valid_until=status.licence.valid_until,
        valid=status.valid,
        out=status.out,
        free=status.free,
        waiting=status.waiting,
    )


@router.get(
    "/records/{record_id}/licence",
    response=LicenceOut,
    auth=READ_AUTH,
    summary="A title's licence: copies, loans out, copies free, readers waiting",
)
def licence(request: HttpRequest, record_id: int) -> LicenceOut:
    user = _caller(request)
    return _licence_out(user, _record(user, record_id))


def _licence_record(request: HttpRequest, record_id: int) -> tuple[Any, Record]:
    """The librarian and the record whose licence they manage (the files API's own checks)."""
    user = _librarian(request)
    return user, _record(user, record_id)


@router.put(
    "/records/{record_id}/licence",
    response={200: LicenceOut, 201: LicenceOut, 409: Refusal, 422: Invalid},
    auth=AUTH,
    summary="Create or change a title's licence (librarians)",
)
def put_licence(request: HttpRequest, record_id: int, payload: LicenceIn) -> Status:
    """The same rules as the librarian's page (its form checks the numbers); 201 when created.

    Invalid values answer 422 ``{"detail", "errors": {field: [sentences]}}`` in the caller's
    language.
    """
    user, record = _licence_record(request, record_id)
    form = LicenceForm(data=payload.dict())
    if not form.is_valid():
        return Status(
            422,
            {
                "detail": _("The request is not valid."),
                "errors": {
                    name: [str(message) for message in messages]
                    for name, messages in form.errors.items()
                },
            },
        )
    existed = queries.licence_for(record.pk) is not None
    data = form.cleaned_data
    try:
        licences.save_licence(
            record,
            copies=data["copies"],
            loan_days=data["loan_days"],
            valid_until=data["valid_until"],
            supplier=data["supplier"],
            by=user,
        )
    except DigitalError as error:
        return _refused(error)
    return Status(200 if existed else 201, _licence_out(user, record))


@router.delete(
    "/records/{record_id}/licence",
    response={204: None, 409: Refusal},
    auth=AUTH,
    summary="Remove a title's licence once no digital loan is running (librarians)",
)
def delete_licence(request: HttpRequest, record_id: int) -> Status:
    """Refused (409 ``LicenceInUse``) while readers borrow the title: what they borrowed is
    never taken away. Readers waiting or offered a copy lose their place."""
    user, record = _licence_record(request, record_id)
    existing = queries.licence_for(record.pk)
    if existing is None:
        raise Http404
    try:
        licences.remove_licence(existing, by=user)
    except DigitalError as error:
        return _refused(error)
    return Status(204, None)
