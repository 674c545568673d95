"""Circulation's JSON API: every reader and desk action, thin over services and queries.

Readers act on their own loans, holds and money; librarians on anyone's. Somebody else's loan
or hold answers 404 (``queries.access_*``), a desk-only action 403, and a refusal of the
lending desk 409 ``{"detail": sentence, "code": refusal}``.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
"""

from datetime import UTC
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from kitobxon.accounts.api import AUTH
from kitobxon.accounts.models import User
from kitobxon.accounts.queries import access_user, is_librarian, readable_users
from kitobxon.catalogue import queries as catalogue_queries
from kitobxon.catalogue.models import Branch, Item, Record
from kitobxon.circulation import queries, services
from kitobxon.circulation.errors import CirculationError
from kitobxon.circulation.models import (
    OPEN_HOLD_STATES,
    OPEN_LOAN_STATES,
    Charge,
    Hold,
    HoldState,
    Loan,
    LoanState,
)
from kitobxon.circulation.schemas import (
    BlockOut,
    BlockReasonOut,
    ChargeOut,
    ChargesOut,
    CheckInIn,
    CheckInOut,
    CheckOutIn,
    HoldFilters,
    HoldIn,
    HoldOut,
    LoanFilters,
    LoanOut,
    PaymentIn,
    ReaderBlocksOut,
    Refusal,
    RoutedOut,
    SuspendIn,
    WaiverIn,
)

router = Router(tags=["circulation"])
CENT = Decimal("0.01")


