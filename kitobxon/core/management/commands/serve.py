"""`kitobxon serve`: the web server (gunicorn) and one job worker (Huey), stopped together."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the library: gunicorn and one job worker. Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("KITOBXON_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("KITOBXON_PORT", 8000)))
        parser.add_argument(
            "--workers", type=int, default=2, help="web worker processes (default 2)"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("KITOBXON_THREADS", 8)),
            help="threads per worker (default 8): a reader playing a video holds one for as "
            "long as it streams",
        )
        parser.add_argument("--no-jobs", action="store_true", help="do not start a job worker here")

    def handle(self, *args: Any, **options: Any) -> None:
        env = dict(os.environ)
        env["KITOBXON_DATA_DIR"] = str(settings.DATA_DIR)
        metrics_dir = settings.DATA_DIR / "run" / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

        address = f"{options['host']}:{options['port']}"
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            address,
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
            "--config",
            "python:kitobxon.core.gunicorn_conf",
        ]
        children = {"web server": subprocess.Popen(web, env=env, cwd=settings.BASE_DIR)}
        if not options["no_jobs"]:
            jobs = [sys.executable, "-m", "kitobxon.cli", "manage", "run_huey", "--workers", "1"]
            children["job worker"] = subprocess.Popen(jobs, env=env, cwd=settings.BASE_DIR)
        self.stdout.write(f"Kitobxon is serving http://{address}/ (Ctrl-C stops it)")

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    self.stderr.write(f"The {name} stopped with exit code {code}")
                    exit_code = code or 1
                    stopping = True
            time.sleep(0.2)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.stdout.write("Kitobxon stopped.")
        if exit_code:
            sys.exit(exit_code)
