"""Harvest benchmark: `python bench/protocols_harvest.py [--prefix oai_dc|marc21 ...]`.

Library A: a fresh data directory with the demo library (`kitobxon demo`), served by a real
`kitobxon serve` (no job worker) on a free port. Library B: a second fresh data directory.
`kitobxon harvest http://127.0.0.1:PORT/oai --json` copies A's catalogue into B over OAI-PMH,
once per metadata format (each format into its own B), then a second time to show that a
re-harvest adds nothing. Reports records/s and that the counts match what A lists. Needs the
OAI-PMH provider at /oai (kitobxon.protocols.oai).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import free_port, wait_until_up  # noqa: E402

KITOBXON = [sys.executable, "-m", "kitobxon.cli"]


def library(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOBXON_")}
    env.update({"KITOBXON_DATA_DIR": str(folder), "DJANGO_SETTINGS_MODULE": "config.settings"})
    env["KITOBXON_OUTBOUND_ALLOW"] = "127.0.0.1"  # the other instance listens on the loopback
    subprocess.run([*KITOBXON, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    return env


def harvest(url: str, prefix: str, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [*KITOBXON, "harvest", url, "--prefix", prefix, "--json", "--full"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"harvest failed:\n{done.stdout}\n{done.stderr}")
    summary: dict[str, Any] = json.loads(done.stdout)
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefix", action="append", choices=["oai_dc", "marc21"])
    args = parser.parse_args()
    prefixes = args.prefix or ["oai_dc", "marc21"]
    with tempfile.TemporaryDirectory(prefix="kitobxon-harvest-") as tmp:
        source_env = library(Path(tmp) / "A")
        subprocess.run(
            [*KITOBXON, "demo", "--json"], env=source_env, cwd=ROOT, check=True, capture_output=True
        )
        port = free_port()
        with (Path(tmp) / "A" / "server.log").open("ab") as log:
            server = subprocess.Popen(
                [*KITOBXON, "serve", "--port", str(port), "--workers", "2", "--no-jobs"],
                env=source_env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        results: dict[str, Any] = {}
        try:
            wait_until_up(port, server)
            url = f"http://127.0.0.1:{port}/oai"
            for prefix in prefixes:
                target_env = library(Path(tmp) / f"B-{prefix}")
                first = harvest(url, prefix, target_env)
                again = harvest(url, prefix, target_env)
                results[prefix] = {
                    "records": first["harvested"] + first["updated"] + first["unchanged"],
                    "harvested": first["harvested"],
                    "deleted": first["deleted"],
                    "rejected": first["rejected"],
                    "pages": first["pages"],
                    "records_per_second": first["records_per_second"],
                    "wall_seconds": first["wall_seconds"],
                    "reharvest_new_records": again["harvested"],
                    "reharvest_unchanged": again["unchanged"],
                    "reharvest_records_per_second": again["records_per_second"],
                    "rejects": first["rejects"][:5],
                }
                print(f"{prefix}: {json.dumps(results[prefix])}", flush=True)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
