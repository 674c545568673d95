"""The librarian's copy-cataloguing page: search a remote SRU server, import a record."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kitobxon.accounts.queries import is_librarian
from kitobxon.catalogue.errors import CatalogueError
from kitobxon.core import outbound
from kitobxon.protocols.sru import client

#: Saved targets: (label, SRU base URL). Settings may replace them with SRU_COPY_TARGETS.
DEFAULT_TARGETS: tuple[tuple[str, str], ...] = (
    ("Library of Congress", "http://lx2.loc.gov:210/LCDB"),
    ("K10plus (GBV)", "https://sru.k10plus.de/opac-de-627"),
)


def targets() -> tuple[tuple[str, str], ...]:
    return tuple(getattr(settings, "SRU_COPY_TARGETS", DEFAULT_TARGETS))


@require_http_methods(["GET", "POST"])
def copy_cataloguing(request: HttpRequest) -> HttpResponse:
    if not is_librarian(request.user):
        raise Http404
    source = request.POST if request.method == "POST" else request.GET
    base_url = source.get("target", "").strip()
    query = source.get("query", "").strip()
    found: list[client.Found] = []
    error = ""
    if base_url:
        try:
            outbound.validate_url(base_url)
        except ValidationError as refused:
            error = " ".join(refused.messages)
    if base_url and query and not error:
        try:
            found = client.search_remote(base_url, query, maximum=20)
        except client.RemoteError as problem:
            error = str(problem)
    if request.method == "POST" and not error:
        position = source.get("position", "")
        chosen = next((f for f in found if str(f.position) == position), None)
        if chosen is None:
            error = _("That record is no longer in the remote results.")
        else:
            try:
                saved = client.import_found(chosen, by=request.user)  # type: ignore[arg-type]
            except CatalogueError as problem:
                error = problem.message
            else:
                if saved.created:
                    messages.success(request, _("The record is imported."))
                else:
                    messages.success(request, _("The record already existed and is updated."))
                return redirect(saved.record)
    return render(
        request,
        "protocols/sru_copy.html",
        {"targets": targets(), "target": base_url, "query": query, "found": found, "error": error},
    )
