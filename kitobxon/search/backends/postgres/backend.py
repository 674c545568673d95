"""The backend: writing through the storage, searching with one statement per query."""

# ruff: noqa: S608 — SQL here is assembled from this module's own fragments and table names;
# every value travels as a query parameter.
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, transaction

from kitobxon.search import analysis
from kitobxon.search.backends.base import Hit, PageHit, Progress, Results, SearchQuery
from kitobxon.search.backends.postgres.compiler import (
    FUZZY_SHARE,
    MAX_RANK_CALLS,
    RANK_SCALE,
    RANK_WEIGHTS,
    Compiler,
    Cond,
    Score,
    and_all,
    token_forms,
)
from kitobxon.search.backends.postgres.storage import (
    DISPLAYS,
    DOCUMENTS,
    PAGES,
    TABLES,
    WORDS,
    WRITE_LOCK,
    Writer,
    field_lexeme,
    index_like,
    quote,
    swap,
)
from kitobxon.search.documents import (
    FULLTEXT,
    YEAR_RANGES,
    SearchDocument,
)

# --- the backend ------------------------------------------------------------------------------

ORDERS = {
    "relevance": "score DESC, popularity DESC, key",
    "newest": "year DESC NULLS LAST, key",
    "oldest": "year ASC NULLS LAST, key",
    "title": "sort_title, key",
    "popularity": "popularity DESC, key",
}


