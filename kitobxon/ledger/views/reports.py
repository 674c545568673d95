"""Reports for librarians: the fixity checks, with a button to run one now.

Only holders of ``ledger.view_ledger_reports`` see them; for anyone else the page does not
exist (404), like the catalogue's staff pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kitobxon.ledger import queries, tasks, verify

RUNS_SHOWN = 10
PROBLEMS_SHOWN = 100


def _problems(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A run's stored problems, described in the reader's language."""
    return [{**row, "text": verify.describe(row.get("kind", ""))} for row in rows[:PROBLEMS_SHOWN]]


@require_http_methods(["GET", "POST"])
def fixity(request: HttpRequest) -> HttpResponse:
    """The latest fixity checks: when, how many files, and each file that did not match."""
    if not request.user.has_perm("ledger.view_ledger_reports"):
        raise Http404
    if request.method == "POST":
        tasks.check_fixity(request.user.pk)
        messages.success(
            request, _("A fixity check has started. Its result appears here when it is done.")
        )
        return redirect("ledger:fixity")
    runs = [
        {
            "run": run,
            "problems": _problems(run.problems),
            "hidden": max(len(run.problems) - PROBLEMS_SHOWN, 0),
        }
        for run in queries.readable_fixity_runs(request.user)[:RUNS_SHOWN]
    ]
    return render(request, "ledger/fixity.html", {"runs": runs})


urlpatterns: list[URLPattern] = [path("ledger/fixity/", fixity, name="fixity")]
