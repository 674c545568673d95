"""What every desk page shares: librarians only, the desk's branch, dates and sums in words.

The desk pages are for librarians; anyone else gets a 404, so the pages do not reveal that
they exist.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from kitobxon.accounts.models import User
from kitobxon.accounts.queries import is_librarian
from kitobxon.catalogue.models import Branch, ItemStatus
from kitobxon.circulation.services import CheckIn

BRANCH_KEY = "circulation.desk_branch"


def librarian(request: HttpRequest) -> User:
    """The signed-in librarian, or a 404 for everyone else."""
    if not is_librarian(request.user):
        raise Http404
    return request.user  # type: ignore[return-value]


def desk_branch(request: HttpRequest, branches: list[Branch] | None = None) -> Branch | None:
    """The branch this desk works at: the librarian's choice for the session, else the first
    by name. ``branches``, when given, is every branch in that order (saves a query)."""
    chosen = request.session.get(BRANCH_KEY)
    if branches is not None:
        return next((b for b in branches if b.pk == chosen), branches[0] if branches else None)
    branch = Branch.objects.filter(pk=chosen).first() if chosen else None
    return branch or all_branches().first()


def all_branches() -> QuerySet[Branch]:
    return Branch.objects.order_by("name", "pk")


def choose_branch(request: HttpRequest, branch: Branch) -> None:
    request.session[BRANCH_KEY] = branch.pk


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the page the form came from (``next``) when it is ours, else ``default``."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def when(moment: datetime) -> str:
    """A due time as the desk says it: the date alone for loans due at the end of the day."""
    local = timezone.localtime(moment)
    if (local.hour, local.minute) == (23, 59):
        return formats.date_format(local, "SHORT_DATE_FORMAT")
    return formats.date_format(local, "SHORT_DATETIME_FORMAT")


def som(amount: Decimal) -> str:
    """An amount of money in the reader's number format, without needless decimals."""
    places = 0 if amount == amount.to_integral_value() else 2
    return formats.number_format(amount, places, use_l10n=True, force_grouping=True)


def where_it_goes(result: CheckIn) -> str:
    """Tell the librarian where a checked-in copy goes next, and any fine just charged."""
    routed = result.routed
    hold = routed.hold
    if routed.status == ItemStatus.ON_HOLD_SHELF and hold is not None:
        reader = hold.patron
        sentence = _(
            "To the hold shelf for %(reader)s (card %(card)s); to be picked up by %(date)s."
        ) % {
            "reader": reader.full_name if reader else _("a reader"),
            "card": reader.card_number if reader else "—",
            "date": formats.date_format(hold.pickup_by, "SHORT_DATE_FORMAT")
            if hold.pickup_by
            else "—",
        }
    elif routed.status == ItemStatus.IN_TRANSIT and routed.transit is not None:
        to = routed.transit.to_branch.name
        if hold is not None:
            sentence = _("In transit to %(branch)s, for a reader's hold.") % {"branch": to}
        else:
            sentence = _("In transit to %(branch)s, its home branch.") % {"branch": to}
    elif routed.status == ItemStatus.AVAILABLE:
        sentence = _("Back to the shelf.")
    else:
        sentence = _("The copy's status is now: %(status)s.") % {
            "status": ItemStatus(routed.status).label
        }
    if result.loan is None:
        sentence = _("It was not on loan.") + " " + sentence
    if result.fine > 0:
        sentence += " " + _("Overdue fine charged: %(amount)s so'm.") % {"amount": som(result.fine)}
    return sentence
