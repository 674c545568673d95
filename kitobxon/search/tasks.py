"""Jobs: drain the outbox after each commit, when a worker starts, and every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from kitobxon.search import indexing


@db_task()
def drain_outbox() -> int:
    return indexing.drain()


@db_periodic_task(crontab(minute="*"))
def drain_outbox_periodically() -> int:
    return indexing.drain()


@HUEY.on_startup()
def catch_up() -> None:
    """A worker that starts (or restarts after a crash) first finishes what was left."""
    drain_outbox()
