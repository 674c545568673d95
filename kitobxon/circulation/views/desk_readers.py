"""Readers at the desk: look a reader up, see and act on their loans, holds, money and blocks.

Money is a ledger of lines: a payment or a waiver adds a line, nothing is ever edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kitobxon.accounts.models import User
from kitobxon.accounts.queries import access_user, readable_users
from kitobxon.circulation import queries, services
from kitobxon.circulation.errors import CirculationError
from kitobxon.circulation.forms import BlockForm, PaymentForm, ReaderSearchForm, WaiveForm
from kitobxon.circulation.models import OPEN_HOLD_STATES, Block
from kitobxon.circulation.views.desk_common import back, librarian, som, when

READERS_SHOWN = 50


@require_GET
def reader_search(request: HttpRequest) -> HttpResponse:
    """Find a reader by card number (exact or its beginning), name or e-mail."""
    librarian(request)
    form = ReaderSearchForm(request.GET or None)
    readers: list[User] = []
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
    if query:
        readable = readable_users(request.user)
        exact = readable.filter(card_number=query).first()
        if exact is not None:
            return redirect("circulation:desk_reader", reader_id=exact.pk)
        readers = list(
            readable.filter(
                Q(card_number__startswith=query)
                | Q(full_name__icontains=query)
                | Q(email__icontains=query)
            ).order_by("full_name", "pk")[:READERS_SHOWN]
        )
    return render(
        request,
        "circulation/desk_readers.html",
        {
            "form": form,
            "query": query,
            "readers": readers,
            "limit": READERS_SHOWN,
            "desk_page": "readers",
        },
    )


def _reader_page(
    request: HttpRequest, reader: User, status: int = 200, **forms: Any
) -> HttpResponse:
    user = librarian(request)
    loans = list(queries.current_loans(reader))
    for loan in loans:
        loan.due_text = when(loan.due_at)  # type: ignore[attr-defined]
        loan.fine_now = (  # type: ignore[attr-defined]
            som(queries.accruing_fine(loan)) if loan.is_overdue else ""
        )
    holds = list(
        queries.readable_holds(user)
        .filter(patron=reader, state__in=OPEN_HOLD_STATES)
        .select_related("trapped_item")
    )
    for hold in holds:
        hold.position = queries.hold_position(hold)  # type: ignore[attr-defined]
    charges = list(
        queries.readable_charges(user)
        .filter(patron=reader)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    owed = queries.balance(reader)
    for line in charges:
        line.amount_text = som(line.amount)  # type: ignore[attr-defined]
    context = {
        "desk_page": "readers",
        "reader": reader,
        "blocks": queries.reader_blocks(reader, owed=owed),
        "librarian_blocks": list(queries.active_blocks(reader).select_related("created_by")),
        "loans": loans,
        "holds": holds,
        "charges": charges,
        "balance": owed,
        "balance_text": som(owed),
        "payment_form": forms.get("payment_form") or PaymentForm(),
        "waive_form": forms.get("waive_form") or WaiveForm(),
        "block_form": forms.get("block_form") or BlockForm(),
    }
    return render(request, "circulation/desk_reader.html", context, status=status)


def _reader(request: HttpRequest, reader_id: int) -> User:
    return access_user(librarian(request), reader_id)


@require_GET
def reader_detail(request: HttpRequest, reader_id: int) -> HttpResponse:
    return _reader_page(request, _reader(request, reader_id))


def _reader_url(reader_id: int | None) -> str:
    if reader_id is None:
        return reverse("circulation:desk_readers")
    return reverse("circulation:desk_reader", args=[reader_id])


def _loan_action(request: HttpRequest, loan_id: int, action: str) -> HttpResponse:
    """Renew, declare lost or record a claim of return; a refusal is shown as its sentence."""
    user = librarian(request)
    loan = queries.access_loan(user, loan_id)
    reader_id = loan.patron_id
    try:
        if action == "renew":
            renewed = services.renew(loan, by=user)
            messages.success(
                request, _("Renewed, now due %(due)s.") % {"due": when(renewed.due_at)}
            )
        elif action == "lost":
            services.mark_lost(loan, by=user)
            messages.success(request, _("The copy is recorded as lost and charged."))
        else:
            services.claims_returned(loan, by=user)
            messages.success(request, _("The reader's claim of return is recorded."))
    except CirculationError as error:
        messages.error(request, error.message)
    return back(request, _reader_url(reader_id))


@require_POST
def loan_renew(request: HttpRequest, loan_id: int) -> HttpResponse:
    return _loan_action(request, loan_id, "renew")


@require_POST
def loan_lost(request: HttpRequest, loan_id: int) -> HttpResponse:
    return _loan_action(request, loan_id, "lost")


@require_POST
def loan_claims_returned(request: HttpRequest, loan_id: int) -> HttpResponse:
    return _loan_action(request, loan_id, "claims_returned")


@require_POST
def hold_cancel(request: HttpRequest, hold_id: int) -> HttpResponse:
    user = librarian(request)
    hold = queries.access_hold(user, hold_id)
    reader_id = hold.patron_id
    try:
        services.cancel_hold(hold, by=user)
    except CirculationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The hold is cancelled."))
    return back(request, _reader_url(reader_id))


@require_POST
def reader_payment(request: HttpRequest, reader_id: int) -> HttpResponse:
    user = librarian(request)
    reader = _reader(request, reader_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.record_payment(
                reader, form.cleaned_data["amount"], by=user, note=form.cleaned_data["note"]
            )
        except CirculationError as error:
            form.add_error("amount", error.message)
        else:
            messages.success(request, _("The payment is recorded."))
            return redirect("circulation:desk_reader", reader_id=reader.pk)
    return _reader_page(request, reader, status=400, payment_form=form)


@require_POST
def reader_waive(request: HttpRequest, reader_id: int) -> HttpResponse:
    user = librarian(request)
    reader = _reader(request, reader_id)
    form = WaiveForm(request.POST)
    if form.is_valid():
        try:
            services.waive(
                reader, form.cleaned_data["amount"], by=user, reason=form.cleaned_data["reason"]
            )
        except CirculationError as error:
            form.add_error("amount", error.message)
        else:
            messages.success(request, _("The waiver is recorded."))
            return redirect("circulation:desk_reader", reader_id=reader.pk)
    return _reader_page(request, reader, status=400, waive_form=form)


@require_POST
def reader_block(request: HttpRequest, reader_id: int) -> HttpResponse:
    user = librarian(request)
    reader = _reader(request, reader_id)
    form = BlockForm(request.POST)
    if form.is_valid():
        services.add_block(
            reader, reason=form.cleaned_data["reason"], until=form.cleaned_data["until"], by=user
        )
        messages.success(request, _("The reader is blocked from borrowing."))
        return redirect("circulation:desk_reader", reader_id=reader.pk)
    return _reader_page(request, reader, status=400, block_form=form)


@require_POST
def block_lift(request: HttpRequest, block_id: int) -> HttpResponse:
    user = librarian(request)
    block = get_object_or_404(Block, pk=block_id)
    try:
        services.lift_block(block, by=user)
    except CirculationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The block is lifted."))
    return redirect("circulation:desk_reader", reader_id=block.patron_id)


urlpatterns: list[URLPattern] = [
    path("desk/readers/", reader_search, name="desk_readers"),
    path("desk/readers/<int:reader_id>/", reader_detail, name="desk_reader"),
    path("desk/readers/<int:reader_id>/payment/", reader_payment, name="desk_payment"),
    path("desk/readers/<int:reader_id>/waive/", reader_waive, name="desk_waive"),
    path("desk/readers/<int:reader_id>/block/", reader_block, name="desk_block"),
    path("desk/blocks/<int:block_id>/lift/", block_lift, name="desk_lift_block"),
    path("desk/loans/<int:loan_id>/renew/", loan_renew, name="desk_renew"),
    path("desk/loans/<int:loan_id>/lost/", loan_lost, name="desk_lost"),
    path(
        "desk/loans/<int:loan_id>/claims-returned/",
        loan_claims_returned,
        name="desk_claims_returned",
    ),
    path("desk/holds/<int:hold_id>/cancel/", hold_cancel, name="desk_cancel_hold"),
]
