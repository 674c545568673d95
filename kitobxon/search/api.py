"""The search API: the results page's features as JSON, and autocomplete.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
Authentication is attached where the router is mounted (config/api.py): a token or session
makes the caller a reader with their principals; without either, the caller is a visitor.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from kitobxon.search import queries, registry, searching
from kitobxon.search.schemas import SearchOut, SearchParams, SuggestOut, hit_out
from kitobxon.search.searching import ALL_FACETS, SearchRequest
from kitobxon.search.views import notice_text

router = Router(tags=["search"])


def _principals(request: HttpRequest) -> frozenset[str]:
    user: Any = getattr(request, "auth", None)
    return queries.principals(user if getattr(user, "is_authenticated", False) else None)


@router.get("/search", response=SearchOut, summary="Search the library")
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    response = searching.search(
        SearchRequest(
            q=params.q,
            filters={name: getattr(params, name) for name in ALL_FACETS},
            sort=params.sort,
            page=params.page,
            size=params.size,
            principals=_principals(request),
        )
    )
    named = registry.facet_labels(
        {name: [v for v, _ in values] for name, values in response.facets.items()}
    )
    return {
        "total": response.total,
        "page": response.page,
        "size": response.size,
        "sort": response.sort,
        "notice": response.notice,
        "notice_text": notice_text(response.notice),
        "did_you_mean": response.did_you_mean,
        "fuzzy": response.fuzzy,
        "redirect": response.redirect,
        "hits": [hit_out(h) for h in response.hits],
        "facets": {
            name: [{"value": v, "label": named[name][v], "count": c} for v, c in values]
            for name, values in response.facets.items()
        },
    }


@router.get("/suggest", response=SuggestOut, summary="Autocomplete titles, authors and subjects")
def suggest(request: HttpRequest, q: str = "", limit: int = 8) -> dict[str, Any]:
    limit = max(1, min(limit, 20))
    return {"suggestions": searching.suggest(q[:200], _principals(request), limit)}
