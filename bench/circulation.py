"""Lending desk benchmark: `python bench/circulation.py [--database sqlite|postgres|all]`.

For each database, a fresh library under var/bench/circulation-<database>/ (PostgreSQL: the
database kitobxon_bench_circulation, dropped and re-created): N readers (students, limit 10
items), M copies of M/2 titles on one branch and a librarian with a personal access token, all
made through the services. Then a real `kitobxon serve` (gunicorn, --workers W, no job worker)
and 16 client threads with keep-alive connections, each serving its own readers:

1. check-outs: POST /api/loans {item barcode, reader's card} for every copy (distinct copies);
2. renewals: POST /api/loans/{id}/renew for every loan made;
3. for scale, GET /api/me with the same token and clients (the cost of the HTTP stack and the
   token check alone).

Reports operations/s, p50/p95/p99 latency, errors (any answer that is not 2xx: must be 0) and
double loans (copies with more than one loan in the database afterwards: must be 0), then the
same check-out and renewal through the services in this process, one at a time, which splits
the time between the domain and the HTTP stack. `--profile` adds a cProfile of in-process
check-outs. Targets (issue 6): >= 300 check-outs/s on PostgreSQL, >= 100/s on SQLite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import free_port, migrate, run_each, setup_django, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]
BENCH_DIR = ROOT / "var" / "bench"
DATABASES = ("sqlite", "postgres")
PG_DATABASE = "kitobxon_bench_circulation"
TARGET_CHECKOUTS = {"sqlite": 100.0, "postgres": 300.0}
SEED = 2026
WARMUP_PER_CLIENT = 5
ITEMS_PER_READER = 8  # students may have 10

# The JSON API (kitobxon/circulation/api.py).
CHECKOUT_PATH = "/api/loans"
RENEW_PATH = "/api/loans/{id}/renew"


def checkout_body(barcode: str, card: str) -> dict[str, str]:
    return {"item": barcode, "patron": card}


# --- numbers --------------------------------------------------------------------------------


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    n = len(ordered)
    if not n:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, int(n * 0.95) - 1)] * 1000, 2),
        "p99_ms": round(ordered[max(0, int(n * 0.99) - 1)] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


# --- the library ----------------------------------------------------------------------------


def _psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", f"{url}/postgres", "-qtAX", "-c", sql], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def environment(database: str, postgres: str, redis: str = "") -> dict[str, str]:
    data_dir = BENCH_DIR / f"circulation-{database}"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        KITOBXON_DATA_DIR=str(data_dir),
        KITOBXON_API_THROTTLE_ANONYMOUS="1000000/s",
        KITOBXON_API_THROTTLE_USER="1000000/s",
        KITOBXON_LOG_LEVEL="WARNING",
    )
    env.pop("KITOBXON_REDIS_URL", None)
    env.pop("KITOBXON_DATABASE_URL", None)
    if database == "postgres":
        env["KITOBXON_DATABASE_URL"] = f"{postgres}/{PG_DATABASE}"
    if redis:  # the scale-out set-up: job queue and cache in Redis, under our own names
        env.update(
            KITOBXON_REDIS_URL=redis,
            KITOBXON_QUEUE_NAME="kitobxon-bench-circulation",
            KITOBXON_REDIS_PREFIX="kitobxon-bench-circulation",
        )
    return env


def fresh_library(database: str, env: dict[str, str], postgres: str) -> None:
    data_dir = Path(env["KITOBXON_DATA_DIR"])
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "postgres":
        _psql(postgres, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        _psql(postgres, f"CREATE DATABASE {PG_DATABASE}")
    migrate(env, data_dir)


def populate(readers: int, copies: int, extra: int) -> dict[str, Any]:
    """Readers, titles with two copies each, a librarian and a token, through the services.

    ``extra`` copies (and readers for them) are kept aside for warm-up and the in-process
    measurement. Returns what the clients need: the token, cards, barcodes."""
    from django.db import connection

    from kitobxon.accounts import services as accounts
    from kitobxon.accounts.models import Role, Segment, User
    from kitobxon.catalogue import services as catalogue
    from kitobxon.catalogue.data import ContributorData, RecordData

    started = time.perf_counter()
    librarian = accounts.set_role(
        User.objects.create_user("kutubxonachi@bench.uz", None, full_name="Bench Librarian"),
        Role.LIBRARIAN,
        by=None,
    )
    _token, secret = accounts.create_access_token(librarian, name="bench")

    def reader(n: int) -> User:
        user = User.objects.create_user(
            f"talaba{n}@bench.uz", None, full_name=f"Talaba {n}", segment=Segment.STUDENT
        )
        return accounts.set_role(user, Role.PATRON, by=None)

    total_copies = copies + extra
    titles = (total_copies + 1) // 2
    data = [
        RecordData(
            title=f"Kitob {n}",
            contributors=[ContributorData(f"Muallif, {n % 97}")],
            year=1990 + n % 35,
            languages=["uzb"],
        )
        for n in range(titles)
    ]
    records = []
    for start in range(0, titles, 500):
        chunk = data[start : start + 500]
        saved = catalogue.save_records(chunk, by=librarian, targets=[None] * len(chunk))
        records.extend(s.record for s in saved)
    branch = catalogue.ensure_branch("markaz", "Markaziy kutubxona")
    barcodes = [
        catalogue.add_item(records[n // 2], by=librarian, branch=branch).barcode
        for n in range(total_copies)
    ]
    extra_readers = max(1, -(-extra // (ITEMS_PER_READER - 2)))
    cards = [reader(n).card_number for n in range(readers + extra_readers)]
    if connection.vendor == "postgresql":
        # Planner statistics, as autovacuum keeps them in a library that has been running:
        # without them a reader's loans of one loan type are counted by scanning every copy.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.close()
    return {
        "token": secret,
        "cards": cards[:readers],
        "barcodes": barcodes[:copies],
        "extra_cards": cards[readers:],
        "extra_barcodes": barcodes[copies:],
        "seconds": round(time.perf_counter() - started, 1),
    }


# --- the clients ----------------------------------------------------------------------------


class Client:
    """One keep-alive connection with the librarian's token."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 0, b"connection error", time.perf_counter() - started
        return response.status, data, time.perf_counter() - started