class PostgresBackend:
    name = "postgres"
    outdated = False  # its tables follow the migrations

    # --- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            yield Writer(cursor)

    def rebuild(self, batches: Iterable[Sequence[SearchDocument]], progress: Progress) -> None:
        """New tables filled beside the live ones and swapped in at commit, under the lock.

        Holding the writer's lock throughout makes a concurrent drain wait and then apply its
        (newer) documents to the new tables; a crash rolls everything back.
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}_new")
                cursor.execute(
                    f"CREATE TABLE {table}_new (LIKE {table} INCLUDING ALL EXCLUDING INDEXES)"
                )
                cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
                options = cursor.fetchone()[0]
                if options:
                    cursor.execute(f"ALTER TABLE {table}_new SET ({', '.join(options)})")
            index_like(cursor, WORDS)  # its unique index de-duplicates words across batches
            writer = Writer(cursor, suffix="_new")
            seen: set[str] = set()
            for batch in batches:
                keys = [d.key for d in batch]
                repeated = [k for k in keys if k in seen]
                if repeated:
                    writer.delete(repeated)
                seen.update(keys)
                writer.add(batch)
                progress(len(batch))
            for table in (DOCUMENTS, DISPLAYS, PAGES):
                index_like(cursor, table)  # bulk-built after the load: much faster
            for table in TABLES:
                swap(cursor, table)

    # --- reading -----------------------------------------------------------------------

    def search(self, query: SearchQuery) -> Results:
        with transaction.atomic(), connection.cursor() as cursor:
            # A sequential scan would test every record's terms (toasted when long), which the
            # GIN index answers without reading them; JIT costs more than it saves here; the
            # matches of a broad query are kept in memory.
            cursor.execute(
                "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true),"
                " set_config('work_mem', '64MB', true)"
            )
            compiler = Compiler(cursor)
            text = compiler.compile(query.text, scored=query.sort == "relevance")
            guard = and_all(*(compiler.compile(n) for n in query.guard))
            filters = {name: compiler.compile(n) for name, n in query.filters.items()}
            sql, params = _search_sql(query, and_all(text, guard), filters, compiler.score)
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        total = 0
        hits: list[tuple[int, Hit]] = []
        counts: dict[str, list[tuple[str, int]]] = {name: [] for name in query.facets}
        for part, name, value, n, score, display in rows:
            if part == "hit":
                loaded = display if isinstance(display, dict) else json.loads(display or "{}")
                hits.append((n, Hit(name, float(score or 0.0), loaded)))
            elif part == "total":
                total = int(n)
            else:
                counts.setdefault(name, []).append((value, int(n)))
        for name, buckets in counts.items():
            if name == "year":
                order = {label: i for i, (label, _, _) in enumerate(YEAR_RANGES)}
                buckets.sort(key=lambda b: order[b[0]])
            else:
                buckets.sort(key=lambda b: (-b[1], b[0]))
        hits.sort(key=lambda h: h[0])
        facets = {name: counts.get(name, []) for name in query.facets}
        return Results(total, [hit for _, hit in hits], facets)

    def pages(
        self, key: str, tokens: Sequence[analysis.QueryToken], principals: Sequence[str], limit: int
    ) -> list[PageHit]:
        if not tokens or not principals:
            return []
        lexemes = dict.fromkeys(
            quote(field_lexeme(FULLTEXT, variant, term))
            for token in tokens
            for variant, term in token_forms(token)
        )
        query = " | ".join(lexemes)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT number, text FROM search_page"
                " WHERE key = %s AND visible && %s::text[] AND terms @@ %s::tsquery"
                " ORDER BY ts_rank(%s::float4[], terms, %s::tsquery, 1) DESC, number LIMIT %s",
                [key, list(principals), query, RANK_WEIGHTS, query, limit],
            )
            return [PageHit(number, text) for number, text in cursor.fetchall()]

    def versions(self) -> Iterator[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, version FROM search_document")
            while rows := cursor.fetchmany(5000):
                yield from rows

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_document")
            return int(cursor.fetchone()[0])

    def stats(self) -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(%s::text[]) t",
                [list(TABLES)],
            )
            size = int(cursor.fetchone()[0] or 0)
        return {"backend": self.name, "documents": self.count(), "bytes": size}


def _search_sql(
    query: SearchQuery, main: Cond, filters: dict[str, Cond], score: Score
) -> tuple[str, list[Any]]:
    """One statement: the matches once, then the page of hits, the total and the facet counts.

    Facets are multi-select: each is counted under every filter but its own, so the matches
    kept are those failing at most one filter, and `miss` names the filter a row fails (-1:
    none). A row failing none counts all its facet values; a row failing only filter i counts
    only the values of facet i. All facets, the year ranges too, are counted in one pass over
    the matches' codes; only the counted codes are then looked up by name.
    """
    params: list[Any] = []

    def put(cond: Cond) -> str:
        text, cond_params = cond.sql()
        params.extend(cond_params)
        return text

    names = list(filters)
    score_sql = _score_sql(score, params) if query.sort == "relevance" else "0.0"
    flags = "".join(f", COALESCE(({put(filters[n])}), FALSE) AS f{i}" for i, n in enumerate(names))
    where = put(main)
    failing = " + ".join(f"(NOT f{i})::int" for i in range(len(names)))
    at_most_one = f"({failing}) <= 1" if len(names) > 1 else "TRUE"
    passing = " AND ".join(f"f{i}" for i in range(len(names))) or "TRUE"
    miss = (
        f"CASE WHEN {passing} THEN -1 "
        + " ".join(f"WHEN NOT f{i} THEN {i}" for i in range(len(names)))
        + " END"
        if names
        else "-1"
    )

    order = ORDERS[query.sort]
    year = "d.year" if query.sort in ("newest", "oldest") else "NULL::int"
    sort_title = "d.sort_title" if query.sort == "title" else "NULL::text"
    codes = "d.codes" if query.facets else "NULL::int[]"
    sql = [
        "WITH m AS MATERIALIZED (SELECT key, codes, year, popularity, sort_title, score,",
        f" {miss} AS miss FROM (",
        f" SELECT d.key, {codes} AS codes, {year} AS year, d.popularity,",
        f" {sort_title} AS sort_title, {score_sql} AS score{flags} FROM search_document d",
        f" WHERE {where}) s WHERE {at_most_one}),",
        " hits AS (SELECT key, score, year, popularity, sort_title FROM m",
        f" WHERE miss = -1 ORDER BY {order} LIMIT %s OFFSET %s)",
        " SELECT 'hit', x.key, NULL, x.n, x.score, d.display FROM",
        f" (SELECT hits.*, row_number() OVER (ORDER BY {order}) AS n FROM hits) x",
        " JOIN search_display d ON d.key = x.key",
        " UNION ALL SELECT 'total', NULL, NULL, count(*), NULL, NULL FROM m WHERE miss = -1",
    ]
    params += [max(query.limit, 0), max(query.offset, 0)]
    if query.facets:
        # A row failing filter i (miss = i) counts only where the value's facet is names[i].
        sql += [
            " UNION ALL SELECT 'facet', name, value, n, NULL, NULL FROM (",
            " SELECT v.name, v.value, sum(g.n) AS n,",
            " row_number() OVER (PARTITION BY v.name ORDER BY sum(g.n) DESC, v.value) AS r",
            " FROM (SELECT c, miss, count(*) AS n FROM (SELECT unnest(codes) AS c, miss FROM m) u",
            " GROUP BY c, miss) g",
            " JOIN search_facet_value v ON v.code = g.c",
            " WHERE v.name = ANY(%s) AND (g.miss = -1 OR v.name = (%s::text[])[g.miss + 1])",
            " GROUP BY v.name, v.value) f WHERE r <= %s",
        ]
        params += [list(query.facets), names, query.facet_size]
    return "\n".join(sql), params


def _score_sql(score: Score, params: list[Any]) -> str:
    """The score of a match, times the popularity tie-break."""
    parts = _score_parts(score, params)
    return f"({' + '.join(parts)}) * d.boost" if parts else "d.boost"


def _score_parts(score: Score, params: list[Any]) -> list[str]:
    """ts_rank over the bucketed labels per group of words of similar idf, phrases as bonuses,
    typos at a low share, boosted sub-queries where they match.

    A boosted group of the same words (plan.py's "all the words but one") scores what the words
    score: it multiplies their ts_rank sum instead of computing each ts_rank a second time.
    """
    ranks: list[str] = []
    rank_params: list[Any] = []
    for items, idf in _rank_groups(score.words):
        # idf twice, as classic tf·idf weighs both the query and the record (measured on
        # CISI, Cranfield and CACM: bench/relevance.py); normalization 1 divides by
        # 1 + log(length), so a long abstract does not win by its length alone.
        scale = idf * idf * len(items) * RANK_SCALE
        ranks.append(f"{scale:.6f} * ts_rank(%s::float4[], d.head, %s::tsquery, 1)")
        rank_params += [RANK_WEIGHTS, " | ".join(items)]
    words = f"({' + '.join(ranks)}) * (1 + 1.0 / (2 + d.title_len))" if ranks else ""
    factors: list[str] = []
    factor_params: list[Any] = []
    boosted: list[tuple[str, list[Any]]] = []
    for inner, condition, boost in score.boosted:
        inner_params: list[Any] = []
        inner_parts = _score_parts(inner, inner_params)
        if not inner_parts:
            continue
        matched = f"{boost:.6f} * (d.head @@ %s::tsquery)::int"
        if words and inner_parts == [words] and inner_params == rank_params:
            factors.append(matched)
            factor_params.append(condition)
        else:
            boosted.append((f"{matched} * ({' + '.join(inner_parts)})", [condition, *inner_params]))
    parts = []
    if words:
        parts.append(f"{words} * (1 + {' + '.join(factors)})" if factors else words)
        params += rank_params + factor_params
    if score.fuzzy:
        query = " | ".join(score.fuzzy)
        scale = len(score.fuzzy) * RANK_SCALE * FUZZY_SHARE
        parts.append(f"{scale:.6f} * ts_rank(%s::float4[], d.head, %s::tsquery)")
        params += [RANK_WEIGHTS, query]
    for query, bonus in score.phrases:
        parts.append(f"{bonus:.6f} * (d.head @@ %s::tsquery)::int")
        params.append(query)
    for text, boosted_params in boosted:
        parts.append(text)
        params += boosted_params
    return parts


def _rank_groups(words: list[tuple[dict[str, None], float]]) -> list[tuple[list[str], float]]:
    """Query words merged into at most MAX_RANK_CALLS groups of neighbouring idf."""
    ordered = sorted(words, key=lambda w: w[1])
    size = -(-len(ordered) // MAX_RANK_CALLS)
    groups = []
    for start in range(0, len(ordered), max(size, 1)):
        chunk = ordered[start : start + size]
        items = list(dict.fromkeys(item for word_items, _ in chunk for item in word_items))
        groups.append((items, sum(idf for _, idf in chunk) / len(chunk)))
    return groups
