"""Ledger benchmark: `python bench/ledger.py [--entries N] [--database sqlite|postgres|all]`.

For each database, in its own child process (Django is set up once per process): a fresh data
directory var/bench/ledger-<database>-N/ (PostgreSQL: a throw-away database on --postgres,
dropped at the end), `kitobxon migrate`, and then:

1. Append: N entries — a seeded mix of loans, returns, renewals, digital loans, grants
   (readers as pseudonyms), metadata versions and --files real stored files — in batches of
   --batch: `services.record_many` in one transaction (queueing), then `services.integrate`
   (the sequencer), then `checkpoints.make_checkpoint(force=True)`, so the log holds one signed
   checkpoint per batch. Entries/s for queueing, integrating and both (target >= 20,000/s).
2. At size N, 1,000 seeded random leaves: `queries.inclusion_proof` (generation) and
   `merkle.verify_inclusion` (verification, target < 1 ms); 1,000 random pairs:
   `queries.consistency_proof` and `merkle.verify_consistency`; 1,000 random `queries.root_at`.
3. The database's size, and the full `ledger verify`: `kitobxon.ledger.verify.verify()` with
   its files (or `kitobxon ledger verify --no-files` in a child process when verify.py is
   absent; the figures say which ran).

`--profile` runs cProfile over the first batches of the append and prints where the time goes.
On a PostgreSQL server with autovacuum off, the bench vacuums the entry table every 10 batches
itself (timed apart), as autovacuum would: each integrated entry leaves a dead row version.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
KITOBXON = [sys.executable, "-m", "kitobxon.cli"]
DATABASES = ("sqlite", "postgres")
TARGET_APPEND_PER_SECOND = 20_000
TARGET_VERIFY_INCLUSION_MS = 1.0
SAMPLES = 1_000
SEED = 9162
FILE_BYTES = 16_384
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


# --- the entries ----------------------------------------------------------------------------------


def _files(count: int) -> list[tuple[str, str, int]]:
    """Write ``count`` seeded files to the default storage: (path, sha256, size) each."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    rng = random.Random(SEED)  # noqa: S311 - a repeatable benchmark, not a secret
    files = []
    for i in range(count):
        content = rng.randbytes(FILE_BYTES)
        path = default_storage.save(f"bench/ledger/{i:06d}.pdf", ContentFile(content))
        files.append((path, hashlib.sha256(content).hexdigest(), len(content)))
    return files


def drafts(start: int, count: int, total: int, files: list[tuple[str, str, int]]) -> Iterator[Any]:
    """Entries ``start`` … ``start + count - 1`` of the benchmark's log, always the same ones."""
    from kitobxon.ledger.services import Draft

    every = max(1, total // len(files)) if files else 0
    for n in range(start, start + count):
        at = START + timedelta(seconds=n)
        reader = n * 7919 % 20_000
        item = f"{3_000_000 + n * 31 % 400_000}"
        if every and n % every == 0 and n // every < len(files):
            i = n // every
            path, sha256, size = files[i]
            yield Draft(
                "file.registered",
                f"file:{i}",
                {"path": path, "size": size, "record": f"record:{i}"},
                sha256=sha256,
                at=at,
            )
            continue
        match n % 10:
            case 0 | 1 | 2:
                yield Draft("loan", f"loan:{n}", {"item": item, "due": "2026-12-18"}, reader, at=at)
            case 3 | 4:
                yield Draft("return", f"loan:{n - 3}", {"item": item}, reader, at=at)
            case 5:
                yield Draft("renewal", f"loan:{n - 5}", {"due": "2027-01-08"}, reader, at=at)
            case 6:
                yield Draft("digital-loan", f"digital-loan:{n}", {"record": item}, reader, at=at)
            case 7:
                yield Draft(
                    "access.granted", f"record:{n % 50_000}", {"until": "2027"}, reader, at=at
                )
            case _:
                digest = hashlib.sha256(str(n).encode()).hexdigest()
                yield Draft("metadata.published", f"record:{n % 50_000}", {"sha256": digest}, at=at)


# --- numbers --------------------------------------------------------------------------------------


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    n = len(ordered)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 4),
        "p95_ms": round(ordered[max(0, int(n * 0.95) - 1)] * 1000, 4),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 4),
        "max_ms": round(ordered[-1] * 1000, 4),
    }