def _phase(
    port: int, token: str, jobs: list[list[tuple[str, str, Any]]]
) -> tuple[list[float], list[tuple[int, bytes]], list[Any], float]:
    """Run each client's list of (method, path, body) on its own thread and connection.

    Returns the timings, the failures (status, body), the answers' JSON in job order and the
    wall time."""
    timings: list[float] = []
    failures: list[tuple[int, bytes]] = []
    answers: list[list[Any]] = [[] for _ in jobs]
    lock = threading.Lock()

    def run(index: int) -> None:
        client = Client(port, token)
        mine: list[float] = []
        for method, path, body in jobs[index]:
            status, data, seconds = client.call(method, path, body)
            mine.append(seconds)
            if 200 <= status < 300:
                answers[index].append(json.loads(data) if data else None)
            else:
                answers[index].append(None)
                with lock:
                    failures.append((status, data[:300]))
        client.conn.close()
        with lock:
            timings.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(run, range(len(jobs))))
    elapsed = time.perf_counter() - started
    return timings, failures, [a for chunk in answers for a in chunk], elapsed


def _deal(cards: list[str], barcodes: list[str], clients: int) -> list[list[tuple[str, str]]]:
    """Copies to readers (at most ITEMS_PER_READER each), readers to clients: no two clients
    ever serve the same reader, so the figures measure parallel desks, not one queue."""
    rng = random.Random(SEED)  # noqa: S311 (a reproducible order)
    per_client: list[list[tuple[str, str]]] = [[] for _ in range(clients)]
    for n, barcode in enumerate(barcodes):
        reader = n % len(cards)
        per_client[reader % clients].append((barcode, cards[reader]))
    for chunk in per_client:
        rng.shuffle(chunk)
    return per_client


def _figures(
    timings: list[float], failures: list[tuple[int, bytes]], elapsed: float
) -> dict[str, Any]:
    return {
        "requests": len(timings),
        "per_second": round(len(timings) / elapsed, 1) if elapsed else 0.0,
        "seconds": round(elapsed, 2),
        **_percentiles(timings),
        "errors": len(failures),
        "error_examples": sorted(
            {f"{status}: {body.decode(errors='replace')}" for status, body in failures}
        )[:5],
    }


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process now: pid -> (parent pid, command line, CPU seconds used so far)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry.name)] = (
            int(fields[1]),
            command,
            (int(fields[11]) + int(fields[12])) / ticks,
        )
    return found


