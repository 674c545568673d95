"""The reader's own account: loans and renewals, holds, money owed, reading history.

Every page shows only the signed-in reader's own things: it reads through ``readable_*`` /
``access_*`` and then keeps the rows whose reader is the viewer, so even a librarian sees
only their own loans here (the desk pages are for everyone else's).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path
from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kitobxon.accounts.models import User
from kitobxon.catalogue import queries as catalogue_queries
from kitobxon.catalogue.models import Item, ItemStatus, LoanType, Record
from kitobxon.circulation import queries, services
from kitobxon.circulation.account_forms import KeepHistoryForm, PlaceHoldForm, SuspendHoldForm
from kitobxon.circulation.errors import CirculationError
from kitobxon.circulation.models import (
    OPEN_HOLD_STATES,
    OPEN_LOAN_STATES,
    QUEUED_HOLD_STATES,
    Hold,
    Loan,
    LoanState,
)


def _reader(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _own_loan(request: HttpRequest, loan_id: int) -> Loan:
    loan = queries.access_loan(request.user, loan_id)
    if loan.patron_id != request.user.pk:
        raise Http404
    return loan


def _own_hold(request: HttpRequest, hold_id: int) -> Hold:
    hold = queries.access_hold(request.user, hold_id)
    if hold.patron_id != request.user.pk:
        raise Http404
    return hold


# --- The record page's panel --------------------------------------------------------------


def hold_panel(request: HttpRequest, record: Record) -> SafeString | None:
    """The record page's "Place a hold" panel (registered with the catalogue).

    Shown when the record has a copy that can be lent: how many readers wait, and for a
    signed-in reader either their place in the queue or the form to join it.
    """
    # The catalogue has already let this viewer see the record, and with it its copies.
    lendable = (
        Item.objects.filter(record=record)
        .exclude(status__in=[ItemStatus.WITHDRAWN, ItemStatus.LOST])
        .exclude(loan_type=LoanType.REFERENCE)
    )
    if not lendable.exists():
        return None
    waiting = Hold.objects.filter(record=record, state__in=QUEUED_HOLD_STATES).count()
    hold = position = form = None
    if request.user.is_authenticated:
        hold = (
            queries.readable_holds(request.user)
            .filter(patron_id=request.user.pk, record=record, state__in=OPEN_HOLD_STATES)
            .first()
        )
        if hold is not None:
            position = queries.hold_position(hold)
        else:
            form = PlaceHoldForm()
    html = render_to_string(
        "circulation/hold_panel.html",
        {"record": record, "waiting": waiting, "hold": hold, "position": position, "form": form},
        request=request,
    )
    return SafeString(html)


@login_required
@require_http_methods(["GET", "POST"])
def place_hold(request: HttpRequest, record_id: int) -> HttpResponse:
    """Join the queue for a record; a refusal is shown on the form in the reader's words."""
    record = catalogue_queries.access_record(request.user, record_id)
    form = PlaceHoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hold = services.place_hold(
                record,
                _reader(request),
                pickup_branch=form.cleaned_data["pickup_branch"],
                by=_reader(request),
            )
        except CirculationError as error:
            form.add_error(None, error.message)
        else:
            position = queries.hold_position(hold)
            messages.success(
                request,
                _("Your hold is placed. You are number %(position)d in the queue.")
                % {"position": position or 1},
            )
            return redirect("circulation:account_holds")
    return render(request, "circulation/hold_place.html", {"record": record, "form": form})


# --- Loans --------------------------------------------------------------------------------


def _loans_page(request: HttpRequest, errors: dict[int, str] | None = None) -> HttpResponse:
    reader = _reader(request)
    loans = list(
        queries.readable_loans(reader)
        .filter(patron_id=reader.pk, state__in=OPEN_LOAN_STATES)
        .order_by("due_at", "id")
    )
    return render(
        request,
        "circulation/account_loans.html",
        {
            "rows": [{"loan": loan, "error": (errors or {}).get(loan.pk)} for loan in loans],
            "blocks": queries.reader_blocks(reader),
            "section": "loans",
        },
    )


@login_required
@require_GET
def loans(request: HttpRequest) -> HttpResponse:
    return _loans_page(request)


@login_required
@require_POST
def renew(request: HttpRequest, loan_id: int) -> HttpResponse:
    loan = _own_loan(request, loan_id)
    try:
        renewed = services.renew(loan, by=_reader(request))
    except CirculationError as error:
        return _loans_page(request, {loan.pk: error.message})
    messages.success(
        request,
        _("Renewed: %(title)s is now due on %(date)s.")
        % {
            "title": loan.item.record.title,
            "date": formats.date_format(localtime(renewed.due_at), "DATE_FORMAT"),
        },
    )
    return redirect("circulation:account_loans")


