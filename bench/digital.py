"""Digital library benchmark: `python bench/digital.py [--only extract|watermark|ranges]`.

Three figures of the "Digital library" issue, each a section that can run alone (the others'
modules may still be missing while the app is built):

1. extract: text extraction of a 500-page PDF (``samples.pdf``, about 2,000 characters a page,
   Latin and Cyrillic) by ``extract.pdf_pages``: pages/s, median of 3 runs.
2. watermark: ``watermark.watermark_pdf`` on a 300-page PDF, median of 5 runs. Target < 1 s.
3. ranges: a fresh library under var/bench/digital/ (SQLite) with one 200 MB WebM (a real
   ``samples.video()`` followed by random filler) attached through ``attach_file``, a reader
   signed in through the login form, a signed link from ``open_file``; then a real
   `kitobxon serve` (gunicorn, --workers 2, gthread with --threads each, no job worker) and
   --clients threads (50) with keep-alive connections, each asking for random 1–4 MB ranges
   for --seconds (20). Reports MB/s, requests/s, p50/p95 latency, errors (any answer that is
   not a 206 of the asked length, or bytes that differ from the file: must be 0), and the
   server's memory: the sum of VmRSS over the gunicorn processes, sampled every 0.5 s, at
   start (after a warm-up request per client), peak and end. The byte server reads only the
   asked span, 256 KB at a time, so memory must stay flat while gigabytes go out.

`--json out.json` writes every figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import free_port, migrate, setup_django, wait_until_up  # noqa: E402

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]
DATA_DIR = ROOT / "var" / "bench" / "digital"
SECTIONS = ("extract", "watermark", "ranges")
SEED = 2026
MB = 1024 * 1024
TARGET_WATERMARK_SECONDS = 1.0
#: "Flat": the server's memory may grow by this much at most while it sends gigabytes.
TARGET_RSS_GROWTH_MB = 64.0
PASSWORD = "bench reader password 2026"  # noqa: S105 (a throw-away bench library)

WORDS = [
    "kitob",
    "kutubxona",
    "oʻquvchi",
    "sahifa",
    "muallif",
    "tarix",
    "adabiyot",
    "ilm",
    "maktab",
    "daftar",
    "qalam",
    "Toshkent",
    "Samarqand",
    "Buxoro",
    "Xiva",
    "bahor",
    "yoz",
    "kuz",
    "qish",
    "daryo",
    "togʻ",
    "shahar",
    "qishloq",
    "книга",
    "библиотека",
    "читатель",
    "страница",
    "автор",
    "история",
    "литература",
    "наука",
    "школа",
    "город",
]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        KITOBXON_DATA_DIR=str(DATA_DIR),
        KITOBXON_LOG_LEVEL="WARNING",
        KITOBXON_API_THROTTLE_ANONYMOUS="1000000/s",
        KITOBXON_API_THROTTLE_USER="1000000/s",
    )
    for name in ("KITOBXON_DATABASE_URL", "KITOBXON_REDIS_URL", "KITOBXON_STORAGE"):
        env.pop(name, None)
    return env


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    if not ordered:
        return {"p50_ms": 0.0, "p95_ms": 0.0}
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
    }


def _page_texts(pages: int, chars: int) -> list[str]:
    rng = random.Random(SEED)  # noqa: S311 (reproducible text)
    texts = []
    for _number in range(pages):
        words: list[str] = []
        length = 0
        while length < chars:
            word = rng.choice(WORDS)
            words.append(word)
            length += len(word) + 1
        texts.append(" ".join(words))
    return texts


# --- 1. text extraction ---------------------------------------------------------------------


def bench_extract(pages: int = 500, chars: int = 2000, runs: int = 3) -> dict[str, Any]:
    from kitobxon.digital import extract, samples

    started = time.perf_counter()
    data = samples.pdf(_page_texts(pages, chars), title="Bench")
    made = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.pdf"
        path.write_bytes(data)
        timings = []
        extracted = 0
        for _run in range(runs):
            started = time.perf_counter()
            texts = list(extract.pdf_pages(path))
            timings.append(time.perf_counter() - started)
            extracted = sum(len(text) for _n, text in texts)
            if len(texts) != pages:
                raise SystemExit(f"extracted {len(texts)} pages of {pages}")
    seconds = statistics.median(timings)
    return {
        "pages": pages,
        "pdf_mb": round(len(data) / MB, 2),
        "pdf_made_seconds": round(made, 2),
        "characters_per_page": round(extracted / pages),
        "seconds": round(seconds, 3),
        "pages_per_second": round(pages / seconds, 1),
    }


# --- 2. watermark ---------------------------------------------------------------------------


def bench_watermark(pages: int = 300, runs: int = 5) -> dict[str, Any]:
    import io

    from kitobxon.digital import samples, watermark

    data = samples.pdf(_page_texts(pages, 2000), title="Bench")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.pdf"
        path.write_bytes(data)
        timings = []
        size = 0
        for run in range(runs):
            out = io.BytesIO()
            started = time.perf_counter()
            watermark.watermark_pdf(
                path,
                out,
                lines=["Kitobxon", "Karta 2900001234", "Reader Number1", "2026-12-04"],
                fingerprint=f"{run:032x}",
            )
            timings.append(time.perf_counter() - started)
            size = out.tell()
    seconds = statistics.median(timings)
    return {
        "pages": pages,
        "pdf_mb": round(len(data) / MB, 2),
        "marked_mb": round(size / MB, 2),
        "median_seconds": round(seconds, 3),
        "max_seconds": round(max(timings), 3),
        "target_seconds": TARGET_WATERMARK_SECONDS,
        "meets_target": seconds < TARGET_WATERMARK_SECONDS,
    }


# --- 3. ranges ------------------------------------------------------------------------------


def make_video(path: Path, size: int) -> None:
    """A real WebM header (inspection checks the content) followed by random filler."""
    from kitobxon.digital import samples

    rng = random.Random(SEED)  # noqa: S311 (filler, not a secret)
    with path.open("wb") as out:
        head = samples.video("webm")
        out.write(head)
        left = size - len(head)
        while left > 0:
            block = rng.randbytes(min(MB, left))
            out.write(block)
            left -= len(block)


def fresh_library(env: dict[str, str]) -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    migrate(env, DATA_DIR)


def populate(video: Path) -> dict[str, Any]:
    """A reader, a record and the video attached through the services; then no connection."""
    from django.db import connection

    from kitobxon.accounts import services as accounts
    from kitobxon.accounts.models import Role, User
    from kitobxon.catalogue import services as catalogue
    from kitobxon.catalogue.data import RecordData
    from kitobxon.digital.models import Access
    from kitobxon.digital.services.files import attach_file

    reader = accounts.set_role(
        User.objects.create_user("oquvchi@bench.uz", PASSWORD, full_name="Bench Reader"),
        Role.PATRON,
        by=None,
    )
    record = catalogue.save_records(
        [RecordData(title="Kino kechasi", languages=["uzb"], year=2026)], by=None, targets=[None]
    )[0].record
    started = time.perf_counter()
    with video.open("rb") as upload:
        file = attach_file(
            record, upload, by=None, original_name="kino.webm", access=Access.REGISTERED
        )
    attached = time.perf_counter() - started
    connection.close()
    return {"reader": reader, "file": file, "attach_seconds": round(attached, 1)}


def login(port: int, email: str) -> str:
    """Sign in through the login form, as a browser does; returns the session cookie."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/login/")
    page = conn.getresponse()
    html = page.read().decode()
    cookies = _cookies(page.headers.get_all("Set-Cookie") or [])
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if found is None or "csrftoken" not in cookies:
        raise SystemExit("the login page has no CSRF token")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": found.group(1), "username": email, "password": PASSWORD}
    )
    conn.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
        },
    )
    answer = conn.getresponse()
    answer.read()
    session = _cookies(answer.headers.get_all("Set-Cookie") or []).get("sessionid")
    if answer.status != 302 or not session:
        raise SystemExit(f"signing in failed: {answer.status}")
    conn.close()
    return f"sessionid={session}"


