"""Kitobxon benchmarks: `make bench` (or `python bench/run.py [--requests N] [--json]`).

Each capability adds its figures here. The foundation measures what every page pays for:
a real `kitobxon serve` (gunicorn, 2 workers) on a fresh data directory with the demo library,
hit over loopback by a few client threads. Reports requests per second and latency percentiles.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KITOBXON = [sys.executable, "-m", "kitobxon.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not come up")


def _measure(port: int, path: str, headers: dict[str, str], total: int, threads: int) -> dict:
    per_thread = total // threads

    def worker(_: int) -> list[float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        timings = []
        for _i in range(per_thread):
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            timings.append(time.perf_counter() - started)
        return timings

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        timings = [t for chunk in pool.map(worker, range(threads)) for t in chunk]
    elapsed = time.perf_counter() - started
    timings.sort()
    return {
        "path": path,
        "requests": len(timings),
        "requests_per_second": round(len(timings) / elapsed, 1),
        "p50_ms": round(statistics.median(timings) * 1000, 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1] * 1000, 2),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1] * 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="requests per page")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="kitobxon-bench-"))
    env = {**os.environ, "KITOBXON_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = {"env": env, "cwd": ROOT, "check": True, "capture_output": True, "text": True}
    subprocess.run([*KITOBXON, "migrate"], **run)  # type: ignore[call-overload]
    subprocess.run([*KITOBXON, "demo"], **run)  # type: ignore[call-overload]
    token = (
        subprocess.run(  # type: ignore[call-overload]
            [
                *KITOBXON,
                "manage",
                "shell",
                "-c",
                "from kitobxon.accounts import services; "
                "from kitobxon.accounts.models import User; "
                "reader = User.objects.get(email='talaba@kitobxon.uz'); "
                "print(services.create_access_token(reader, name='bench')[1])",
            ],
            **run,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    port = _free_port()
    server = subprocess.Popen(
        [*KITOBXON, "serve", "--port", str(port), "--workers", "2", "--no-jobs"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_up(port)
        pages = [
            ("/", {}),
            ("/accounts/login/", {}),
            ("/api/me", {"Authorization": f"Bearer {token}"}),
            ("/healthz", {}),
        ]
        for path, headers in pages:  # warm up
            _measure(port, path, headers, args.threads * 10, args.threads)
        results = [
            _measure(port, path, headers, args.requests, args.threads) for path, headers in pages
        ]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    if args.json:
        print(json.dumps({"pages": results}, indent=2))
    else:
        print(
            f"Pages (gunicorn 2 workers, {args.threads} client threads, {args.requests} requests)"
        )
        print(f"{'path':<20} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for r in results:
            print(
                f"{r['path']:<20} {r['requests_per_second']:>8} {r['p50_ms']:>8} "
                f"{r['p95_ms']:>8} {r['p99_ms']:>8}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