# --- Holds --------------------------------------------------------------------------------


def _holds_page(
    request: HttpRequest, errors: dict[int, str] | None = None, forms: dict[int, Any] | None = None
) -> HttpResponse:
    reader = _reader(request)
    holds = list(
        queries.readable_holds(reader)
        .filter(patron_id=reader.pk, state__in=OPEN_HOLD_STATES)
        .order_by("id")
    )
    positions = queries.hold_positions(holds)
    rows = [
        {
            "hold": h,
            "position": positions.get(h.pk),
            "error": (errors or {}).get(h.pk),
            "suspend_form": (forms or {}).get(h.pk) or SuspendHoldForm(prefix=f"hold{h.pk}"),
        }
        for h in holds
    ]
    return render(request, "circulation/account_holds.html", {"rows": rows, "section": "holds"})


@login_required
@require_GET
def holds(request: HttpRequest) -> HttpResponse:
    return _holds_page(request)


@login_required
@require_POST
def cancel_hold(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = _own_hold(request, hold_id)
    try:
        services.cancel_hold(hold, by=_reader(request))
    except CirculationError as error:
        return _holds_page(request, {hold.pk: error.message})
    messages.success(request, _("Your hold on %(title)s is cancelled.") % {"title": hold.record})
    return redirect("circulation:account_holds")


@login_required
@require_POST
def suspend_hold(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = _own_hold(request, hold_id)
    form = SuspendHoldForm(request.POST, prefix=f"hold{hold.pk}")
    if form.is_valid():
        try:
            services.suspend_hold(hold, until=form.cleaned_data["until"], by=_reader(request))
        except CirculationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Your hold is suspended until %(date)s. You keep your place in the queue.")
                % {"date": formats.date_format(form.cleaned_data["until"], "DATE_FORMAT")},
            )
            return redirect("circulation:account_holds")
    return _holds_page(request, forms={hold.pk: form})


@login_required
@require_POST
def resume_hold(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = _own_hold(request, hold_id)
    try:
        services.resume_hold(hold, by=_reader(request))
    except CirculationError as error:
        return _holds_page(request, {hold.pk: error.message})
    messages.success(request, _("Your hold is active again."))
    return redirect("circulation:account_holds")


# --- Money owed ---------------------------------------------------------------------------


@login_required
@require_GET
def fines(request: HttpRequest) -> HttpResponse:
    reader = _reader(request)
    charges = (
        queries.readable_charges(reader).filter(patron_id=reader.pk).order_by("-created_at", "-id")
    )
    return render(
        request,
        "circulation/account_fines.html",
        {"charges": list(charges), "balance": queries.balance(reader), "section": "fines"},
    )


# --- Reading history ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def history(request: HttpRequest) -> HttpResponse:
    """Returned loans, kept only for a reader who opted in. Opting out erases them."""
    reader = _reader(request)
    form = KeepHistoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        keep = bool(form.cleaned_data["keep"])
        services.set_keep_history(reader, keep, by=reader)
        messages.success(
            request,
            _("Your reading history will be kept from now on.")
            if keep
            else _("Your reading history is erased and will no longer be kept."),
        )
        return redirect("circulation:account_history")
    keeps = queries.keeps_history(reader.pk)
    page = None
    if keeps:
        returned = (
            queries.readable_loans(reader)
            .filter(patron_id=reader.pk, state=LoanState.RETURNED)
            .order_by("-returned_at", "-id")
        )
        page = Paginator(returned, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "circulation/account_history.html",
        {"keeps": keeps, "page": page, "form": form, "section": "history"},
    )


urlpatterns: list[URLPattern] = [
    path("account/loans/", loans, name="account_loans"),
    path("account/loans/<int:loan_id>/renew/", renew, name="account_renew"),
    path("account/holds/", holds, name="account_holds"),
    path("account/holds/place/<int:record_id>/", place_hold, name="account_place_hold"),
    path("account/holds/<int:hold_id>/cancel/", cancel_hold, name="account_cancel_hold"),
    path("account/holds/<int:hold_id>/suspend/", suspend_hold, name="account_suspend_hold"),
    path("account/holds/<int:hold_id>/resume/", resume_hold, name="account_resume_hold"),
    path("account/fines/", fines, name="account_fines"),
    path("account/history/", history, name="account_history"),
]
