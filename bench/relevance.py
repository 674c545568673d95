"""Relevance of Kitobxon search on three classic test collections, next to plain BM25.

`python bench/relevance.py [--backend tantivy|postgres|all] [--collections cisi,cranfield,cacm]
[--json out.json]`

CISI, Cranfield and CACM (shared/data/ir-*, SMART-style files) are indexed through the real
pipeline: one `SearchDocument` per document (kind "irdoc", language "en"; .T title, .A author,
.W abstract, .K subject, .B other), loaded with `backend.rebuild`, and queried through the real
planner exactly as `searching.search` builds a query. The IR queries (.T + .W) are prose, not
our query language — "TSS (Time Sharing System)" would become a required group, "OR" an
operator — so every query goes through `query.plain_words` before `query.parse`.

The baseline is a separate tantivy index with tantivy's default tokenizer (no stemming, no stop
words), fields title, author and text (.W .K .B), queried with `parse_query` (OR of the terms,
syntax characters stripped), BM25, in the same run.

Metrics, over the queries with at least one relevant document, written out below:
- nDCG@10 with linear gains: Cranfield's graded codes 1..4 (1 = complete answer) give gains
  4..1 and -1 ("no interest") gives 0; CISI and CACM are binary;
- MAP over the top 100 (average precision at cut-off 100, divided by all relevant documents);
- Recall@100. Relevant = gain > 0 (every Cranfield code but -1).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

COLLECTIONS = ("cisi", "cranfield", "cacm")
BACKENDS = ("tantivy", "postgres")
POSTGRES = "postgres://postgres@127.0.0.1:5432"
DEPTH = 100
BATCH = 500  # documents per rebuild batch
#: SMART field letter → SearchDocument text field; .X .N .C (citations, ids, codes) are left out.
FIELDS = {"T": "title", "A": "author", "W": "abstract", "K": "subject", "B": "other"}
_MARKER = re.compile(r"^\.([A-Z])(?:\s+(\S+))?\s*$")

Qrels = dict[str, dict[str, int]]  # query id → {document id: gain}


@dataclass
class Collection:
    name: str
    docs: dict[str, dict[str, str]]  # document id → {text field: text}
    queries: dict[str, str]  # judged queries only
    qrels: Qrels


# --- reading the collections ------------------------------------------------------------------


def smart_records(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(.I id, {field letter: text}) of a SMART file; a repeated field is appended."""
    record_id, fields, letter = "", defaultdict(list), ""
    for line in path.read_text(encoding="utf-8").splitlines():
        marker = _MARKER.match(line)
        if marker and marker[1] == "I":
            if record_id:
                yield record_id, {k: "\n".join(v).strip() for k, v in fields.items()}
            record_id, fields, letter = str(int(marker[2])), defaultdict(list), ""
        elif marker and not marker[2]:
            letter = marker[1]
        elif letter:
            fields[letter].append(line)
    if record_id:
        yield record_id, {k: "\n".join(v).strip() for k, v in fields.items()}


def _docs(path: Path) -> dict[str, dict[str, str]]:
    docs = {}
    for doc_id, fields in smart_records(path):
        text = {FIELDS[k]: v for k, v in fields.items() if k in FIELDS and v}
        if "author" in text:  # one name a line
            text["author"] = "; ".join(text["author"].splitlines())
        docs[doc_id] = text
    return docs


def _queries(path: Path) -> list[tuple[str, str]]:
    records = smart_records(path)
    return [(qid, " ".join(f[k] for k in "TW" if f.get(k))) for qid, f in records if qid != "0"]


def _qrels(path: Path, gain: Callable[[list[str]], int]) -> Qrels:
    qrels: Qrels = defaultdict(dict)
    for line in path.read_text(encoding="utf-8").splitlines():
        if parts := line.split():
            qrels[str(int(parts[0]))][str(int(parts[1]))] = gain(parts)
    return qrels


def _cranfield_gain(parts: list[str]) -> int:
    """Cleverdon's code 1 (complete answer) … 4 (minimum interest) → 4 … 1; -1 → 0."""
    code = int(parts[2])
    return 5 - code if 1 <= code <= 4 else 0


def load(name: str) -> Collection:
    if name == "cisi":
        base = DATA / "ir-cisi"
        docs, queries = _docs(base / "CISI.ALL"), _queries(base / "CISI.QRY")
        qrels = _qrels(base / "CISI.REL", lambda _: 1)
    elif name == "cranfield":
        base = DATA / "ir-cranfield"
        docs = _docs(base / "cran.all.1400")
        # cranqrel numbers the queries 1..225 in file order, not by their .I ids.
        queries = [(str(n), text) for n, (_, text) in enumerate(_queries(base / "cran.qry"), 1)]
        qrels = _qrels(base / "cranqrel", _cranfield_gain)
    elif name == "cacm":
        base = DATA / "ir-cacm"
        docs, queries = _docs(base / "cacm.all"), _queries(base / "query.text")
        qrels = _qrels(base / "qrels.text", lambda _: 1)
    else:
        raise SystemExit(f"unknown collection {name!r}; choose from {', '.join(COLLECTIONS)}")
    judged = {q: text for q, text in queries if any(g > 0 for g in qrels.get(q, {}).values())}
    return Collection(name, docs, judged, {q: qrels[q] for q in judged})


# --- metrics ----------------------------------------------------------------------------------


def ndcg(ranking: list[str], gains: dict[str, int], k: int = 10) -> float:
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def average_precision(ranking: list[str], gains: dict[str, int], k: int = DEPTH) -> float:
    relevant = {d for d, g in gains.items() if g > 0}
    found, total = 0, 0.0
    for i, doc in enumerate(ranking[:k], 1):
        if doc in relevant:
            found += 1
            total += found / i
    return total / len(relevant)


