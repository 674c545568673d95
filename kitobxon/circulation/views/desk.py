"""The lending desk: scan a library card, then item barcodes to lend; or scan copies to return.

Keyboard first: the scan field has the focus, Enter submits. With htmx the desk's work area
is swapped in place; without JavaScript each scan posts and redirects back (the results of
the session's scans are kept in the session, newest first).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kitobxon.accounts.models import User
from kitobxon.accounts.queries import readable_users
from kitobxon.catalogue import queries as catalogue_queries
from kitobxon.catalogue.models import Branch, Item
from kitobxon.circulation import queries, services
from kitobxon.circulation.errors import CirculationError
from kitobxon.circulation.forms import DeskBranchForm, ScanForm
from kitobxon.circulation.models import HoldState
from kitobxon.circulation.views import (
    desk_items,
    desk_lists,
    desk_readers,
    desk_settings,
)
from kitobxon.circulation.views.desk_common import (
    all_branches,
    back,
    choose_branch,
    desk_branch,
    is_htmx,
    librarian,
    som,
    when,
    where_it_goes,
)

READER_KEY = "circulation.desk_reader"
LENT_KEY = "circulation.desk_lent"
RETURNED_KEY = "circulation.desk_returned"
KEEP_RESULTS = 50


def _result(ok: bool, code: str, message: str, item: Item | None = None) -> dict[str, Any]:
    return {
        "ok": ok,
        "barcode": code,
        "title": item.record.title if item else "",
        "message": message,
    }


def _remember(request: HttpRequest, key: str, result: dict[str, Any]) -> None:
    request.session[key] = [result, *request.session.get(key, [])][:KEEP_RESULTS]


def _item(user: User, code: str) -> Item | None:
    return catalogue_queries.readable_items(user).filter(barcode=code).first()


def _card_holder(user: User, code: str) -> User | None:
    return readable_users(user).filter(card_number=code).first()


def _desk_reader(request: HttpRequest, user: User) -> User | None:
    """The reader the desk is serving, remembered in the session."""
    reader_id = request.session.get(READER_KEY)
    return readable_users(user).filter(pk=reader_id).first() if reader_id else None


def _reader_panel(user: User, reader: User) -> dict[str, Any]:
    """What the librarian needs to see about the reader at the desk."""
    owed = queries.balance(reader)
    return {
        "reader": reader,
        "blocks": queries.reader_blocks(reader, owed=owed),
        "loans": list(queries.current_loans(reader)),
        "ready": list(queries.readable_holds(user).filter(patron=reader, state=HoldState.READY)),
        "balance": owed,
        "balance_text": som(owed),
    }


def _desk_context(request: HttpRequest, user: User, *, checking_in: bool) -> dict[str, Any]:
    branches = list(all_branches())
    context: dict[str, Any] = {
        "branch": desk_branch(request, branches),
        "branches": branches,
        "form": ScanForm(),
        "checking_in": checking_in,
        "desk_page": "in" if checking_in else "out",
    }
    if checking_in:
        context["results"] = request.session.get(RETURNED_KEY, [])
        return context
    context["results"] = request.session.get(LENT_KEY, [])
    reader = _desk_reader(request, user)
    if reader is not None:
        context.update(_reader_panel(user, reader))
    return context


def _answer(request: HttpRequest, user: User, *, checking_in: bool) -> HttpResponse:
    if is_htmx(request):
        return render(
            request,
            "circulation/desk_workspace.html",
            _desk_context(request, user, checking_in=checking_in),
        )
    return redirect("circulation:desk_check_in" if checking_in else "circulation:desk")


def _start_reader(request: HttpRequest, reader: User) -> None:
    request.session[READER_KEY] = reader.pk
    request.session[LENT_KEY] = []


@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    """Check-out: the first scan picks the reader by card, each next scan lends a copy.

    Scanning another reader's card switches to that reader.
    """
    user = librarian(request)
    if request.method == "GET":
        return render(
            request, "circulation/desk.html", _desk_context(request, user, checking_in=False)
        )
    form = ScanForm(request.POST)
    if not form.is_valid():
        return _answer(request, user, checking_in=False)
    code = form.cleaned_data["code"]
    reader = _desk_reader(request, user)
    item = _item(user, code) if reader is not None else None
    if item is None:
        holder = _card_holder(user, code)
        if holder is not None:
            _start_reader(request, holder)
        elif reader is None:
            _remember(
                request,
                LENT_KEY,
                _result(
                    False, code, _("No reader has the library card %(code)s.") % {"code": code}
                ),
            )
        else:
            _remember(
                request,
                LENT_KEY,
                _result(False, code, _("No copy has the barcode %(code)s.") % {"code": code}),
            )
        return _answer(request, user, checking_in=False)
    assert reader is not None
    try:
        loan = services.check_out(item, reader, by=user, branch=desk_branch(request))
    except CirculationError as error:
        _remember(request, LENT_KEY, _result(False, code, error.message, item))
    else:
        _remember(
            request,
            LENT_KEY,
            _result(True, code, _("Lent, due %(due)s.") % {"due": when(loan.due_at)}, item),
        )
    return _answer(request, user, checking_in=False)


@require_POST
def desk_done(request: HttpRequest) -> HttpResponse:
    """The reader leaves the desk: forget them and the scans made for them."""
    librarian(request)
    request.session.pop(READER_KEY, None)
    request.session[LENT_KEY] = []
    return redirect("circulation:desk")


@require_http_methods(["GET", "POST"])
def desk_check_in(request: HttpRequest) -> HttpResponse:
    """Check-in: each scanned copy is returned at this desk's branch and sent where it goes."""
    user = librarian(request)
    if request.method == "GET":
        return render(
            request, "circulation/desk.html", _desk_context(request, user, checking_in=True)
        )
    form = ScanForm(request.POST)
    branch = desk_branch(request)
    if form.is_valid():
        code = form.cleaned_data["code"]
        item = _item(user, code)
        if item is None:
            _remember(
                request,
                RETURNED_KEY,
                _result(False, code, _("No copy has the barcode %(code)s.") % {"code": code}),
            )
        elif branch is None:
            _remember(request, RETURNED_KEY, _result(False, code, _("Add a branch first."), item))
        else:
            result = services.check_in(item, by=user, branch=branch)
            _remember(request, RETURNED_KEY, _result(True, code, where_it_goes(result), item))
    if request.POST.get("next"):
        return back(request, reverse("circulation:desk_check_in"))
    return _answer(request, user, checking_in=True)


@require_POST
def desk_clear_returns(request: HttpRequest) -> HttpResponse:
    librarian(request)
    request.session[RETURNED_KEY] = []
    return redirect("circulation:desk_check_in")


@require_POST
def desk_set_branch(request: HttpRequest) -> HttpResponse:
    """The branch this desk works at, remembered for the session."""
    librarian(request)
    form = DeskBranchForm(request.POST)
    if form.is_valid():
        branch: Branch = form.cleaned_data["branch"]
        choose_branch(request, branch)
    return back(request, reverse("circulation:desk"))


urlpatterns: list[URLPattern] = [
    path("desk/", desk, name="desk"),
    path("desk/done/", desk_done, name="desk_done"),
    path("desk/check-in/", desk_check_in, name="desk_check_in"),
    path("desk/check-in/clear/", desk_clear_returns, name="desk_clear_returns"),
    path("desk/branch/", desk_set_branch, name="desk_set_branch"),
    *desk_readers.urlpatterns,
    *desk_items.urlpatterns,
    *desk_lists.urlpatterns,
    *desk_settings.urlpatterns,
]