def _cpu_split(server_pid: int, database: str) -> dict[str, float]:
    """CPU seconds used so far by the server's processes (gunicorn), by PostgreSQL (the
    backends of the bench's database and the server's own writers, not other databases'
    backends) and by Redis."""
    processes = _processes()
    tree, pending = set(), [server_pid]
    while pending:
        pid = pending.pop()
        tree.add(pid)
        pending.extend(p for p, (parent, _c, _s) in processes.items() if parent == pid)
    server = sum(processes[p][2] for p in tree if p in processes)
    postgres = sum(
        cpu
        for _parent, command, cpu in processes.values()
        if command.startswith("postgres:")
        and (database in command or ("main:" in command and "127.0.0.1(" not in command))
    )
    redis = sum(
        cpu for _p, command, cpu in processes.values() if command.startswith("redis-server")
    )
    return {"server": server, "postgres": postgres, "redis": redis, "clients": time.process_time()}


def _cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict:
    """Milliseconds of CPU per request, by party, between two ``_cpu_split``s."""
    if not requests:
        return {}
    spent = {k: (after[k] - before[k]) * 1000 / requests for k in before}
    spent["total"] = sum(spent.values())
    return {k: round(v, 2) for k, v in spent.items()}


def over_http(
    env: dict[str, str], library: dict[str, Any], clients: int, workers: int
) -> dict[str, Any]:
    port = free_port()
    log = Path(env["KITOBXON_DATA_DIR"]) / "server.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [*KITOBXON, "serve", "--port", str(port), "--workers", str(workers), "--no-jobs"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    token = library["token"]
    try:
        wait_until_up(port, server)
        warm_cards = library["extra_cards"]
        warm = library["extra_barcodes"][: clients * WARMUP_PER_CLIENT]
        library["extra_barcodes"] = library["extra_barcodes"][len(warm) :]
        warm_jobs = [
            [("POST", CHECKOUT_PATH, checkout_body(b, c)) for b, c in chunk]
            for chunk in _deal(warm_cards, warm, clients)
        ]
        _t, warm_failures, _a, _e = _phase(port, token, warm_jobs)
        if warm_failures:
            status, body = warm_failures[0]
            raise SystemExit(f"warm-up check-out failed: {status} {body!r}")

        dealt = _deal(library["cards"], library["barcodes"], clients)
        jobs = [[("POST", CHECKOUT_PATH, checkout_body(b, c)) for b, c in chunk] for chunk in dealt]
        print(f"  {sum(map(len, jobs))} check-outs by {clients} clients …", flush=True)
        before = _cpu_split(server.pid, PG_DATABASE)
        timings, failures, answers, elapsed = _phase(port, token, jobs)
        checkouts = _figures(timings, failures, elapsed)
        checkouts["cpu_ms"] = _cpu_per_request(
            before, _cpu_split(server.pid, PG_DATABASE), len(timings)
        )

        # Each client renews the loans it made, so the same readers stay on the same client.
        loan_ids = iter(answers)
        renew_jobs = []
        for chunk in jobs:
            mine = [next(loan_ids) for _ in chunk]
            renew_jobs.append(
                [("POST", RENEW_PATH.format(id=a["id"]), None) for a in mine if a is not None]
            )
        print(f"  {sum(map(len, renew_jobs))} renewals …", flush=True)
        timings, failures, _answers, elapsed = _phase(port, token, renew_jobs)
        renewals = _figures(timings, failures, elapsed)

        me_jobs = [[("GET", "/api/me", None)] * 200 for _ in range(clients)]
        before = _cpu_split(server.pid, PG_DATABASE)
        timings, failures, _answers, elapsed = _phase(port, token, me_jobs)
        baseline = _figures(timings, failures, elapsed)
        baseline["cpu_ms"] = _cpu_per_request(
            before, _cpu_split(server.pid, PG_DATABASE), len(timings)
        )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    return {"checkouts": checkouts, "renewals": renewals, "api_me": baseline}


# --- afterwards, in this process --------------------------------------------------------------