def recall(ranking: list[str], gains: dict[str, int], k: int = DEPTH) -> float:
    relevant = {d for d, g in gains.items() if g > 0}
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def evaluate(collection: Collection, run: dict[str, list[str]]) -> dict[str, float]:
    per_query = [
        (ndcg(run[q], g), average_precision(run[q], g), recall(run[q], g))
        for q, g in collection.qrels.items()
    ]
    n = len(per_query)
    return {
        "ndcg@10": sum(p[0] for p in per_query) / n,
        "map@100": sum(p[1] for p in per_query) / n,
        "recall@100": sum(p[2] for p in per_query) / n,
    }


# --- the baseline: tantivy's default tokenizer and query parser -------------------------------


def baseline(collection: Collection) -> tuple[dict[str, list[str]], float]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in ("title", "author", "text"):
        builder.add_text_field(name)  # tokenizer "default": split, lowercase, no stemming
    index = tantivy.Index(builder.build())  # in memory
    started = time.perf_counter()
    writer = index.writer(128_000_000, 1)
    for doc_id, text in collection.docs.items():
        body = "\n".join(text.get(f, "") for f in ("abstract", "subject", "other"))
        writer.add_document(
            tantivy.Document(
                id=doc_id, title=text.get("title", ""), author=text.get("author", ""), text=body
            )
        )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    seconds = time.perf_counter() - started
    searcher = index.searcher()
    run = {}
    for qid, text in collection.queries.items():
        words = " ".join(re.findall(r"\w+", text.lower()))  # no syntax left; lowercase: no AND/OR
        parsed = index.parse_query(words, ["title", "author", "text"])
        hits = searcher.search(parsed, DEPTH).hits
        run[qid] = [searcher.doc(address)["id"][0] for _score, address in hits]
    return run, seconds


# --- Kitobxon's pipeline ----------------------------------------------------------------------


def setup_django(postgres_db: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["KITOBXON_DATA_DIR"] = tempfile.mkdtemp(prefix="kitobxon-relevance-")
    if postgres_db:
        os.environ["KITOBXON_DATABASE_URL"] = f"{POSTGRES}/{postgres_db}"
    import django

    django.setup()
    if postgres_db:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def ours(backend_name: str, collection: Collection) -> tuple[dict[str, list[str]], float]:
    from kitobxon.search import plan, query
    from kitobxon.search.backends import get_backend
    from kitobxon.search.backends.base import SearchQuery
    from kitobxon.search.documents import PUBLIC, SearchDocument, split_key

    backend = get_backend(backend_name)
    documents = [
        SearchDocument(
            kind="irdoc",
            id=doc_id,
            language="en",
            text=text,
            visible_to=[PUBLIC],
            display={"title": text.get("title", "")},
        )
        for doc_id, text in collection.docs.items()
    ]
    batches = [documents[i : i + BATCH] for i in range(0, len(documents), BATCH)]
    started = time.perf_counter()
    backend.rebuild(batches, lambda _n: None)
    seconds = time.perf_counter() - started
    guard = (  # as searching._search_query
        plan.Keyword("entry", ("doc",)),
        plan.Keyword("kind", ("irdoc",)),
        plan.Keyword("visible_to", (PUBLIC,)),
    )
    run = {}
    for qid, text in collection.queries.items():
        parsed = query.parse(query.plain_words(text))
        tree = plan.text_query(parsed, {PUBLIC})
        found = backend.search(SearchQuery(text=tree, guard=guard, limit=DEPTH))
        run[qid] = [split_key(hit.key)[1] for hit in found.hits]
    return run, seconds


def misread_by_parse(collection: Collection) -> int:
    """Queries that `query.parse` would not read as plain words (why plain_words is used)."""
    from kitobxon.search import query

    return sum(
        1
        for text in collection.queries.values()
        if (parsed := query.parse(text)).notice or not parsed.plain
    )


# --- running ----------------------------------------------------------------------------------


def _postgres_database(action: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    parser.add_argument("--collections", default=",".join(COLLECTIONS))
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args()
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    collections = [load(name.strip()) for name in args.collections.split(",") if name.strip()]

    postgres_db = f"kitobxon_relevance_{uuid.uuid4().hex[:8]}" if "postgres" in backends else ""
    if postgres_db:
        _postgres_database("create", postgres_db)
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        setup_django(postgres_db)
        for collection in collections:
            rows = {}
            run, seconds = baseline(collection)
            rows["baseline"] = {**evaluate(collection, run), "index_s": seconds}
            for name in backends:
                run, seconds = ours(name, collection)
                rows[name] = {**evaluate(collection, run), "index_s": seconds}
            results[collection.name] = rows
            _print_table(collection, rows)
    finally:
        if postgres_db:
            from django.db import connections

            connections.close_all()
            _postgres_database("drop", postgres_db)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _print_table(collection: Collection, rows: dict[str, dict[str, float]]) -> None:
    print(
        f"\n{collection.name}: {len(collection.docs)} documents, {len(collection.queries)} "
        f"judged queries ({misread_by_parse(collection)} that query.parse would misread)"
    )
    print(f"{'':<10} {'nDCG@10':>8} {'MAP@100':>8} {'R@100':>8} {'index s':>8}")
    for name, r in rows.items():
        print(
            f"{name:<10} {r['ndcg@10']:>8.4f} {r['map@100']:>8.4f} {r['recall@100']:>8.4f} "
            f"{r['index_s']:>8.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
