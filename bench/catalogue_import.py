"""Catalogue import benchmark: `python bench/catalogue_import.py [--records N] [--postgres URL]`.

Generates N deterministic synthetic MARC21 records (kitobxon.catalogue.synthetic; cached under
var/bench/), measures pymarc's parse-only rate on the file, then imports it with
`kitobxon import` into a fresh SQLite data directory and, when given, a fresh PostgreSQL
database. Reports records/s persisted, the share of pymarc's parse-only rate, and the
importer's peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kitobxon.catalogue import synthetic  # noqa: E402

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]


def marc_file(count: int) -> Path:
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"synthetic-{count}.mrc"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        with partial.open("wb") as out:
            synthetic.write(out, count)
        partial.rename(path)
        print(f"generated {count:,} records in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def pymarc_parse_rate(path: Path) -> tuple[float, float]:
    """pymarc's parse-only rate: records per second of wall time and of CPU time."""
    from pymarc import MARCReader

    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    with path.open("rb") as handle:
        for record in MARCReader(handle, to_unicode=True, force_utf8=True):
            if record is not None:
                count += 1
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def run_import(path: Path, env: dict[str, str]) -> dict[str, object]:
    """Import in a child process; returns its summary, CPU time and peak memory.

    The CPU time is the importer's and its parsing process's together (wait4 counts the
    children the importer waited for): on a machine shared with other work it is steadier
    than the wall time.
    """
    subprocess.run([*KITOBXON, "migrate"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    child = subprocess.Popen(
        [*KITOBXON, "import", str(path), "--json", "--batch-size", "1000"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output = child.stdout.read() if child.stdout else b""
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        sys.stderr.write(child.stderr.read().decode() if child.stderr else "")
        raise SystemExit("the import failed")
    summary = json.loads(output)[0]
    return {
        "imported": summary["imported"],
        "rejected": summary["rejected"],
        "seconds": round(elapsed, 1),
        "records_per_second": round(summary["imported"] / elapsed, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "records_per_cpu_second": round(
            summary["imported"] / max(usage.ru_utime + usage.ru_stime, 1e-9), 1
        ),
        "peak_memory_mb": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KITOBXON_BENCH_POSTGRES", ""),
        help="server URL without database name, e.g. postgres://postgres@127.0.0.1:5432",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    path = marc_file(args.records)
    parse_rate, parse_cpu_rate = pymarc_parse_rate(path)
    results: dict[str, object] = {
        "records": args.records,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "pymarc_parse_only_per_second": round(parse_rate, 1),
        "pymarc_parse_only_per_cpu_second": round(parse_cpu_rate, 1),
    }
    base_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    with tempfile.TemporaryDirectory(prefix="kitobxon-bench-") as data_dir:
        sqlite = run_import(path, {**base_env, "KITOBXON_DATA_DIR": data_dir})
    sqlite["share_of_pymarc_parse_rate"] = round(
        float(sqlite["records_per_second"]) / parse_rate,  # type: ignore[arg-type]
        3,
    )
    results["sqlite"] = sqlite
    if args.postgres:
        name = f"kitobxon_bench_{os.getpid()}"
        admin = ["psql", f"{args.postgres}/postgres", "-q", "-c"]
        subprocess.run([*admin, f"CREATE DATABASE {name}"], check=True)
        try:
            with tempfile.TemporaryDirectory(prefix="kitobxon-bench-") as data_dir:
                env = {
                    **base_env,
                    "KITOBXON_DATA_DIR": data_dir,
                    "KITOBXON_DATABASE_URL": f"{args.postgres}/{name}",
                }
                postgres = run_import(path, env)
        finally:
            subprocess.run([*admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
        postgres["share_of_pymarc_parse_rate"] = round(
            float(postgres["records_per_second"]) / parse_rate,  # type: ignore[arg-type]
            3,
        )
        results["postgres"] = postgres

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"Catalogue import: {args.records:,} synthetic MARC21 records ({results['file_mb']} MB)"
        )
        print(
            f"  pymarc parse only: {parse_rate:,.0f} records/s "
            f"({parse_cpu_rate:,.0f} per CPU second)"
        )
        for name in ("sqlite", "postgres"):
            if name in results:
                r = results[name]
                assert isinstance(r, dict)
                print(
                    f"  {name:<9} {r['records_per_second']:>9,.0f} records/s persisted "
                    f"({100 * r['share_of_pymarc_parse_rate']:.0f} % of pymarc), "
                    f"{r['seconds']} s, {r['records_per_cpu_second']:,.0f} per CPU second "
                    f"({r['cpu_seconds']} s), peak memory {r['peak_memory_mb']} MB, "
                    f"{r['rejected']} rejected"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
