"""Every write to harvest sources and runs, each with an audit event.

``run_source`` is the one way a harvest is run (from the command, the page's "run now" job and
the hourly schedule): it opens a run, harvests from the last successful responseDate and closes
the run with its counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.core.audit import record as audit
from kitobxon.protocols.harvest.fetching import Fetcher
from kitobxon.protocols.harvest.harvesting import HarvestReport, Progress, harvest
from kitobxon.protocols.models import HarvestRun, HarvestSource, RunStatus, Schedule

SOURCE_FIELDS = (
    "name",
    "base_url",
    "metadata_prefix",
    "set_spec",
    "schedule",
    "hour",
    "weekday",
    "active",
)


def save_source(source: HarvestSource, *, by: User | None) -> HarvestSource:
    """Create or change a harvest source (the form has set its fields)."""
    with transaction.atomic():
        created = source.pk is None
        source.full_clean()
        source.save()
        changes = {name: getattr(source, name) for name in SOURCE_FIELDS}
        audit(
            "harvest.source_created" if created else "harvest.source_changed",
            source,
            by=by,
            changes=changes,
        )
    return source


def source_for(
    base_url: str, metadata_prefix: str, set_spec: str, *, by: User | None
) -> HarvestSource:
    """The source harvested from the command line, created on its first harvest."""
    found = HarvestSource.objects.filter(
        base_url=base_url, metadata_prefix=metadata_prefix, set_spec=set_spec
    ).first()
    if found is not None:
        return found
    name = base_url.split("://", 1)[-1].rstrip("/")[:200]
    return save_source(
        HarvestSource(
            name=name, base_url=base_url, metadata_prefix=metadata_prefix, set_spec=set_spec
        ),
        by=by,
    )


def start_run(source: HarvestSource, *, from_date: str, by: User | None) -> HarvestRun:
    return HarvestRun.objects.create(
        source=source, started_at=timezone.now(), from_date=from_date, started_by=by
    )


def record_progress(run: HarvestRun, report: HarvestReport) -> None:
    """Keep the run's counts current while it runs (the page shows them)."""
    HarvestRun.objects.filter(pk=run.pk).update(**_counts(report))


def _counts(report: HarvestReport) -> dict[str, Any]:
    return {
        "harvested": report.harvested,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "rejected": report.rejected,
        "pages": report.pages,
    }


def _errors_text(report: HarvestReport) -> str:
    lines = list(report.errors)
    lines += [f"{r.identifier or '(no identifier)'}: {r.reason}" for r in report.rejects]
    return "\n".join(lines)


def finish_run(run: HarvestRun, report: HarvestReport, *, by: User | None) -> HarvestRun:
    """Close a run; a complete harvest moves the source's starting point forward."""
    if not report.completed:
        status = RunStatus.FAILED if not report.records else RunStatus.PARTIAL
    else:
        status = RunStatus.PARTIAL if report.rejects else RunStatus.DONE
    with transaction.atomic():
        source = HarvestSource.objects.select_for_update().get(pk=run.source_id)
        for name, value in _counts(report).items():
            setattr(run, name, value)
        run.status = status
        run.finished_at = timezone.now()
        run.response_date = report.response_date
        run.errors = _errors_text(report)
        run.save()
        fields = ["last_status", "last_run_at"]
        source.last_status = status
        source.last_run_at = run.finished_at
        if report.completed and report.response_date:
            source.last_response_date = report.response_date
            fields.append("last_response_date")
        source.save(update_fields=fields)
        audit("harvest.run_finished", source, by=by, changes={"status": status, **_counts(report)})
    return run


def run_source(
    source: HarvestSource,
    *,
    by: User | None,
    from_date: str | None = None,
    fetcher: Fetcher | None = None,
    progress: Progress | None = None,
) -> tuple[HarvestRun, HarvestReport]:
    """Harvest ``source`` now; ``from_date`` defaults to the last successful responseDate."""
    start = source.last_response_date if from_date is None else from_date
    run = start_run(source, from_date=start, by=by)

    def each_page(report: HarvestReport) -> None:
        record_progress(run, report)
        if progress is not None:
            progress(report)

    try:
        report = harvest(
            source.base_url,
            metadata_prefix=source.metadata_prefix,
            set_spec=source.set_spec,
            from_date=start,
            by=by,
            fetcher=fetcher,
            progress=each_page,
        )
    except Exception as error:
        failed = HarvestReport(source.base_url, source.metadata_prefix, source.set_spec, start)
        failed.errors.append(f"the harvest stopped: {error!r}")
        finish_run(run, failed, by=by)
        raise
    return finish_run(run, report, by=by), report


def is_due(source: HarvestSource, now: datetime) -> bool:
    """A scheduled source is due in its hour (and weekday), once per period."""
    if not source.active or source.schedule == Schedule.NEVER:
        return False
    local = timezone.localtime(now)
    if local.hour != source.hour:
        return False
    if source.schedule == Schedule.WEEKLY and local.weekday() != source.weekday:
        return False
    last = source.last_run_at
    return last is None or (now - last).total_seconds() > 3600


def due_sources(now: datetime) -> list[HarvestSource]:
    sources = HarvestSource.objects.filter(active=True).exclude(schedule=Schedule.NEVER)
    return [source for source in sources if is_due(source, now)]
