"""Imports started from the librarian pages, run by the job worker."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import db_task

from kitobxon.catalogue.importing import ImportReport, import_file
from kitobxon.catalogue.models import ImportJob


def schedule_import(job_id: int) -> None:
    transaction.on_commit(lambda: run_import(job_id))


@db_task()
def run_import(job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ImportJob.Status.DONE:
        return
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    path = Path(job.path)

    def progress(done: int, report: ImportReport) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed_bytes=done,
            imported=report.imported,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=report.rejected,
        )

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
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        processed_bytes=job.size,
        imported=report.imported,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=report.rejected,
        finished_at=timezone.now(),
    )