# --- one database, in its own process -------------------------------------------------------------


def append(args: argparse.Namespace, files: list[tuple[str, str, int]]) -> dict[str, Any]:
    from django.db import transaction

    from kitobxon.ledger import checkpoints, services

    queueing = integrating = signing = vacuuming = 0.0
    rates: list[float] = []
    profiler = cProfile.Profile() if args.profile else None
    vacuum = _autovacuum_is_off()
    done = 0
    while done < args.entries:
        count = min(args.batch, args.entries - done)
        if profiler and done < args.batch * 3:
            profiler.enable()
        chunk = list(drafts(done, count, args.entries, files))  # the caller's work, not timed
        started = time.perf_counter()
        with transaction.atomic():
            services.record_many(chunk)
        queued = time.perf_counter()
        added = services.integrate(batch=args.batch)
        integrated = time.perf_counter()
        if profiler:
            profiler.disable()
        assert added == count, f"integrated {added} of {count}"
        checkpoints.make_checkpoint(force=True)
        queueing += queued - started
        integrating += integrated - queued
        signing += time.perf_counter() - integrated
        rates.append(count / (integrated - started))
        done += count
        if vacuum and done % (args.batch * 10) == 0:
            vacuuming += _vacuum()
        if done % (args.batch * 10) == 0 or done == args.entries:
            print(
                f"  {done:>10,} entries, {done / (queueing + integrating):,.0f}/s so far, "
                f"last batch {rates[-1]:,.0f}/s",
                file=sys.stderr,
                flush=True,
            )
    result = {
        "entries": done,
        "batch": args.batch,
        "queue_seconds": round(queueing, 2),
        "integrate_seconds": round(integrating, 2),
        "queue_per_second": round(done / queueing),
        "integrate_per_second": round(done / integrating),
        "per_second": round(done / (queueing + integrating)),
        "first_batch_per_second": round(rates[0]),
        "last_batch_per_second": round(rates[-1]),
        "checkpoints": len(rates),
        "checkpoint_ms_mean": round(signing / len(rates) * 1000, 2),
    }
    if vacuum:
        result["vacuum_seconds_not_counted"] = round(vacuuming, 1)
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        result["profile"] = out.getvalue()
    return result


def _autovacuum_is_off() -> bool:
    from django.db import connection

    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return bool(cursor.fetchone()[0] == "off")


