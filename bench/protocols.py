"""OAI-PMH ListRecords throughput: `python bench/protocols.py [--records N]
[--database sqlite|postgres] [--postgres URL] [--json out.json]`.

Builds a library of N deterministic synthetic records (kitobxon.catalogue.synthetic, imported
with `kitobxon import`; cached under var/bench/oai-<database>-<N>/), serves it with gunicorn
(2 sync workers) and harvests /oai with a plain HTTP client, one keep-alive connection,
following every resumption token, in oai_dc and in marc21. Reports records/s per format, the
mean and slowest page, and checks that every record was harvested exactly once.
Without --database it runs sqlite, then postgres when --postgres (or KITOBXON_BENCH_POSTGRES)
names a server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalogue_import import marc_file  # noqa: E402
from bench.harness import free_port, wait_until_up  # noqa: E402

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]
BENCH_DIR = ROOT / "var" / "bench"
GUNICORN = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2", "--timeout", "600"]
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def _psql(server: str, sql: str) -> str:
    command = ["psql", f"{server}/postgres", "-qtA", "-c", sql]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def library(database: str, records: int, postgres: str) -> dict[str, str]:
    """The environment of the cached bench library, importing it when absent."""
    data_dir = BENCH_DIR / f"oai-{database}-{records}"
    name = f"kitobxon_bench_oai_{records}"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["KITOBXON_DATA_DIR"] = str(data_dir)
    env.pop("KITOBXON_REDIS_URL", None)
    env.pop("KITOBXON_DATABASE_URL", None)
    marker = data_dir / "imported.json"
    exists = marker.exists()
    if database == "postgres":
        env["KITOBXON_DATABASE_URL"] = f"{postgres}/{name}"
        found = _psql(postgres, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        exists = exists and found == "1"
    if exists:
        return env
    path = marc_file(records)
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "postgres":
        _psql(postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _psql(postgres, f"CREATE DATABASE {name}")
    print(f"[{database}] importing {records:,} records …", flush=True)
    subprocess.run([*KITOBXON, "migrate", "--no-input"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    output = subprocess.run(
        [*KITOBXON, "import", str(path), "--json", "--batch-size", "1000"],
        env=env,
        check=True,
        capture_output=True,
    ).stdout
    summary = json.loads(output)[0]
    summary["seconds"] = round(time.perf_counter() - started, 1)
    marker.write_text(json.dumps(summary))
    return env


def harvest(port: int, prefix: str) -> dict[str, Any]:
    """Every page of ListRecords in ``prefix``; records/s over the whole harvest."""
    from lxml import etree

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    query = {"verb": "ListRecords", "metadataPrefix": prefix}
    identifiers: set[str] = set()
    records = deleted = pages = 0
    page_seconds: list[float] = []
    started = time.perf_counter()
    while True:
        page_started = time.perf_counter()
        connection.request("GET", "/oai?" + urllib.parse.urlencode(query))
        response = connection.getresponse()
        body = response.read()
        page_seconds.append(time.perf_counter() - page_started)
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status} on page {pages + 1}")
        root = etree.fromstring(body)
        error = root.find(f"{OAI}error")
        if error is not None:
            raise SystemExit(f"{error.get('code')}: {error.text}")
        pages += 1
        for header in root.iter(f"{OAI}header"):
            identifiers.add(header.findtext(f"{OAI}identifier") or "")
            records += 1
            deleted += header.get("status") == "deleted"
        token = root.findtext(f".//{OAI}resumptionToken")
        if not token:
            break
        query = {"verb": "ListRecords", "resumptionToken": token}
    seconds = time.perf_counter() - started
    connection.close()
    if len(identifiers) != records:
        raise SystemExit(f"{records - len(identifiers)} records were harvested twice")
    return {
        "records": records,
        "deleted": deleted,
        "pages": pages,
        "seconds": round(seconds, 1),
        "records_per_second": round(records / seconds, 1),
        "mean_page_ms": round(1000 * sum(page_seconds) / pages, 1),
        "slowest_page_ms": round(1000 * max(page_seconds), 1),
    }


def run(database: str, records: int, postgres: str) -> dict[str, Any]:
    env = library(database, records, postgres)
    port = free_port()
    log = (Path(env["KITOBXON_DATA_DIR"]) / "gunicorn.log").open("ab")
    server = subprocess.Popen(
        [*GUNICORN, "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )
    try:
        wait_until_up(port, server)
        result: dict[str, Any] = {"database": database, "catalogue": records}
        for prefix in ("oai_dc", "marc21"):
            print(f"[{database}] harvesting ListRecords {prefix} …", flush=True)
            result[prefix] = harvest(port, prefix)
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KITOBXON_BENCH_POSTGRES", ""),
        help="server URL without database name, e.g. postgres://postgres@127.0.0.1:5432",
    )
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    postgres = args.postgres or "postgres://postgres@127.0.0.1:5432"
    databases = (
        [args.database] if args.database else ["sqlite"] + (["postgres"] * bool(args.postgres))
    )
    results = [run(database, args.records, postgres) for database in databases]
    for result in results:
        for prefix in ("oai_dc", "marc21"):
            r = result[prefix]
            print(
                f"OAI-PMH ListRecords {prefix:<6} [{result['database']}] "
                f"{r['records']:,} records in {r['pages']:,} pages, {r['seconds']} s: "
                f"{r['records_per_second']:,.0f} records/s "
                f"(page mean {r['mean_page_ms']} ms, slowest {r['slowest_page_ms']} ms)"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