def audit_loans(expected_loans: int, expected_renewals: int) -> dict[str, Any]:
    """Double loans and lost writes, counted in the database."""
    from django.db.models import Count, Sum

    from kitobxon.circulation.models import Loan, LoanState

    per_copy = Loan.objects.values("item_id").annotate(n=Count("id"))
    doubles = per_copy.filter(n__gt=1).count()
    open_per_copy = (
        Loan.objects.exclude(state=LoanState.RETURNED)
        .values("item_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    renewed = Loan.objects.aggregate(total=Sum("renewals"))["total"] or 0
    loans = Loan.objects.count()
    return {
        "loans": loans,
        "expected_loans": expected_loans,
        "double_loans": doubles,
        "copies_with_two_open_loans": open_per_copy,
        "renewals_recorded": renewed,
        "expected_renewals": expected_renewals,
    }


def in_process(library: dict[str, Any], count: int, profile: bool) -> dict[str, Any]:
    """The same check-out and renewal through the services directly, one at a time."""
    from kitobxon.accounts.models import User
    from kitobxon.catalogue.models import Item
    from kitobxon.circulation import services

    librarian = User.objects.get(email="kutubxonachi@bench.uz")
    cards = library["extra_cards"]
    barcodes = library["extra_barcodes"][:count]
    pairs = [(b, cards[n % len(cards)]) for n, b in enumerate(barcodes)]
    readers = {u.card_number: u for u in User.objects.filter(card_number__in=cards)}
    items = {i.barcode: i for i in Item.objects.filter(barcode__in=barcodes)}

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    loans = []
    timings = []
    for barcode, card in pairs:
        started = time.perf_counter()
        loans.append(services.check_out(items[barcode], readers[card], by=librarian))
        timings.append(time.perf_counter() - started)
    renew_timings = []
    for loan in loans:
        started = time.perf_counter()
        services.renew(loan, by=librarian)
        renew_timings.append(time.perf_counter() - started)
    if profiler is not None:
        import io
        import pstats

        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(20)
        print(out.getvalue())
    return {
        "operations": len(pairs),
        "checkout": {
            "per_second": round(len(timings) / sum(timings), 1) if timings else 0,
            **_percentiles(timings),
        },
        "renew": {
            "per_second": round(len(renew_timings) / sum(renew_timings), 1) if renew_timings else 0,
            **_percentiles(renew_timings),
        },
        "queries": _count_queries(library["extra_barcodes"][count:], readers, librarian),
    }


def _count_queries(barcodes: list[str], readers: dict[str, Any], librarian: Any) -> dict:
    """SQL statements one check-out and one renewal run (on a copy kept aside)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kitobxon.catalogue.models import Item, ItemStatus
    from kitobxon.circulation import services

    item = Item.objects.filter(status=ItemStatus.AVAILABLE, barcode__in=barcodes).first()
    reader = next(iter(readers.values()))
    if item is None:
        return {}
    with CaptureQueriesContext(connection) as checkout:
        loan = services.check_out(item, reader, by=librarian)
    with CaptureQueriesContext(connection) as renewal:
        services.renew(loan, by=librarian)
    return {"checkout": len(checkout.captured_queries), "renew": len(renewal.captured_queries)}


# --- one database, all databases ------------------------------------------------------------


def bench_database(database: str, args: argparse.Namespace) -> dict[str, Any]:
    redis = args.redis if database == "postgres" and not args.no_redis else ""
    env = environment(database, args.postgres, redis)
    print(f"[{database}] a fresh library in {env['KITOBXON_DATA_DIR']} …", flush=True)
    fresh_library(database, env, args.postgres)
    setup_django(env)
    extra = args.clients * WARMUP_PER_CLIENT + args.in_process + 1
    library = populate(args.readers, args.checkouts, extra)
    print(
        f"[{database}] {args.readers} readers, {args.checkouts + extra} copies made in "
        f"{library['seconds']} s; serving with {args.workers} workers …",
        flush=True,
    )
    http = over_http(env, library, args.clients, args.workers)
    ok_checkouts = http["checkouts"]["requests"] - http["checkouts"]["errors"]
    ok_renewals = http["renewals"]["requests"] - http["renewals"]["errors"]
    warmups = args.clients * WARMUP_PER_CLIENT
    audit = audit_loans(ok_checkouts + warmups, ok_renewals)
    direct = in_process(library, args.in_process, args.profile)
    if redis:
        from huey.contrib.djhuey import HUEY

        HUEY.flush()  # nobody consumes the bench's queue
    result = {
        "database": database,
        "redis": bool(redis),
        "clients": args.clients,
        "workers": args.workers,
        "readers": args.readers,
        "copies": args.checkouts,
        "cpus": os.cpu_count(),
        "setup_seconds": library["seconds"],
        **http,
        "database_check": audit,
        "in_process": direct,
    }
    result["targets"] = {
        f"checkouts_per_second_ge_{TARGET_CHECKOUTS[database]:g}": http["checkouts"]["per_second"]
        >= TARGET_CHECKOUTS[database],
        "zero_errors": http["checkouts"]["errors"] == 0 and http["renewals"]["errors"] == 0,
        "zero_double_loans": audit["double_loans"] == 0,
        "every_write_counted": audit["loans"] == audit["expected_loans"]
        and audit["renewals_recorded"] == audit["expected_renewals"],
    }
    return result


def print_table(results: list[dict[str, Any]]) -> None:
    for r in results:
        print()
        print(
            f"Circulation, {r['database']}{' + Redis' if r.get('redis') else ''}: "
            f"{r['clients']} clients, gunicorn {r['workers']} "
            f"workers, {r['cpus']} CPUs; {r['readers']} readers, {r['copies']} copies "
            f"(setup {r['setup_seconds']} s)"
        )
        print(
            f"  {'':<22} {'ops':>6} {'ops/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'errors':>7}"
        )
        for label, key in (
            ("check-out (HTTP)", "checkouts"),
            ("renewal (HTTP)", "renewals"),
            ("GET /api/me (HTTP)", "api_me"),
        ):
            row = r[key]
            print(
                f"  {label:<22} {row['requests']:>6} {row['per_second']:>8} {row['p50_ms']:>8} "
                f"{row['p95_ms']:>8} {row['p99_ms']:>8} {row['errors']:>7}"
            )
            for example in row["error_examples"]:
                print(f"      e.g. {example}")
        for label, key in (("check-out", "checkouts"), ("GET /api/me", "api_me")):
            cpu = r[key].get("cpu_ms") or {}
            if cpu:
                print(
                    f"  CPU ms per {label}: "
                    + ", ".join(f"{party} {ms}" for party, ms in cpu.items())
                    + f" ({r['cpus']} CPUs)"
                )
        direct = r["in_process"]
        for label, key in (("check-out (services)", "checkout"), ("renewal (services)", "renew")):
            row = direct[key]
            print(
                f"  {label:<22} {direct['operations']:>6} {row['per_second']:>8} "
                f"{row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8} {'':>7}"
            )
        check = r["database_check"]
        print(
            f"  database: {check['loans']} loans (expected {check['expected_loans']}), "
            f"double loans {check['double_loans']}, copies with two open loans "
            f"{check['copies_with_two_open_loans']}, renewals {check['renewals_recorded']} "
            f"(expected {check['expected_renewals']}); SQL per check-out "
            f"{direct['queries'].get('checkout')}, per renewal {direct['queries'].get('renew')}"
        )
        print(
            "  targets: "
            + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in r["targets"].items())
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=[*DATABASES, "all"], default="sqlite")
    parser.add_argument("--checkouts", type=int, default=3000, help="copies to lend (M)")
    parser.add_argument("--readers", type=int, default=400, help="readers (N)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--in-process", type=int, default=200, help="check-outs measured in-process"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile in-process check-outs")
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    parser.add_argument(
        "--redis",
        default=os.environ.get("KITOBXON_BENCH_REDIS", "redis://127.0.0.1:6379/13"),
        help="Redis for the PostgreSQL run's job queue and cache (the scale-out set-up)",
    )
    parser.add_argument(
        "--no-redis", action="store_true", help="PostgreSQL with the embedded SQLite job queue"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KITOBXON_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without database name",
    )
    args = parser.parse_args()
    if args.readers * ITEMS_PER_READER < args.checkouts:
        parser.error(f"--readers must be at least --checkouts / {ITEMS_PER_READER}")

    if args.database == "all":
        results = run_each(__file__, "database", DATABASES)
        print("\n=== all databases ===")
    else:
        results = [bench_database(args.database, args)]
    print_table(results)
    if args.json:
        payload: Any = results if len(results) > 1 else results[0]
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
