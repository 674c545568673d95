"""Harvest jobs: "run now" from the harvest page, and the hourly round of scheduled sources."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kitobxon.accounts.models import User
from kitobxon.protocols.harvest import services
from kitobxon.protocols.models import HarvestSource

log = logging.getLogger(__name__)


def schedule_harvest(source_id: int, user_id: int | None) -> None:
    transaction.on_commit(lambda: harvest_source(source_id, user_id))


@db_task()
def harvest_source(source_id: int, user_id: int | None = None) -> None:
    source = HarvestSource.objects.filter(pk=source_id).first()
    if source is None:
        return
    by = User.objects.filter(pk=user_id).first() if user_id else None
    services.run_source(source, by=by)


@db_periodic_task(crontab(minute="5"))
def harvest_due_sources() -> int:
    """Every hour: harvest the sources whose schedule falls in this hour."""
    due = services.due_sources(timezone.now())
    for source in due:
        try:
            services.run_source(source, by=None)
        except Exception:
            log.exception("harvest of %s failed", source.base_url)
    return len(due)
