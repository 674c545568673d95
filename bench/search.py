"""Search speed benchmark: `python bench/search.py [--records N] [--backend tantivy|postgres|all]`.

For each backend: a library of N synthetic MARC21 records (kitobxon.catalogue.synthetic), imported
once and kept under var/bench/ (tantivy: SQLite in var/bench/search-tantivy-N/; postgres: the
database kitobxon_bench_N with var/bench/search-postgres-N/ as its data directory; --fresh
re-creates them). The import time is printed for information only. Then:

1. Index build: `kitobxon reindex --json` in a child process: documents/s, index size, peak RSS
   (`--only build` stops here).
2. End to end: a fixed, seeded mix of queries (one word, several words, a phrase, a typo, fielded,
   two facet filters; every answer carries facet counts) replayed through /api/search of a real
   `kitobxon serve` (gunicorn, 2 workers) by 8 client threads with keep-alive connections, after a
   warm-up; then once more by a single client, which shows the cost of the stack without queueing.
3. Raw: the same queries in this process, one after another: `searching.search` (parse, plan,
   backend, fallbacks, highlighting) and, inside it, the time spent in `backend.search` alone;
   then, for the first 200, page 2 right after page 1 (a reader's next step: the same facet
   counts, which the tantivy backend remembers unless KITOBXON_SEARCH_FACET_CACHE=0).

Reports p50/p95/p99 latency, throughput, index size and peak memory, and the end-to-end / raw
ratio; also the CPU the server's processes and the client threads spent per query during the
8-client replay, which, unlike latency, does not grow with queueing. `--backend all` runs each
backend in its own child process (Django is set up once per process) and prints a combined table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalogue_import import marc_file  # noqa: E402
from harness import free_port, run_each, setup_django, wait_until_up  # noqa: E402

from kitobxon.catalogue import synthetic  # noqa: E402

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]
BENCH_DIR = ROOT / "var" / "bench"
BACKENDS = ("tantivy", "postgres")
TARGET_P95_MS = {"tantivy": 50.0, "postgres": 150.0}
TARGET_INDEX_PER_SECOND = 5000.0
TARGET_RATIO = 2.0
SEED = 2026
WARMUP = 200

# --- the query mix --------------------------------------------------------------------------------

#: Kind → share of the mix.
MIX = {
    "word": 0.2,
    "words": 0.2,
    "phrase": 0.15,
    "typo": 0.15,
    "fielded": 0.15,
    "filters": 0.15,
}
LATIN = "abcdefghijklmnopqrstuvwxyz"
CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяўқғҳ"
YEAR_LABELS = ("2021..", "2011..2020", "2001..2010", "1991..2000", "1951..1990", "..1950")


def _typo(rng: random.Random, word: str) -> str:
    """One edit (substitution, deletion, insertion or transposition) of a word of 4+ letters."""
    letters = CYRILLIC if any("а" <= c <= "я" or c in "ўқғҳё" for c in word) else LATIN
    while True:
        i = rng.randrange(len(word))
        edit = rng.choice(("sub", "del", "ins", "swap"))
        if edit == "sub":
            typo = word[:i] + rng.choice(letters) + word[i + 1 :]
        elif edit == "del":
            typo = word[:i] + word[i + 1 :]
        elif edit == "ins":
            typo = word[:i] + rng.choice(letters) + word[i:]
        else:
            i = min(i, len(word) - 2)
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if typo != word:
            return typo


def query_mix(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """A fixed list of queries built from the synthetic catalogue's vocabulary."""
    rng = random.Random(seed)  # noqa: S311 (a fixed, reproducible mix)
    scripts = list(synthetic.WORDS)
    weights = [40, 15, 10, 20, 15]  # as the generator picks them
    kinds = [k for k, share in MIX.items() for _ in range(round(share * count))]
    while len(kinds) < count:
        kinds.append("word")
    kinds = kinds[:count]
    rng.shuffle(kinds)
    queries = []
    for kind in kinds:
        script = rng.choices(scripts, weights)[0]
        words = synthetic.WORDS[script]
        lang = synthetic.LANGUAGE_CODES[script]
        q = ""
        filters: dict[str, list[str]] = {}
        if kind == "word":
            q = rng.choice(words)
        elif kind == "words":
            q = " ".join(rng.sample(words, rng.randint(2, 4)))
        elif kind == "phrase":
            q = '"' + " ".join(rng.sample(words, 2)) + '"'
        elif kind == "typo":
            q = _typo(rng, rng.choice([w for w in words if len(w) >= 4]))
        elif kind == "fielded":
            form = rng.choice(("title", "author", "year", "lang"))
            if form == "title":
                q = f"title:{rng.choice(words)}"
            elif form == "author":
                q = f"author:{rng.choice(synthetic.SURNAMES[script])}"
            elif form == "year":
                lo = rng.randint(1930, 2020)
                q = f"{rng.choice(words)} year:{lo}..{lo + rng.randint(0, 10)}"
            else:
                q = f"{rng.choice(words)} lang:{lang}"
        else:
            q = rng.choice(words) if rng.random() < 0.75 else ""
            pair = rng.choice(("type+lang", "lang+year", "subject+lang", "type+year"))
            if "type" in pair:
                filters["type"] = ["book"]
            if "lang" in pair:
                filters["lang"] = [lang]
            if "year" in pair:
                filters["year"] = [rng.choice(YEAR_LABELS)]
            if "subject" in pair:
                filters["subject"] = [rng.choice(synthetic.SUBJECTS[:8])]
        queries.append({"kind": kind, "q": q, "filters": filters})
    return queries


