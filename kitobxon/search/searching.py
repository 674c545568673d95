"""A reader's search, end to end: parse, plan, ask the backend, fall back, explain, highlight.

This is the one entry point of pages, API and CLI. It never raises on what a reader types: a
malformed query becomes a plain search with a notice, too few hits bring typo tolerance and a
"did you mean", and zero-result queries are counted (anonymously) for librarians.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kitobxon.search import analysis, plan, query, registry, services
from kitobxon.search.backends import get_backend
from kitobxon.search.backends.base import SORTS, Hit, Results, SearchQuery
from kitobxon.search.documents import FACETS, PUBLIC, split_key
from kitobxon.search.highlight import Marker

ALL_FACETS = (*FACETS[:2], "year", *FACETS[2:])
FEW_RESULTS = 5
MAX_SIZE = 100
MAX_PAGE = 500
SUGGEST_FIELDS = ("title", "authors", "subjects")


@dataclass(slots=True)
class SearchRequest:
    q: str = ""
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    size: int = 20
    principals: frozenset[str] = frozenset({PUBLIC})
    facets: Sequence[str] = ALL_FACETS
    kinds: Sequence[str] = ("record",)
    count_zero: bool = True


@dataclass(slots=True)
class SearchResponse:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, list[tuple[str, int]]]
    page: int
    size: int
    sort: str
    notice: str | None = None
    did_you_mean: str | None = None
    fuzzy: bool = False
    redirect: str | None = None

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-self.total // self.size)))


def search(request: SearchRequest) -> SearchResponse:
    size = max(1, min(request.size, MAX_SIZE))
    page = max(1, min(request.page, MAX_PAGE))
    sort = request.sort if request.sort in SORTS else "relevance"
    text = request.q.strip()[:1000]
    redirect = _identifier_redirect(text, request.principals) if text else None
    if redirect:
        return SearchResponse(0, [], {}, page, size, sort, redirect=redirect)

    parsed = query.parse(text)
    search_query = _search_query(request, parsed, size, page, sort, fuzzy=False)
    backend = get_backend()
    results = backend.search(search_query)
    fuzzy = False
    tolerant: tuple[SearchQuery, Results] | None = None
    if results.total < FEW_RESULTS and parsed.node is not None:
        fuzzy_query = _search_query(request, parsed, size, page, sort, fuzzy=True)
        fuzzy_results = backend.search(fuzzy_query)
        tolerant = fuzzy_query, fuzzy_results
        if fuzzy_results.total > results.total:
            results, fuzzy = fuzzy_results, True
    did_you_mean = _did_you_mean(text, request, tolerant) if (fuzzy or not results.total) else None
    if not results.total and text and request.count_zero and not any(request.filters.values()):
        services.count_zero_result(text)
    tokens = [t for t in analysis.analyse_query(query.plain_words(text)) if t.exact]
    marker = Marker(tokens) if tokens else None
    hits = [_hit(h, marker, tokens, request.principals) for h in results.hits]
    return SearchResponse(
        total=results.total,
        hits=hits,
        facets=results.facets,
        page=page,
        size=size,
        sort=sort,
        notice=parsed.notice,
        did_you_mean=did_you_mean,
        fuzzy=fuzzy,
    )


def _search_query(
    request: SearchRequest,
    parsed: query.ParseResult,
    size: int,
    page: int,
    sort: str,
    *,
    fuzzy: bool,
) -> SearchQuery:
    principals = sorted(request.principals)
    guard = (
        plan.Keyword("entry", ("doc",)),
        plan.Keyword("kind", tuple(request.kinds)),
        plan.Keyword("visible_to", tuple(principals)),
    )
    filters = {
        name: plan.facet_filter(name, list(values))
        for name, values in request.filters.items()
        if values and name in ALL_FACETS
    }
    return SearchQuery(
        text=plan.text_query(parsed, principals, fuzzy=fuzzy),
        guard=guard,
        filters=filters,
        facets=tuple(f for f in request.facets if f in ALL_FACETS),
        sort=sort,
        offset=(page - 1) * size,
        limit=size,
    )


def _hit(
    hit: Hit,
    marker: Marker | None,
    tokens: list[analysis.QueryToken],
    principals: frozenset[str],
) -> dict[str, Any]:
    display = dict(hit.display)
    kind, object_id = split_key(hit.key)
    display.update(key=hit.key, kind=kind, id=object_id, score=round(hit.score, 4))
    if marker is not None:
        display["title_html"] = marker.highlight(str(display.get("title", "")))
        abstract = str(display.get("abstract", ""))
        display["snippet_html"] = marker.snippet(abstract) if abstract else ""
        if display.get("has_fulltext"):
            pages = get_backend().pages(hit.key, tokens, sorted(principals), 3)
            display["pages"] = [
                {"number": p.number, "snippet_html": marker.snippet(p.text)} for p in pages
            ]
    return display


def _identifier_redirect(text: str, principals: frozenset[str]) -> str | None:
    """An ISBN, ISSN, barcode or call number typed in the box goes straight to its record."""
    key = query.looks_like_identifier(text)
    if not key:
        return None
    found = get_backend().search(
        SearchQuery(
            text=plan.Keyword("ids", (key,)),
            guard=(plan.Keyword("entry", ("doc",)), plan.Keyword("visible_to", tuple(principals))),
            limit=2,
        )
    )
    if found.total != 1:
        return None
    kind, object_id = split_key(found.hits[0].key)
    return registry.source(kind).url(object_id)


def _did_you_mean(
    text: str, request: SearchRequest, tolerant: tuple[SearchQuery, Results] | None
) -> str | None:
    """The query with each unknown word replaced by the closest word of titles and authors.

    Its words come from the first hits of the typo-tolerant search of the plain words. When the
    search just made with typo tolerance was that very search (plain words, no filters, first
    page of 20), its hits are used again rather than asked for a second time.
    """
    tokens = analysis.analyse_query(text)
    if not tokens or len(tokens) > 6:
        return None
    probe = SearchRequest(
        q=text,
        principals=request.principals,
        size=20,
        facets=(),
        kinds=request.kinds,
        count_zero=False,
    )
    parsed = query.parse(query.plain_words(text))
    probe_query = _search_query(probe, parsed, 20, 1, "relevance", fuzzy=True)
    if tolerant is not None and replace(tolerant[0], facets=()) == probe_query:
        found = tolerant[1]
    else:
        found = get_backend().search(probe_query)
    vocabulary: dict[str, str] = {}
    for hit in found.hits:
        for name in SUGGEST_FIELDS:
            value = hit.display.get(name)
            for phrase in value if isinstance(value, list) else [value or ""]:
                for word in analysis.exact_terms(str(phrase)):
                    vocabulary.setdefault(word, word)
    if not vocabulary:
        return None
    corrected = []
    changed = False
    for token in tokens:
        word = token.exact[0] if token.exact else token.text
        if word in vocabulary:
            corrected.append(word)
            continue
        best = min(vocabulary, key=lambda w: (_distance(word, w), -len(w)))
        if _distance(word, best) <= (2 if len(word) >= 8 else 1):
            corrected.append(best)
            changed = True
        else:
            corrected.append(word)
    suggestion = " ".join(corrected)
    return suggestion if changed and suggestion != text.casefold() else None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, with an early exit for words of very different length."""
    if abs(len(a) - len(b)) > 2:
        return 3
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def suggest(prefix: str, principals: frozenset[str], limit: int = 8) -> list[dict[str, str]]:
    """Autocomplete: titles, authors and subjects whose words start with what was typed."""
    node = plan.prefix_query(prefix[:200])
    if node is None:
        return []
    found = get_backend().search(
        SearchQuery(
            text=node,
            guard=(
                plan.Keyword("entry", ("doc",)),
                plan.Keyword("visible_to", tuple(sorted(principals))),
            ),
            sort="relevance",
            limit=30,
        )
    )
    typed = analysis.fold(prefix)
    seen: set[str] = set()
    suggestions: list[dict[str, str]] = []
    for hit in found.hits:
        for name in SUGGEST_FIELDS:
            value = hit.display.get(name)
            for text in value if isinstance(value, list) else [value or ""]:
                folded = analysis.fold(str(text))
                if not text or folded in seen or not _starts_words(folded, typed):
                    continue
                seen.add(folded)
                suggestions.append({"text": str(text), "field": name.rstrip("s")})
    rank = {"title": 0, "author": 1, "subject": 2}
    suggestions.sort(key=lambda s: (rank[s["field"]], len(s["text"])))
    return suggestions[:limit]


def _starts_words(folded: str, typed: str) -> bool:
    """Every typed word starts some word of the text, the last one possibly unfinished."""
    words = folded.split()
    typed_words = typed.split()
    return bool(typed_words) and all(any(w.startswith(t) for w in words) for t in typed_words)
