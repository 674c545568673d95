"""Imports started from the librarian pages, run by the job worker."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from huey.contrib.djhuey import db_task

from kitobxon.catalogue import services
from kitobxon.catalogue.importing import ImportReport, import_file
from kitobxon.catalogue.models import ImportJob


def schedule_import(job_id: int) -> None:
    transaction.on_commit(lambda: run_import(job_id))


def _counts(report: ImportReport) -> dict[str, int]:
    return {
        "imported": report.imported,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    }


@db_task()
def run_import(job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ImportJob.Status.DONE:
        return
    path = Path(job.path)
    running = ImportJob.Status.RUNNING
    services.import_progress(job, status=running, processed_bytes=0, counts={})

    def progress(done: int, report: ImportReport) -> None:
        services.import_progress(job, status=running, processed_bytes=done, counts=_counts(report))

    try:
        report = import_file(
            path,
            by=job.created_by,
            format=job.format,
            rejects_path=path.with_suffix(".rejects.jsonl"),
            quarantine_path=path.with_suffix(".quarantine"),
            progress=progress,
        )
    except Exception as error:
        services.import_progress(
            job,
            status=ImportJob.Status.FAILED,
            processed_bytes=job.processed_bytes,
            counts={},
            error=str(error),
        )
        raise
    services.import_progress(
        job, status=ImportJob.Status.DONE, processed_bytes=job.size, counts=_counts(report)
    )
