"""The desk's work lists: overdue loans, copies to pull for holds, copies in transit."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kitobxon.catalogue import queries as catalogue_queries
from kitobxon.circulation import queries, services
from kitobxon.circulation.views.desk_common import (
    all_branches,
    desk_branch,
    librarian,
    when,
    where_it_goes,
)

PER_PAGE = 50


@require_GET
def overdue(request: HttpRequest) -> HttpResponse:
    """Loans past their due time, lent at the chosen branch (the desk's by default)."""
    librarian(request)
    branches = list(all_branches())
    chosen = request.GET.get("branch", "")
    branch = desk_branch(request, branches)
    if chosen == "all":
        branch = None
    elif chosen.isdigit():
        branch = next((b for b in branches if b.pk == int(chosen)), branch)
    loans = queries.overdue_loans().select_related("branch")
    if branch is not None:
        loans = loans.filter(branch=branch)
    page = Paginator(loans, PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for loan in page:
        loan.due_text = when(loan.due_at)  # type: ignore[attr-defined]
        loan.days_late = max(1, (today - timezone.localdate(loan.due_at)).days)  # type: ignore[attr-defined]
    return render(
        request,
        "circulation/desk_overdue.html",
        {
            "page": page,
            "branches": branches,
            "shown_branch": branch,
            "all": chosen == "all",
            "desk_page": "overdue",
        },
    )


@require_GET
def pick_list(request: HttpRequest) -> HttpResponse:
    """Copies on this desk's shelves that readers wait for: pull one and check it in."""
    librarian(request)
    branch = desk_branch(request)
    rows = queries.pick_list(branch) if branch else []
    return render(
        request,
        "circulation/desk_pick_list.html",
        {"rows": rows, "branch": branch, "desk_page": "pick"},
    )


@require_GET
def transit(request: HttpRequest) -> HttpResponse:
    librarian(request)
    branch = desk_branch(request)
    outgoing = list(queries.transit_list(branch, outgoing=True)) if branch else []
    incoming = list(queries.transit_list(branch, outgoing=False)) if branch else []
    return render(
        request,
        "circulation/desk_transit.html",
        {
            "outgoing": outgoing,
            "incoming": incoming,
            "branch": branch,
            "desk_page": "transit",
        },
    )


@require_POST
def transit_arrived(request: HttpRequest, item_id: int) -> HttpResponse:
    """A copy in transit arrived at this desk: check it in here, which sends it on."""
    user = librarian(request)
    branch = desk_branch(request)
    if branch is None:
        raise Http404
    item = catalogue_queries.access_item(user, item_id)
    result = services.check_in(item, by=user, branch=branch)
    messages.success(request, f"{item.barcode}: {where_it_goes(result)}")
    return redirect("circulation:desk_transit")


urlpatterns: list[URLPattern] = [
    path("desk/overdue/", overdue, name="desk_overdue"),
    path("desk/pick-list/", pick_list, name="desk_pick_list"),
    path("desk/transit/", transit, name="desk_transit"),
    path("desk/transit/<int:item_id>/arrived/", transit_arrived, name="desk_arrived"),
]