def _path(query: dict[str, Any]) -> str:
    params = [("q", query["q"])] + [(k, v) for k, vs in query["filters"].items() for v in vs]
    return "/api/search?" + urllib.parse.urlencode(params)


# --- numbers --------------------------------------------------------------------------------------


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    n = len(ordered)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, int(n * 0.95) - 1)] * 1000, 2),
        "p99_ms": round(ordered[max(0, int(n * 0.99) - 1)] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def _by_kind(queries: list[dict[str, Any]], timings: list[float]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[float]] = {}
    for query, seconds in zip(queries, timings, strict=True):
        groups.setdefault(query["kind"], []).append(seconds)
    return {
        kind: {k: v for k, v in _percentiles(ts).items() if k in ("p50_ms", "p95_ms")}
        for kind, ts in groups.items()
    }


# --- data -----------------------------------------------------------------------------------------


def _psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", f"{url}/postgres", "-qtAX", "-c", sql], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _child(command: list[str], env: dict[str, str], log: Path) -> tuple[str, float, float]:
    """Run a child to the end: (stdout, seconds, peak RSS in MB); its stderr goes to `log`."""
    started = time.perf_counter()
    with log.open("ab") as err:
        child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        output = child.stdout.read() if child.stdout else b""
        _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.stderr.write(log.read_text()[-4000:])
        raise SystemExit(f"{' '.join(command[2:])} failed; see {log}")
    return output.decode(), seconds, usage.ru_maxrss / 1024


def dataset(backend: str, records: int, postgres: str, fresh: bool) -> tuple[dict[str, str], dict]:
    """The environment of the cached library for (backend, records), importing it when absent."""
    data_dir = BENCH_DIR / f"search-{backend}-{records}"
    database = f"kitobxon_bench_{records}"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        KITOBXON_DATA_DIR=str(data_dir),
        KITOBXON_SEARCH_BACKEND=backend,
        KITOBXON_API_THROTTLE_ANONYMOUS="1000000/s",
        KITOBXON_API_THROTTLE_USER="1000000/s",
    )
    env.pop("KITOBXON_REDIS_URL", None)  # the outbox is cleared below; no worker drains it
    marker = data_dir / "imported.json"
    exists = marker.exists()
    if backend == "postgres":
        env["KITOBXON_DATABASE_URL"] = f"{postgres}/{database}"
        exists = exists and bool(
            _psql(
                postgres,
                f"SELECT 1 FROM pg_database WHERE datname = '{database}'",  # noqa: S608 (our name)
            )
        )
    if exists and not fresh:
        summary = json.loads(marker.read_text())
        summary["cached"] = True
        return env, summary

    path = marc_file(records)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if backend == "postgres":
        _psql(postgres, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        _psql(postgres, f"CREATE DATABASE {database}")
    log = data_dir / "bench.log"
    print(f"[{backend}] importing {records:,} records into {data_dir} …", flush=True)
    _child([*KITOBXON, "migrate", "--no-input"], env, log)
    output, seconds, peak = _child(
        [*KITOBXON, "import", str(path), "--json", "--batch-size", "1000"], env, log
    )
    imported = json.loads(output)[0]
    # The import queued every record in the search outbox; the rebuild measured below covers
    # them all, so the outbox is emptied here rather than drained a second time by `reindex`.
    _child(
        [
            *KITOBXON,
            "manage",
            "shell",
            "-c",
            "from django.db import connection; "
            "connection.cursor().execute('DELETE FROM search_pendingchange')",
        ],
        env,
        log,
    )
    summary = {
        "imported": imported["imported"],
        "rejected": imported["rejected"],
        "seconds": round(seconds, 1),
        "records_per_second": round(imported["imported"] / seconds, 1),
        "peak_rss_mb": round(peak, 1),
    }
    marker.write_text(json.dumps(summary))
    summary["cached"] = False
    print(
        f"[{backend}] imported {summary['imported']:,} in {summary['seconds']} s "
        f"({summary['records_per_second']:,.0f}/s; not a search figure)",
        flush=True,
    )
    return env, summary


def reindex(backend: str, env: dict[str, str]) -> dict[str, Any]:
    data_dir = Path(env["KITOBXON_DATA_DIR"])
    print(f"[{backend}] kitobxon reindex …", flush=True)
    output, seconds, peak = _child([*KITOBXON, "reindex", "--json"], env, data_dir / "bench.log")
    summary = json.loads(output.strip().splitlines()[-1])
    return {
        "documents": summary["documents"],
        "seconds": summary["seconds"],
        "process_seconds": round(seconds, 1),
        "per_second": summary["per_second"],
        "index_bytes": summary["bytes"],
        "index_mb": round(summary["bytes"] / 2**20, 1),
        "peak_rss_mb": round(peak, 1),
    }


# --- end to end -----------------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def _peak_rss_mb(pid: int) -> tuple[float, float]:
    """(sum over the process tree, largest single process) of the peak resident set, in MB."""
    peaks = []
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return round(sum(peaks), 1), round(max(peaks, default=0.0), 1)


def replay(
    port: int, queries: list[dict[str, Any]], clients: int
) -> tuple[list[float], list[int], float]:
    """Each query once, handed out in order to `clients` threads: (seconds, totals, elapsed)."""
    timings = [0.0] * len(queries)
    totals = [0] * len(queries)
    paths = [_path(q) for q in queries]
    cursor = iter(range(len(queries)))
    lock = threading.Lock()

    def worker(_: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                conn.close()
                return
            started = time.perf_counter()
            conn.request("GET", paths[i])
            response = conn.getresponse()
            body = response.read()
            timings[i] = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"{paths[i]} answered {response.status}: {body[:300]!r}")
            totals[i] = int(json.loads(body)["total"])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    return timings, totals, time.perf_counter() - started


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by `pid` and its descendants (live ones)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def end_to_end(
    backend: str, env: dict[str, str], queries: list[dict[str, Any]], clients: int
) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [*KITOBXON, "serve", "--port", str(port), "--workers", "2", "--no-jobs"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_up(port, server)
        print(f"[{backend}] replaying {len(queries)} queries over HTTP …", flush=True)
        replay(port, warmup_queries(), clients)
        server_cpu, client_cpu = _cpu_seconds(server.pid), time.process_time()
        timings, totals, elapsed = replay(port, queries, clients)
        server_cpu = _cpu_seconds(server.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        server_total, server_largest = _peak_rss_mb(server.pid)
        single, _totals, single_elapsed = replay(port, queries, 1)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    return {
        "clients": clients,
        "queries": len(queries),
        "queries_per_second": round(len(queries) / elapsed, 1),
        **_percentiles(timings),
        "server_peak_rss_mb": server_total,
        "largest_process_peak_rss_mb": server_largest,
        # CPU per query whatever the queueing: what the server's stack costs, like for like
        # with the backend's time measured alone; and what the 8 client threads took of it.
        "server_cpu_ms_per_query": round(server_cpu / len(queries) * 1000, 2),
        "client_cpu_ms_per_query": round(client_cpu / len(queries) * 1000, 2),
        "by_kind": _by_kind(queries, timings),
        "one_client": {
            "queries_per_second": round(len(queries) / single_elapsed, 1),
            **_percentiles(single),
        },
        "_timings": timings,
        "_single": single,
        "_totals": totals,
    }


#: Searches whose second page is timed right after their first (`raw`).
NEXT_PAGES = 200


def warmup_queries() -> list[dict[str, Any]]:
    return query_mix(WARMUP, seed=SEED + 1)


# --- raw, in this process -------------------------------------------------------------------------


def raw(backend: str, queries: list[dict[str, Any]]) -> dict[str, Any]:
    from kitobxon.search import searching
    from kitobxon.search.backends import get_backend

    engine = get_backend()
    original = engine.search
    spent = [0.0]

    def timed(query: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(query)
        finally:
            spent[0] += time.perf_counter() - started

    engine.search = timed  # type: ignore[method-assign]

    def run(query: dict[str, Any], page: int = 1) -> tuple[float, float, int]:
        spent[0] = 0.0
        started = time.perf_counter()
        response = searching.search(
            searching.SearchRequest(q=query["q"], filters=dict(query["filters"]), page=page)
        )
        return time.perf_counter() - started, spent[0], response.total

    print(f"[{backend}] running the same queries in-process …", flush=True)
    for query in warmup_queries():
        run(query)
    measured = [run(q) for q in queries]
    # A reader's next step: the second page of a search just made (same counts, other hits).
    next_pages = []
    for query in queries[:NEXT_PAGES]:
        run(query)
        next_pages.append(run(query, 2)[0])
    engine.search = original  # type: ignore[method-assign]
    search_times = [m[0] for m in measured]
    backend_times = [m[1] for m in measured]
    return {
        "searching": _percentiles(search_times),
        "backend": {**_percentiles(backend_times), "by_kind": _by_kind(queries, backend_times)},
        "next_page": _percentiles(next_pages),
        "_search_times": search_times,
        "_backend_times": backend_times,
        "_totals": [m[2] for m in measured],
    }


def profile_reindex(limit: int) -> dict[str, Any]:
    """cProfile of an in-process rebuild (of the whole dataset): where the time goes."""
    import cProfile
    import io
    import pstats

    from kitobxon.search import indexing

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    count = indexing.reindex()
    profiler.disable()
    seconds = time.perf_counter() - started
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    print(out.getvalue())
    return {"documents": count, "seconds": round(seconds, 1), "per_second": count / seconds}


# --- one backend, all backends --------------------------------------------------------------------


def bench_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    env, imported = dataset(backend, args.records, args.postgres, args.fresh)
    results: dict[str, Any] = {"backend": backend, "records": args.records, "import": imported}
    if args.prepare_only:
        return results
    if args.profile:
        setup_django(env)
        results["profile"] = profile_reindex(40)
        return results
    if not args.no_reindex:
        results["index"] = reindex(backend, env)
    if args.only == "build":
        index = results.get("index", {})
        results["targets"] = {
            "index_per_second_ge_5000": bool(index)
            and index["per_second"] >= TARGET_INDEX_PER_SECOND
        }
        return results
    queries = query_mix(args.queries)
    (BENCH_DIR / "search-queries.json").write_text(
        json.dumps(queries, ensure_ascii=False, indent=0)
    )
    http = end_to_end(backend, env, queries, args.clients)
    setup_django(env)
    direct = raw(backend, queries)
    differing = sum(
        1 for a, b in zip(http.pop("_totals"), direct.pop("_totals"), strict=True) if a != b
    )
    timings, single = http.pop("_timings"), http.pop("_single")
    backend_times = direct.pop("_backend_times")
    search_times = direct.pop("_search_times")
    mean = statistics.fmean
    results.update(
        http=http,
        raw=direct,
        totals_differing=differing,
        ratio={
            "p50_vs_backend": round(
                statistics.median(timings) / statistics.median(backend_times), 2
            ),
            "mean_vs_backend": round(mean(timings) / mean(backend_times), 2),
            "p50_vs_searching": round(
                statistics.median(timings) / statistics.median(search_times), 2
            ),
            "mean_vs_searching": round(mean(timings) / mean(search_times), 2),
            "one_client_p50_vs_backend": round(
                statistics.median(single) / statistics.median(backend_times), 2
            ),
            "one_client_mean_vs_backend": round(mean(single) / mean(backend_times), 2),
            "server_cpu_vs_backend": round(
                http["server_cpu_ms_per_query"] / (mean(backend_times) * 1000), 2
            ),
        },
        bench_process_peak_rss_mb=round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    )
    targets = {}
    if "index" in results:  # --no-reindex measures no build
        targets["index_per_second_ge_5000"] = (
            results["index"]["per_second"] >= TARGET_INDEX_PER_SECOND
        )
    targets[f"p95_le_{TARGET_P95_MS[backend]:g}ms"] = http["p95_ms"] <= TARGET_P95_MS[backend]
    targets["end_to_end_mean_le_2x_backend"] = results["ratio"]["mean_vs_backend"] <= TARGET_RATIO
    results["targets"] = targets
    return results


def print_table(all_results: list[dict[str, Any]]) -> None:
    for r in all_results:
        imp = r["import"]
        print()
        print(
            f"Search, {r['backend']}, {r['records']:,} synthetic records "
            f"(import {imp['seconds']} s, {imp['records_per_second']:,.0f}/s"
            f"{', cached' if imp.get('cached') else ''}; not a search figure)"
        )
        if "index" not in r and "http" not in r and "profile" not in r:
            continue
        if "profile" in r:
            print(f"  profiled rebuild: {r['profile']['per_second']:,.0f} documents/s")
            continue
        if "index" in r:
            ix = r["index"]
            print(
                f"  index build   {ix['per_second']:>9,.0f} docs/s  {ix['documents']:,} docs in "
                f"{ix['seconds']} s  size {ix['index_mb']} MB  peak RSS {ix['peak_rss_mb']} MB"
            )
        if "http" not in r:
            continue
        h, raw_ = r["http"], r["raw"]
        print(f"  {'':<26} {'q/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        rows = [
            (f"HTTP, {h['clients']} clients", h),
            ("HTTP, 1 client", h["one_client"]),
        ]
        for label, row in rows:
            print(
                f"  {label:<26} {row['queries_per_second']:>7} {row['p50_ms']:>8} "
                f"{row['p95_ms']:>8} {row['p99_ms']:>8} {row['mean_ms']:>8}"
            )
        for label, row in (
            ("searching.search", raw_["searching"]),
            ("backend.search", raw_["backend"]),
            ("page 2 right after page 1", raw_["next_page"]),
        ):
            print(
                f"  {label:<26} {'':>7} {row['p50_ms']:>8} {row['p95_ms']:>8} "
                f"{row['p99_ms']:>8} {row['mean_ms']:>8}"
            )
        ratio = r["ratio"]
        print(
            f"  end-to-end / backend: p50 {ratio['p50_vs_backend']}×, mean "
            f"{ratio['mean_vs_backend']}× (1 client: p50 {ratio['one_client_p50_vs_backend']}×, "
            f"mean {ratio['one_client_mean_vs_backend']}×); / searching.search: p50 "
            f"{ratio['p50_vs_searching']}×, mean {ratio['mean_vs_searching']}×"
        )
        print(
            f"  CPU per query with {h['clients']} clients: server "
            f"{h['server_cpu_ms_per_query']} ms ({ratio['server_cpu_vs_backend']}× the backend's "
            f"mean time alone), the clients "
            f"{h['client_cpu_ms_per_query']} ms"
        )
        print(
            f"  server peak RSS {h['server_peak_rss_mb']} MB (largest process "
            f"{h['largest_process_peak_rss_mb']} MB); totals differing HTTP vs raw: "
            f"{r['totals_differing']}"
        )
        kinds = h["by_kind"]
        print(
            "  p50/p95 ms by kind (HTTP 8 clients | backend): "
            + "; ".join(
                f"{k} {v['p50_ms']:.0f}/{v['p95_ms']:.0f} | "
                f"{raw_['backend']['by_kind'][k]['p50_ms']:.0f}/"
                f"{raw_['backend']['by_kind'][k]['p95_ms']:.0f}"
                for k, v in kinds.items()
            )
        )
        print(
            "  targets: "
            + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in r["targets"].items())
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="tantivy")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KITOBXON_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name",
    )
    parser.add_argument("--fresh", action="store_true", help="re-create the cached libraries")
    parser.add_argument("--no-reindex", action="store_true", help="search the existing index")
    parser.add_argument(
        "--prepare-only", action="store_true", help="only import the cached library"
    )
    parser.add_argument(
        "--profile", action="store_true", help="only profile an in-process rebuild (cProfile)"
    )
    parser.add_argument(
        "--only",
        choices=["build"],
        help="build: only the index build (`kitobxon reindex`), no queries",
    )
    args = parser.parse_args()

    if args.backend == "all":
        results = run_each(__file__, "backend", BACKENDS)
        print("\n=== all backends ===")
    else:
        results = [bench_backend(args.backend, args)]
    print_table(results)
    if args.json:
        payload: Any = results if len(results) > 1 else results[0]
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
