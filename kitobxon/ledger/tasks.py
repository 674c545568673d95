"""Jobs: integrate queued entries after each commit, when a worker starts, and every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from kitobxon.ledger import services


@db_task()
def integrate_entries() -> int:
    return services.integrate()


@db_periodic_task(crontab(minute="*"))
def integrate_periodically() -> int:
    return services.integrate()


@HUEY.on_startup()
def catch_up() -> None:
    """A worker that starts (or restarts after a crash) first integrates what is queued."""
    integrate_entries()
