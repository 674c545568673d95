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


@db_periodic_task(crontab(minute="*"))
def sign_checkpoint_when_due() -> int | None:
    """Every minute: sign a checkpoint if LEDGER_CHECKPOINT_ENTRIES or _MINUTES say it is due."""
    from kitobxon.ledger import checkpoints

    made = checkpoints.make_checkpoint()
    return made.tree_size if made is not None else None


@db_task()
def check_fixity(by_id: int | None = None) -> int:
    """Re-hash every registered file and store the run (the report's "check now" button)."""
    from django.contrib.auth import get_user_model

    from kitobxon.ledger import fixity

    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    return fixity.check_files(by=by).pk


@db_periodic_task(crontab(hour="3", minute="30"))
def check_fixity_nightly() -> int:
    """Every night at 03:30: the fixity check librarians read on /ledger/fixity/."""
    from kitobxon.ledger import fixity

    return fixity.check_files().pk
