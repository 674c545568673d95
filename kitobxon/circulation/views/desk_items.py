"""One copy at the desk: its status, loan, the record's hold queue, its history and transits.

A returned loan that forgot its reader (the reader keeps no history) shows no reader.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kitobxon.accounts.models import User
from kitobxon.catalogue import queries as catalogue_queries
from kitobxon.catalogue import services as catalogue_services
from kitobxon.catalogue.models import Item
from kitobxon.circulation import queries, services
from kitobxon.circulation.errors import CirculationError
from kitobxon.circulation.forms import DamageForm, LoanTypeForm
from kitobxon.circulation.models import OPEN_HOLD_STATES, OPEN_LOAN_STATES
from kitobxon.circulation.views.desk_common import librarian, som, when

HISTORY_SHOWN = 50


def _copy(user: User, barcode: str) -> Item:
    item = catalogue_queries.readable_items(user).filter(barcode=barcode).first()
    if item is None:
        raise Http404
    return item


def _item_page(request: HttpRequest, item: Item, status: int = 200, **forms: Any) -> HttpResponse:
    user = librarian(request)
    loan = (
        queries.readable_loans(user)
        .filter(item=item, state__in=OPEN_LOAN_STATES)
        .select_related("patron")
        .first()
    )
    queue = list(
        queries.readable_holds(user)
        .filter(record_id=item.record_id, state__in=OPEN_HOLD_STATES)
        .select_related("patron", "trapped_item")
    )
    history = list(
        queries.readable_loans(user).filter(item=item).select_related("patron")[:HISTORY_SHOWN]
    )
    transits = list(
        queries.readable_transits(user).filter(item=item).order_by("-sent_at", "-id")[:20]
    )
    context = {
        "item": item,
        "loan": loan,
        "due_text": when(loan.due_at) if loan else "",
        "queue": queue,
        "history": history,
        "transits": transits,
        "damage_form": forms.get("damage_form") or DamageForm(),
        "loan_type_form": LoanTypeForm(initial={"loan_type": item.loan_type}),
    }
    return render(request, "circulation/desk_item.html", context, status=status)


@require_GET
def item_detail(request: HttpRequest, barcode: str) -> HttpResponse:
    user = librarian(request)
    return _item_page(request, _copy(user, barcode))


@require_POST
def item_damaged(request: HttpRequest, barcode: str) -> HttpResponse:
    """Record damage; a copy on the shelf goes for repair, a charge goes to its borrower."""
    user = librarian(request)
    item = _copy(user, barcode)
    form = DamageForm(request.POST)
    if form.is_valid():
        try:
            line = services.mark_damaged(
                item, by=user, note=form.cleaned_data["note"], amount=form.cleaned_data["amount"]
            )
        except CirculationError as error:
            form.add_error("amount", error.message)
        else:
            if line is not None:
                messages.success(
                    request,
                    _("The damage is recorded and %(amount)s so'm charged.")
                    % {"amount": som(line.amount)},
                )
            else:
                messages.success(request, _("The damage is recorded."))
            return redirect("circulation:desk_item", barcode=item.barcode)
    return _item_page(request, item, status=400, damage_form=form)


@require_POST
def item_loan_type(request: HttpRequest, barcode: str) -> HttpResponse:
    """Change which loan rules apply to the copy (reference copies are never lent)."""
    user = librarian(request)
    item = _copy(user, barcode)
    form = LoanTypeForm(request.POST)
    if form.is_valid():
        catalogue_services.update_item(item, by=user, loan_type=form.cleaned_data["loan_type"])
        messages.success(request, _("The loan type is changed."))
    return redirect("circulation:desk_item", barcode=item.barcode)


urlpatterns: list[URLPattern] = [
    path("desk/items/<str:barcode>/", item_detail, name="desk_item"),
    path("desk/items/<str:barcode>/damaged/", item_damaged, name="desk_damaged"),
    path("desk/items/<str:barcode>/loan-type/", item_loan_type, name="desk_loan_type"),
]