def _cookies(headers: list[str]) -> dict[str, str]:
    pairs = (header.split(";", 1)[0].split("=", 1) for header in headers)
    return {name.strip(): value for name, value in pairs}


def signed_link(reader: Any, file: Any) -> str:
    """The link a page would give this reader, through ``open_file``."""
    from django.test import RequestFactory

    from kitobxon.digital.services import access

    request = RequestFactory().get("/")
    request.user = reader
    return access.open_file(request, file)


def server_processes(root: int) -> list[int]:
    """The gunicorn processes under ``root`` (the master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def server_rss_kb(root: int) -> int:
    """The VmRSS of every gunicorn process under ``root``, summed."""
    total = 0
    for pid in server_processes(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def server_cpu_seconds(root: int) -> tuple[float, float]:
    """User and system CPU time of the gunicorn processes under ``root``."""
    user = system = 0
    for pid in server_processes(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


class Sampler(threading.Thread):
    """The server's memory every half second, while the clients run."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.samples: list[int] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append(server_rss_kb(self.root))
            self.stopped.wait(0.5)


def load(
    port: int, path: str, cookie: str, video: Path, size: int, clients: int, seconds: float
) -> dict[str, Any]:
    """``clients`` threads asking for random 1–4 MB ranges until the time is up."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    timings: list[float] = []
    failures: list[str] = []
    sent = [0]

    def client(number: int) -> None:
        rng = random.Random(SEED + number)  # noqa: S311 (reproducible offsets)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        received = 0
        with video.open("rb") as original:
            while time.monotonic() < deadline:
                length = rng.randint(1 * MB, 4 * MB)
                start = rng.randrange(0, size - length)
                headers = {"Cookie": cookie, "Range": f"bytes={start}-{start + length - 1}"}
                began = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    answer = conn.getresponse()
                    body = answer.read()
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    with lock:
                        failures.append(f"connection: {exc}")
                    continue
                mine.append(time.perf_counter() - began)
                received += len(body)
                problem = ""
                if answer.status != 206 or len(body) != length:
                    problem = f"{answer.status} with {len(body)} of {length} bytes"
                elif rng.random() < 0.05:  # spot-check the bytes themselves
                    original.seek(start)
                    if original.read(length) != body:
                        problem = f"bytes differ at {start}"
                if problem:
                    with lock:
                        failures.append(problem)
        conn.close()
        with lock:
            timings.extend(mine)
            sent[0] += received

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(timings),
        "seconds": round(elapsed, 1),
        "mb_sent": round(sent[0] / MB, 1),
        "mb_per_second": round(sent[0] / MB / elapsed, 1),
        "requests_per_second": round(len(timings) / elapsed, 1),
        **_percentiles(timings),
        "errors": len(failures),
        "error_examples": sorted(set(failures))[:5],
    }


def bench_ranges(
    env: dict[str, str],
    *,
    video_mb: int,
    clients: int,
    seconds: float,
    workers: int,
    threads: int,
    sendfile: bool,
) -> dict[str, Any]:
    size = video_mb * MB
    video = DATA_DIR / "bench-video.webm"
    make_video(video, size)
    library = populate(video)
    print(f"  {video_mb} MB video attached in {library['attach_seconds']} s", flush=True)
    path = signed_link(library["reader"], library["file"])

    port = free_port()
    server_env = {
        **env,
        "GUNICORN_CMD_ARGS": f"--worker-class gthread --threads {threads} --timeout 120"
        + ("" if sendfile else " --no-sendfile"),
    }
    with (DATA_DIR / "server.log").open("ab") as out:
        server = subprocess.Popen(
            [*KITOBXON, "serve", "--port", str(port), "--workers", str(workers), "--no-jobs"],
            env=server_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    try:
        wait_until_up(port, server)
        cookie = login(port, library["reader"].email)
        load(port, path, cookie, video, size, clients, 1.0)  # warm-up: every worker thread
        start_kb = server_rss_kb(server.pid)
        server_cpu = server_cpu_seconds(server.pid)
        client_cpu = sum(os.times()[:2])
        sampler = Sampler(server.pid)
        sampler.start()
        print(f"  {clients} clients, random 1–4 MB ranges for {seconds:g} s …", flush=True)
        figures = load(port, path, cookie, video, size, clients, seconds)
        sampler.stopped.set()
        sampler.join()
        end_kb = server_rss_kb(server.pid)
        user, system = server_cpu_seconds(server.pid)
        server_cpu = (user - server_cpu[0], system - server_cpu[1])
        client_cpu = sum(os.times()[:2]) - client_cpu
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        video.unlink(missing_ok=True)
        shutil.rmtree(DATA_DIR / "files", ignore_errors=True)  # the stored 200 MB copy
    peak_kb = max([start_kb, end_kb, *sampler.samples])
    growth = (peak_kb - start_kb) / 1024
    return {
        "video_mb": video_mb,
        "clients": clients,
        "workers": workers,
        "threads_per_worker": threads,
        "sendfile": sendfile,
        **figures,
        "server_rss_mb": {
            "start": round(start_kb / 1024, 1),
            "peak": round(peak_kb / 1024, 1),
            "end": round(end_kb / 1024, 1),
            "samples": len(sampler.samples),
        },
        "peak_growth_mb": round(growth, 1),
        # On one machine the clients compete with the server for the CPUs.
        "server_cpu_seconds": {"user": round(server_cpu[0], 1), "system": round(server_cpu[1], 1)},
        "client_cpu_seconds": round(client_cpu, 1),
        "target_growth_mb": TARGET_RSS_GROWTH_MB,
        "memory_flat": growth < TARGET_RSS_GROWTH_MB,
        "zero_errors": figures["errors"] == 0,
    }


# --- the report -----------------------------------------------------------------------------


def print_report(results: dict[str, Any]) -> None:
    if "extract" in results:
        e = results["extract"]
        print(
            f"extract   {e['pages']} pages ({e['characters_per_page']} chars/page, "
            f"{e['pdf_mb']} MB): {e['seconds']} s, {e['pages_per_second']} pages/s"
        )
    if "watermark" in results:
        w = results["watermark"]
        verdict = "meets" if w["meets_target"] else "MISSES"
        print(
            f"watermark {w['pages']} pages: median {w['median_seconds']} s, max "
            f"{w['max_seconds']} s ({verdict} < {w['target_seconds']:g} s)"
        )
    if "ranges" in results:
        r = results["ranges"]
        rss = r["server_rss_mb"]
        print(
            f"ranges    {r['clients']} clients on a {r['video_mb']} MB video: "
            f"{r['mb_per_second']} MB/s, {r['requests_per_second']} requests/s, "
            f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, {r['errors']} errors; "
            f"{r['mb_sent']} MB sent in {r['seconds']} s"
        )
        print(
            f"          server RSS start {rss['start']} MB, peak {rss['peak']} MB, end "
            f"{rss['end']} MB ({'flat' if r['memory_flat'] else 'NOT FLAT'}: "
            f"+{r['peak_growth_mb']} MB, limit {r['target_growth_mb']:g})"
        )
        print(
            f"          CPU seconds: server {r['server_cpu_seconds']['user']} user + "
            f"{r['server_cpu_seconds']['system']} system, clients "
            f"{r['client_cpu_seconds']} ({results['cpus']} CPUs)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only this section")
    parser.add_argument("--video-mb", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=32, help="gthread threads per worker")
    parser.add_argument(
        "--no-sendfile",
        action="store_true",
        help="gunicorn copies the spans through Python instead of sendfile(2)",
    )
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    args = parser.parse_args()
    sections = args.only or list(SECTIONS)

    env = environment()
    if "ranges" in sections:
        print(f"a fresh library in {DATA_DIR} …", flush=True)
        fresh_library(env)
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    setup_django(env)

    results: dict[str, Any] = {"cpus": os.cpu_count()}
    if "extract" in sections:
        print("extract: a 500-page PDF …", flush=True)
        results["extract"] = bench_extract()
    if "watermark" in sections:
        print("watermark: a 300-page PDF …", flush=True)
        results["watermark"] = bench_watermark()
    if "ranges" in sections:
        print("ranges:", flush=True)
        results["ranges"] = bench_ranges(
            env,
            video_mb=args.video_mb,
            clients=args.clients,
            seconds=args.seconds,
            workers=args.workers,
            threads=args.threads,
            sendfile=not args.no_sendfile,
        )
    print()
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
