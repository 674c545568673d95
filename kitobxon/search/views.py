"""The results page: facets that update in place (htmx), every state a shareable URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from kitobxon.search import queries, registry, searching
from kitobxon.search.backends.base import SORTS
from kitobxon.search.searching import ALL_FACETS, SearchRequest

FACET_TITLES = {
    "type": gettext_lazy("Resource type"),
    "lang": gettext_lazy("Language"),
    "year": gettext_lazy("Year"),
    "subject": gettext_lazy("Subject"),
    "author": gettext_lazy("Author"),
    "audience": gettext_lazy("Audience"),
    "availability": gettext_lazy("Availability"),
    "access": gettext_lazy("Access"),
    "branch": gettext_lazy("Branch"),
    "faculty": gettext_lazy("Faculty or department"),
    "collection": gettext_lazy("Collection"),
}
SORT_LABELS = {
    "relevance": gettext_lazy("Relevance"),
    "newest": gettext_lazy("Newest first"),
    "oldest": gettext_lazy("Oldest first"),
    "title": gettext_lazy("Title A–Z"),
    "popularity": gettext_lazy("Most popular"),
}
AVAILABILITY_LABELS = {
    "available": gettext_lazy("On the shelf now"),
    "on_loan": gettext_lazy("On loan"),
    "online": gettext_lazy("Online"),
}
SUGGESTION_LISTS = ("search-suggestions", "site-suggestions")
NOTICES = {
    "unbalanced-quote": gettext_lazy("A quotation mark was not closed"),
    "unbalanced-paren": gettext_lazy("A bracket was not closed"),
    "dangling-operator": gettext_lazy("AND, OR or NOT was missing a word"),
    "unknown-field": gettext_lazy("A field name was not recognised"),
    "bad-range": gettext_lazy("A year range was not understood"),
}


def request_from(params: Any, user: Any) -> SearchRequest:
    """The search a URL describes: q, one parameter per facet (repeatable), sort, page, size."""

    def number(name: str, default: int) -> int:
        try:
            return int(params.get(name, default))
        except (TypeError, ValueError):
            return default

    return SearchRequest(
        q=params.get("q", ""),
        filters={f: [v[:200] for v in params.getlist(f) if v][:20] for f in ALL_FACETS},
        sort=params.get("sort", "relevance"),
        page=number("page", 1),
        size=number("size", 20),
        principals=queries.principals(user),
    )


def notice_text(code: str | None) -> str:
    if not code:
        return ""
    reason = NOTICES.get(code, _("The query could not be read"))
    return _("%(reason)s, so the words were searched for instead.") % {"reason": reason}


def availability_label(value: str) -> str:
    return str(AVAILABILITY_LABELS.get(value, value))


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    search_request = request_from(request.GET, request.user)
    response = searching.search(search_request)
    if response.redirect:
        return redirect(response.redirect)
    selected = {f: list(v) for f, v in search_request.filters.items() if v}
    base = [(k, v) for k, values in request.GET.lists() if k != "page" for v in values]
    shown: dict[str, dict[str, int]] = {}
    for name in ALL_FACETS:
        shown[name] = dict(response.facets.get(name, []))
        for value in selected.get(name, []):
            shown[name].setdefault(value, 0)
    # The hits' types are named in the same call as the facets' values.
    hit_types = [str(hit.get("type", "")) for hit in response.hits]
    named = registry.facet_labels({**shown, "type": [*shown["type"], *hit_types]})
    facets = []
    for name in ALL_FACETS:
        chosen = selected.get(name, [])
        if not shown[name]:
            continue
        facets.append(
            {
                "name": name,
                "title": FACET_TITLES[name],
                "values": [
                    {"value": v, "label": named[name][v], "count": c, "selected": v in chosen}
                    for v, c in shown[name].items()
                ],
                "open": bool(chosen) or name in ("type", "lang", "year", "availability"),
            }
        )
    extras = registry.hit_extras(request, response.hits)
    for hit in response.hits:
        hit["type_label"] = named["type"][str(hit.get("type", ""))]
        hit["extra_html"] = extras.get(str(hit["key"]), "")
    context = {
        "q": search_request.q,
        "response": response,
        "facets": facets,
        "selected": [
            {"name": n, "value": v, "label": named[n][v], "remove": _without(base, n, v)}
            for n, vs in selected.items()
            for v in vs
        ],
        "sorts": [(key, SORT_LABELS[key]) for key in SORTS],
        "notice": notice_text(response.notice),
        "did_you_mean_url": "?" + urlencode({"q": response.did_you_mean})
        if response.did_you_mean
        else "",
        "page_obj": _page(response, base),
        "first": (response.page - 1) * response.size + 1,
        "last": min(response.total, response.page * response.size),
    }
    template = (
        "search/_results.html" if request.headers.get("HX-Request") else "search/results.html"
    )
    return render(request, template, context)


def _without(base: list[tuple[str, str]], name: str, value: str) -> str:
    return "?" + urlencode([(k, v) for k, v in base if not (k == name and v == value)])


def _page(response: searching.SearchResponse, base: list[tuple[str, str]]) -> dict[str, Any]:
    def link(number: int) -> str:
        return "?" + urlencode([*base, ("page", str(number))])

    return {
        "number": response.page,
        "pages": response.pages,
        "previous": link(response.page - 1) if response.page > 1 else "",
        "next": link(response.page + 1) if response.page < response.pages else "",
    }


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """Autocomplete for the search box: a small list (htmx) or JSON."""
    prefix = request.GET.get("q", "")
    suggestions = searching.suggest(prefix, queries.principals(request.user))
    if request.headers.get("HX-Request"):
        target = request.headers.get("HX-Target", "")
        if target not in SUGGESTION_LISTS:
            target = SUGGESTION_LISTS[0]
        context = {"suggestions": suggestions, "target": target}
        return render(request, "search/_suggestions.html", context)
    return JsonResponse({"suggestions": suggestions})


@require_GET
@permission_required("search.view_zeroresultquery", raise_exception=True)
def zero_results(request: HttpRequest) -> HttpResponse:
    """Queries that found nothing, for librarians: what readers look for and do not find."""
    rows = queries.readable_zero_result_queries(request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "search/zero_results.html", {"page": page})
