"""The librarians' harvest page: sources, their runs, and "run now"."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kitobxon.protocols import tasks
from kitobxon.protocols.harvest import queries, services
from kitobxon.protocols.harvest.forms import HarvestSourceForm
from kitobxon.protocols.models import HarvestSource


def _source_form(request: HttpRequest, source: HarvestSource | None) -> HttpResponse:
    form = HarvestSourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        saved = services.save_source(form.instance, by=request.user)  # type: ignore[arg-type]
        messages.success(request, _("The harvest source is saved."))
        return redirect("protocols:harvest-source", saved.pk)
    return render(request, "protocols/harvest_form.html", {"form": form, "source": source})


@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    queries.require_librarian(request.user)
    sources = queries.readable_harvest_sources(request.user)
    return render(request, "protocols/harvest_list.html", {"sources": sources})


@require_http_methods(["GET", "POST"])
def source_add(request: HttpRequest) -> HttpResponse:
    queries.require_librarian(request.user)
    return _source_form(request, None)


@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, source_id: int) -> HttpResponse:
    return _source_form(request, queries.access_harvest_source(request.user, source_id))


@require_GET
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    source = queries.access_harvest_source(request.user, source_id)
    runs = queries.readable_harvest_runs(request.user, source)[:50]
    return render(request, "protocols/harvest_detail.html", {"source": source, "runs": runs})


@require_POST
def source_run(request: HttpRequest, source_id: int) -> HttpResponse:
    source = queries.access_harvest_source(request.user, source_id)
    tasks.schedule_harvest(source.pk, request.user.pk)
    messages.success(request, _("The harvest has started; its run appears below."))
    return redirect("protocols:harvest-source", source.pk)