def _caller(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _librarian(request: HttpRequest) -> User:
    user = _caller(request)
    if not is_librarian(user):
        raise HttpError(403, _("Only librarians may do this."))
    return user


def _refused(error: CirculationError) -> Status:
    return Status(409, {"detail": error.message, "code": type(error).__name__})


def _for_reader(request: HttpRequest, patron: int | None) -> int:
    """Whose things a listing shows: the caller's own, or (librarians) the reader asked for."""
    user = _caller(request)
    if patron is None or patron == user.pk:
        return int(user.pk)
    _librarian(request)
    return patron


def _reader_by_card(user: User, card: str) -> User:
    reader = readable_users(user).filter(card_number=card.strip()).first()
    if reader is None:
        raise HttpError(422, _("No reader has this library card number."))
    return reader


def _item_by_barcode(user: User, barcode: str, only: tuple[str, ...] = ()) -> Item:
    items = catalogue_queries.readable_items(user).filter(barcode=barcode.strip())
    if only:
        items = items.select_related(None).select_related("record").only(*only)
    item = items.first()
    if item is None:
        raise HttpError(422, _("No copy has this barcode."))
    return item


def _branch(code: str) -> Branch:
    branch = Branch.objects.filter(code=code).first()
    if branch is None:
        raise HttpError(422, _("Unknown branch: %(code)s") % {"code": code})
    return branch


# --- Loans --------------------------------------------------------------------------------

LOAN_STATES: dict[str, list[str]] = {
    "open": [str(state) for state in OPEN_LOAN_STATES],
    **{state.value: [state.value] for state in LoanState},
    "all": list(LoanState.values),
}


@router.get("/loans", response=list[LoanOut], auth=AUTH, summary="Loans (mine by default)")
@paginate(PageNumberPagination, page_size=50)
def list_loans(request: HttpRequest, filters: Query[LoanFilters]) -> QuerySet[Loan]:
    if filters.state not in LOAN_STATES:
        raise HttpError(422, _("Unknown state: %(state)s") % {"state": filters.state})
    patron_id = _for_reader(request, filters.patron)
    return (
        queries.readable_loans(_caller(request))
        .filter(patron_id=patron_id, state__in=LOAN_STATES[filters.state])
        .order_by("due_at", "id")
    )


@router.get("/loans/{loan_id}", response=LoanOut, auth=AUTH, summary="One loan")
def get_loan(request: HttpRequest, loan_id: int) -> Loan:
    return queries.access_loan(_caller(request), loan_id)


@router.post(
    "/loans", response={201: LoanOut, 409: Refusal}, auth=AUTH, summary="Check out (librarians)"
)
def check_out(request: HttpRequest, payload: CheckOutIn) -> Status:
    user = _librarian(request)
    # The desk locks and reads the copy again; here it needs only what chooses the lending
    # terms, and the record's title for the answer (a record's other fields, its source
    # among them, cost more to read than the rest of the look-up).
    item = _item_by_barcode(
        user, payload.item, only=("record_id", "branch_id", "loan_type", "record__title")
    )
    reader = _reader_by_card(user, payload.patron)
    try:
        loan = services.check_out(
            item, reader, by=user, branch=_branch(payload.branch) if payload.branch else None
        )
    except CirculationError as error:
        return _refused(error)
    # The service's loan has the copy it locked (and its branch) and the desk's branch; the
    # record comes from the copy looked up above: no second read of what was just written.
    loan.item.record = item.record
    loan.due_at = loan.due_at.astimezone(UTC)  # as the database gives it back
    return Status(201, loan)


@router.post(
    "/loans/{loan_id}/renew", response={200: LoanOut, 409: Refusal}, auth=AUTH, summary="Renew"
)
def renew(request: HttpRequest, loan_id: int) -> Status:
    user = _caller(request)
    loan = queries.access_loan(user, loan_id)
    try:
        renewed = services.renew(loan, by=user)
    except CirculationError as error:
        return _refused(error)
    renewed.item.record = loan.item.record  # the rest was read under the service's locks
    renewed.branch = loan.branch
    renewed.due_at = renewed.due_at.astimezone(UTC)  # as the database gives it back
    return Status(200, renewed)


@router.post(
    "/loans/{loan_id}/lost",
    response={200: LoanOut, 409: Refusal},
    auth=AUTH,
    summary="Declare lost (librarians)",
)
def declare_lost(request: HttpRequest, loan_id: int) -> Status:
    user = _librarian(request)
    loan = queries.access_loan(user, loan_id)
    try:
        services.mark_lost(loan, by=user)
    except CirculationError as error:
        return _refused(error)
    return Status(200, queries.access_loan(user, loan_id))


@router.post(
    "/loans/{loan_id}/claims-returned",
    response={200: LoanOut, 409: Refusal},
    auth=AUTH,
    summary="The reader claims to have returned it (librarians)",
)
def claim_returned(request: HttpRequest, loan_id: int) -> Status:
    user = _librarian(request)
    loan = queries.access_loan(user, loan_id)
    try:
        services.claims_returned(loan, by=user)
    except CirculationError as error:
        return _refused(error)
    return Status(200, queries.access_loan(user, loan_id))


@router.post("/returns", response=CheckInOut, auth=AUTH, summary="Check in (librarians)")
def check_in(request: HttpRequest, payload: CheckInIn) -> dict[str, Any]:
    user = _librarian(request)
    item = _item_by_barcode(user, payload.item)
    done = services.check_in(item, by=user, branch=_branch(payload.branch))
    transit = done.routed.transit
    return {
        "loan": queries.readable_loans(user).get(pk=done.loan.pk) if done.loan else None,
        "fine": done.fine.quantize(CENT),
        "routed": RoutedOut(
            status=done.routed.status,
            hold_id=done.routed.hold.pk if done.routed.hold else None,
            to_branch=transit.to_branch.code if transit else None,
        ),
    }


# --- Holds --------------------------------------------------------------------------------


def _with_position(hold: Hold) -> Hold:
    hold.position = queries.hold_position(hold)  # type: ignore[attr-defined]
    return hold


@router.get("/holds", response=list[HoldOut], auth=AUTH, summary="Holds (mine by default)")
def list_holds(request: HttpRequest, filters: Query[HoldFilters]) -> list[Hold]:
    states: list[str]
    if filters.state == "open":
        states = [str(state) for state in OPEN_HOLD_STATES]
    elif filters.state == "all":
        states = list(HoldState.values)
    elif filters.state in HoldState.values:
        states = [filters.state]
    else:
        raise HttpError(422, _("Unknown state: %(state)s") % {"state": filters.state})
    patron_id = _for_reader(request, filters.patron)
    holds = list(
        queries.readable_holds(_caller(request))
        .filter(patron_id=patron_id, state__in=states)
        .order_by("id")[:500]
    )
    positions = queries.hold_positions(holds)
    for hold in holds:
        hold.position = positions.get(hold.pk)  # type: ignore[attr-defined]
    return holds


@router.post("/holds", response={201: HoldOut, 409: Refusal}, auth=AUTH, summary="Place a hold")
def place_hold(request: HttpRequest, payload: HoldIn) -> Status:
    user = _caller(request)
    reader = user
    if payload.patron and payload.patron.strip() != user.card_number:
        _librarian(request)
        reader = _reader_by_card(user, payload.patron)
    target: Record | Item
    if payload.item:
        target = _item_by_barcode(user, payload.item)
    elif payload.record is not None:
        target = catalogue_queries.access_record(user, payload.record)
    else:
        raise HttpError(422, _("Name the record or the copy to hold."))
    try:
        hold = services.place_hold(
            target,
            reader,
            pickup_branch=_branch(payload.pickup_branch),
            by=user,
            expires_on=payload.expires_on,
        )
    except CirculationError as error:
        return _refused(error)
    return Status(201, _with_position(queries.access_hold(user, hold.pk)))


@router.get("/holds/{hold_id}", response=HoldOut, auth=AUTH, summary="One hold")
def get_hold(request: HttpRequest, hold_id: int) -> Hold:
    return _with_position(queries.access_hold(_caller(request), hold_id))


@router.post(
    "/holds/{hold_id}/cancel", response={200: HoldOut, 409: Refusal}, auth=AUTH, summary="Cancel"
)
def cancel_hold(request: HttpRequest, hold_id: int) -> Status:
    user = _caller(request)
    hold = queries.access_hold(user, hold_id)
    try:
        cancelled = services.cancel_hold(hold, by=user)
    except CirculationError as error:
        return _refused(error)
    return Status(200, _with_position(cancelled))


@router.post(
    "/holds/{hold_id}/suspend",
    response={200: HoldOut, 409: Refusal},
    auth=AUTH,
    summary="Suspend until a date (keeps the place in the queue)",
)
def suspend_hold(request: HttpRequest, hold_id: int, payload: SuspendIn) -> Status:
    user = _caller(request)
    hold = queries.access_hold(user, hold_id)
    try:
        services.suspend_hold(hold, until=payload.until, by=user)
    except CirculationError as error:
        return _refused(error)
    return Status(200, _with_position(queries.access_hold(user, hold_id)))


@router.post(
    "/holds/{hold_id}/resume", response={200: HoldOut, 409: Refusal}, auth=AUTH, summary="Resume"
)
def resume_hold(request: HttpRequest, hold_id: int) -> Status:
    user = _caller(request)
    hold = queries.access_hold(user, hold_id)
    try:
        services.resume_hold(hold, by=user)
    except CirculationError as error:
        return _refused(error)
    return Status(200, _with_position(queries.access_hold(user, hold_id)))


# --- Money owed ---------------------------------------------------------------------------


@router.get("/charges", response=ChargesOut, auth=AUTH, summary="Money lines and the balance")
def list_charges(request: HttpRequest, patron: int | None = None) -> ChargesOut:
    patron_id = _for_reader(request, patron)
    lines = queries.readable_charges(_caller(request)).filter(patron_id=patron_id)
    return ChargesOut(
        balance=queries.balance(patron_id),
        items=[ChargeOut.from_orm(line) for line in lines.order_by("created_at", "id")],
    )


@router.post(
    "/charges/payments",
    response={201: ChargeOut, 409: Refusal},
    auth=AUTH,
    summary="Record a payment (librarians)",
)
def record_payment(request: HttpRequest, payload: PaymentIn) -> Status:
    user = _librarian(request)
    reader = _reader_by_card(user, payload.patron)
    try:
        line: Charge = services.record_payment(reader, payload.amount, by=user, note=payload.note)
    except CirculationError as error:
        return _refused(error)
    return Status(201, line)


@router.post(
    "/charges/waivers",
    response={201: ChargeOut, 409: Refusal},
    auth=AUTH,
    summary="Waive what a reader owes (librarians)",
)
def waive(request: HttpRequest, payload: WaiverIn) -> Status:
    user = _librarian(request)
    reader = _reader_by_card(user, payload.patron)
    try:
        line = services.waive(reader, payload.amount, by=user, reason=payload.reason)
    except CirculationError as error:
        return _refused(error)
    return Status(201, line)


# --- Readers ------------------------------------------------------------------------------


@router.get(
    "/readers/{reader_id}/blocks",
    response=ReaderBlocksOut,
    auth=AUTH,
    summary="Why a reader may not borrow (librarians)",
)
def reader_blocks(request: HttpRequest, reader_id: int) -> ReaderBlocksOut:
    user = _librarian(request)
    reader = access_user(user, reader_id)
    reasons = queries.reader_blocks(reader)
    return ReaderBlocksOut(
        patron_id=reader.pk,
        may_borrow=not reasons,
        reasons=[BlockReasonOut(code=type(r).__name__, detail=r.message) for r in reasons],
        blocks=[
            BlockOut(id=b.pk, reason=b.reason, since=b.created_at, until=b.until)
            for b in queries.active_blocks(reader)
        ],
    )
