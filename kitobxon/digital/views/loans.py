"""The reader's buttons for licensed titles (borrow, return early, wait, leave the waiting
list) and their page of digital loans, offers and waits.

The buttons are small forms (POST, CSRF) on the record page and on the account page; each
calls a service, says what happened in a message in the reader's language (a refusal's own
sentence), and goes back where it came from: the ``next`` address when it is one of ours, the
record page otherwise. A record the reader may not see, or somebody else's loan, is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kitobxon.catalogue.models import Record
from kitobxon.catalogue.queries import readable_records
from kitobxon.digital import queries
from kitobxon.digital.errors import DigitalError
from kitobxon.digital.models import DigitalLoanState, WaitState
from kitobxon.digital.services import loans as services
from kitobxon.digital.states import OPEN_WAIT_STATES


def _record(request: HttpRequest, record_id: int) -> Record:
    record = readable_records(request.user).filter(pk=record_id).first()
    if record is None:
        raise Http404
    return record


def _back(request: HttpRequest, record_id: int) -> HttpResponseRedirect:
    """Back to the page the button was on (``next``, when it is ours), else the record page."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("catalogue:record", args=[record_id])
    return HttpResponseRedirect(target)


def _when(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _signed_in(request: HttpRequest, record_id: int) -> HttpResponse | None:
    """Visitors are sent to sign in, then back to the record page (the buttons are POST only)."""
    if request.user.is_authenticated:
        return None
    return redirect_to_login(reverse("catalogue:record", args=[record_id]))


@require_POST
def borrow(request: HttpRequest, record_id: int) -> HttpResponse:
    if response := _signed_in(request, record_id):
        return response
    record = _record(request, record_id)
    try:
        loan = services.borrow(record, request.user, by=request.user)
    except DigitalError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("You are borrowing “%(title)s” until %(date)s.")
            % {"title": record.title, "date": _when(loan.due_at)},
        )
    return _back(request, record.pk)


@require_POST
def return_loan(request: HttpRequest, loan_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("digital:account"))
    loan = queries.access_digital_loan(request.user, loan_id)
    title = loan.licence.record.title
    try:
        services.return_loan(loan, by=request.user)
    except DigitalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("You have returned “%(title)s”.") % {"title": title})
    return _back(request, loan.licence.record_id)


@require_POST
def wait(request: HttpRequest, record_id: int) -> HttpResponse:
    if response := _signed_in(request, record_id):
        return response
    record = _record(request, record_id)
    try:
        entry = services.join_waitlist(record, request.user, by=request.user)
    except DigitalError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "You are on the waiting list, number %(position)d. We will e-mail you when a copy "
                "is free for you."
            )
            % {"position": queries.waiting_position(entry)},
        )
    return _back(request, record.pk)


@require_POST
def unwait(request: HttpRequest, record_id: int) -> HttpResponse:
    if response := _signed_in(request, record_id):
        return response
    record = _record(request, record_id)
    try:
        services.leave_waitlist(record, request.user, by=request.user)
    except DigitalError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("You have left the waiting list for “%(title)s”.") % {"title": record.title}
        )
    return _back(request, record.pk)


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    """The reader's own digital loans (with a link to read), offers and places in queues.

    Only the viewer's own rows, even for a librarian: everyone else's are in the API.
    """
    user = request.user
    now = timezone.now()
    loans = list(
        queries.readable_digital_loans(user)
        .filter(reader_id=user.pk, state=DigitalLoanState.ACTIVE, due_at__gt=now)
        .order_by("due_at", "id")
    )
    first_files: dict[int, Any] = {}
    for file in (
        queries.readable_files(user)
        .filter(record_id__in={loan.licence.record_id for loan in loans}, caption_for__isnull=True)
        .order_by("record_id", "position", "id")
    ):
        first_files.setdefault(file.record_id, file)
    waits = list(
        queries.readable_waits(user)
        .filter(reader_id=user.pk, state__in=OPEN_WAIT_STATES)
        .order_by("created_at", "id")
    )
    offers = [
        w
        for w in waits
        if w.state == WaitState.OFFERED and w.offered_until and w.offered_until > now
    ]
    queued = [
        {"wait": w, "position": queries.waiting_position(w)}
        for w in waits
        if w.state == WaitState.WAITING
    ]
    return render(
        request,
        "digital/account_digital.html",
        {
            "loans": [
                {"loan": loan, "file": first_files.get(loan.licence.record_id)} for loan in loans
            ],
            "offers": offers,
            "queued": queued,
            "here": request.path,
            "section": "digital",
        },
    )


urlpatterns: list[URLPattern] = [
    path("digital/records/<int:record_id>/borrow", borrow, name="borrow"),
    path("digital/loans/<int:loan_id>/return", return_loan, name="return"),
    path("digital/records/<int:record_id>/wait", wait, name="wait"),
    path("digital/records/<int:record_id>/unwait", unwait, name="unwait"),
    path("account/digital/", account, name="account"),
]
