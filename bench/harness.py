"""What every benchmark here needs: a free port, a server that is up, Django set up for a
library's environment, and one child run per variant (database or backend)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(port: int, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not come up")


def setup_django(env: dict[str, str]) -> None:
    """Set Django up in this process for the library ``env`` describes (and no other)."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("KITOBXON_")})
    for name in ("KITOBXON_DATABASE_URL", "KITOBXON_REDIS_URL"):
        if name not in env:
            os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def run_each(script: str, option: str, variants: Iterable[str]) -> list[dict[str, Any]]:
    """Run ``script`` once per variant (``--<option> <variant>``), each in its own process."""
    results = []
    for variant in variants:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, script, *sys.argv[1:], f"--{option}", variant]
            command += ["--json", out.name]
            subprocess.run(command, check=True)
            results.append(json.loads(Path(out.name).read_text()))
    return results


def migrate(env: dict[str, str], data_dir: Path) -> None:
    """`kitobxon migrate` for the library in ``data_dir``, its output in ``data_dir/bench.log``."""
    with (data_dir / "bench.log").open("ab") as log:
        subprocess.run(
            [sys.executable, "-m", "kitobxon.cli", "migrate", "--no-input"],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
            check=True,
            stdout=log,
            stderr=log,
        )