def _vacuum() -> float:
    """Do autovacuum's work when the server has it off: integrating leaves a dead version of
    every entry row, and the sequencer's search for queued entries wades through them."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) ledger_entry")
    return time.perf_counter() - started


def proofs(size: int) -> dict[str, Any]:
    from kitobxon.ledger import merkle, queries
    from kitobxon.ledger.models import Entry

    rng = random.Random(SEED)  # noqa: S311 - a repeatable benchmark, not a secret
    root = queries.head().root_hash
    leaves = rng.sample(range(size), SAMPLES)
    hashes = dict(
        Entry.objects.filter(leaf_index__in=leaves).values_list("leaf_index", "leaf_hash")
    )
    clock = time.perf_counter
    generate, check = [], []
    for index in leaves:
        leaf = bytes(hashes[index])
        started = clock()
        proof = queries.inclusion_proof(index, size)
        made = clock()
        merkle.verify_inclusion(index, size, leaf, proof, root)
        generate.append(made - started)
        check.append(clock() - made)

    pairs = [sorted(rng.sample(range(1, size + 1), 2)) for _ in range(SAMPLES)]
    roots = {n: queries.root_at(n) for pair in pairs for n in pair}
    consistency, consistency_check = [], []
    for first, second in pairs:
        started = clock()
        proof = queries.consistency_proof(first, second)
        made = clock()
        merkle.verify_consistency(first, second, roots[first], roots[second], proof)
        consistency.append(made - started)
        consistency_check.append(clock() - made)

    root_at = []
    for n in rng.sample(range(1, size + 1), SAMPLES):
        started = clock()
        queries.root_at(n)
        root_at.append(clock() - started)
    return {
        "inclusion_proof": _percentiles(generate),
        "verify_inclusion": _percentiles(check),
        "consistency_proof": _percentiles(consistency),
        "verify_consistency": _percentiles(consistency_check),
        "root_at": _percentiles(root_at),
    }


def database_size(database: str) -> dict[str, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        if database == "postgres":
            cursor.execute(
                "SELECT pg_database_size(current_database()), "
                "pg_total_relation_size('ledger_entry'), pg_total_relation_size('ledger_node')"
            )
            whole, entries, nodes = cursor.fetchone()
            return {
                "database_mb": round(whole / 2**20, 1),
                "entry_table_mb": round(entries / 2**20, 1),
                "node_table_mb": round(nodes / 2**20, 1),
            }
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(connection.settings_dict["NAME"])
        return {"database_mb": round(path.stat().st_size / 2**20, 1)}


def full_verify(env: dict[str, str]) -> dict[str, Any]:
    try:
        from kitobxon.ledger import verify
    except ImportError:
        started = time.perf_counter()
        done = subprocess.run(
            [*KITOBXON, "ledger", "verify", "--no-files"], env=env, cwd=ROOT, capture_output=True
        )
        return {
            "how": "kitobxon ledger verify --no-files (child process)",
            "seconds": round(time.perf_counter() - started, 1),
            "ok": done.returncode == 0,
        }
    report = verify.verify(files=True)
    entries = report.counts["entries"]
    return {
        "how": "kitobxon.ledger.verify.verify(files=True), in process",
        "seconds": round(report.elapsed, 1),
        "entries_per_second": round(entries / report.elapsed),
        "ok": report.ok,
        "problems": report.problem_total,
        **{k: report.counts[k] for k in ("entries", "nodes", "checkpoints", "files")},
    }


def bench_one(args: argparse.Namespace) -> dict[str, Any]:
    """Run inside the child: the environment names the fresh data directory and database."""
    import django

    django.setup()
    env = dict(os.environ)
    files = _files(min(args.files, args.entries))
    print(f"[{args.child}] appending {args.entries:,} entries …", file=sys.stderr, flush=True)
    results: dict[str, Any] = {"database": args.child, "append": append(args, files)}
    results["load_average_after_append"] = [round(x, 1) for x in os.getloadavg()]
    if args.profile:
        return results
    print(f"[{args.child}] proofs …", file=sys.stderr, flush=True)
    results["proofs"] = proofs(args.entries)
    results["size"] = database_size(args.child)
    print(f"[{args.child}] ledger verify …", file=sys.stderr, flush=True)
    results["verify"] = full_verify(env)
    append_rate = results["append"]["per_second"]
    results["targets"] = {
        f"append_ge_{TARGET_APPEND_PER_SECOND}_per_s": append_rate >= TARGET_APPEND_PER_SECOND,
        "verify_inclusion_p95_lt_1ms": results["proofs"]["verify_inclusion"]["p95_ms"]
        < TARGET_VERIFY_INCLUSION_MS,
        "ledger_verify_ok": results["verify"]["ok"],
    }
    return results


# --- the parent: fresh places, one child per database ---------------------------------------------


def _psql(url: str, sql: str) -> None:
    subprocess.run(["psql", f"{url}/postgres", "-qtAX", "-c", sql], check=True)


def run_child(database: str, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = BENCH_DIR / f"ledger-{database}-{args.entries}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KITOBXON_", "DJANGO_")) or k == "KITOBXON_BENCH_POSTGRES"
    }
    env |= {"KITOBXON_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "config.settings"}
    name = f"kitobxon_bench_ledger_{os.getpid()}"
    if database == "postgres":
        _psql(args.postgres, f"CREATE DATABASE {name}")
        env["KITOBXON_DATABASE_URL"] = f"{args.postgres}/{name}"
    try:
        subprocess.run(
            [*KITOBXON, "migrate", "--no-input"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        command = [sys.executable, __file__, "--child", database, *_forwarded(args)]
        done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, check=True)
        return dict(json.loads(done.stdout))
    finally:
        if database == "postgres" and not args.keep:
            _psql(args.postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _forwarded(args: argparse.Namespace) -> list[str]:
    options = [
        "--entries",
        str(args.entries),
        "--batch",
        str(args.batch),
        "--files",
        str(args.files),
    ]
    return [*options, "--profile"] if args.profile else options


def print_table(results: list[dict[str, Any]]) -> None:
    for r in results:
        a = r["append"]
        print()
        print(f"Ledger, {r['database']}, {a['entries']:,} entries in batches of {a['batch']:,}")
        print(
            f"  append        {a['per_second']:>9,} entries/s  (queue {a['queue_per_second']:,}/s "
            f"in {a['queue_seconds']} s, integrate {a['integrate_per_second']:,}/s in "
            f"{a['integrate_seconds']} s; first batch {a['first_batch_per_second']:,}/s, "
            f"last {a['last_batch_per_second']:,}/s)"
        )
        print(f"  checkpoints   {a['checkpoints']} signed, {a['checkpoint_ms_mean']} ms each")
        print(f"  load average  {r['load_average_after_append']} (1, 5, 15 min) after the append")
        if "vacuum_seconds_not_counted" in a:
            print(
                "  autovacuum is off on this server: VACUUM (ANALYZE) ledger_entry every 10 "
                f"batches, {a['vacuum_seconds_not_counted']} s in all, not counted above"
            )
        if "profile" in a:
            print(a["profile"])
            continue
        print(f"  {'':<26} {'p50 ms':>9} {'p95 ms':>9} {'mean ms':>9} {'max ms':>9}")
        for label, key in (
            ("inclusion proof", "inclusion_proof"),
            ("verify inclusion", "verify_inclusion"),
            ("consistency proof", "consistency_proof"),
            ("verify consistency", "verify_consistency"),
            ("root_at", "root_at"),
        ):
            row = r["proofs"][key]
            print(
                f"  {label:<26} {row['p50_ms']:>9} {row['p95_ms']:>9} {row['mean_ms']:>9} "
                f"{row['max_ms']:>9}"
            )
        print("  size          " + ", ".join(f"{k} {v}" for k, v in r["size"].items()))
        v = r["verify"]
        rate = f", {v['entries_per_second']:,} entries/s" if "entries_per_second" in v else ""
        print(f"  ledger verify {v['seconds']} s{rate}, ok={v['ok']} ({v['how']})")
        print(
            "  targets: "
            + ", ".join(f"{k} {'ok' if ok else 'MISSED'}" for k, ok in r["targets"].items())
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=1_000, help="real stored files registered")
    parser.add_argument("--database", choices=[*DATABASES, "all"], default="sqlite")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KITOBXON_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name",
    )
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    parser.add_argument("--profile", action="store_true", help="profile the first 3 batches")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--child", choices=DATABASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.entries < SAMPLES + 1:
        parser.error(f"--entries must be more than {SAMPLES}")

    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(bench_one(args)))
        return 0
    results = [
        run_child(database, args)
        for database in (DATABASES if args.database == "all" else (args.database,))
    ]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
