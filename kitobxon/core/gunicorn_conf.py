"""gunicorn settings used by `kitobxon serve`."""

from __future__ import annotations

from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared metrics directory."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
