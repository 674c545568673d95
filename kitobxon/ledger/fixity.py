"""Fixity checks: every registered file hashed again and compared with what the log registered.

A job runs this every night (``tasks.check_fixity_nightly``), a librarian can start it from
the fixity report, and `kitobxon ledger fixity` runs it at once. Each pass is kept as a
:class:`FixityRun` listing what did not match, so the report shows when a file changed or
went missing, not only that it did. It is the file part of `ledger verify`, without the tree.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kitobxon.core import audit
from kitobxon.ledger import verify
from kitobxon.ledger.models import FixityRun


def check_files(*, by: Any = None) -> FixityRun:
    """Re-hash every currently registered file and store the run; ``by`` started it (or None)."""
    run = FixityRun.objects.create(started_at=timezone.now())
    report = verify.Report()
    verify.check_files(report)
    run.finished_at = timezone.now()
    run.files_checked = report.counts["files"]
    run.problems = [
        {
            "kind": problem.kind,
            "path": problem.where,
            "detail": problem.detail,
            "expected": problem.expected,
            "found": problem.found,
        }
        for problem in report.problems
    ]
    run.save(update_fields=["finished_at", "files_checked", "problems"])
    audit.record(
        "ledger.fixity_checked",
        run,
        by=by,
        changes={"files_checked": run.files_checked, "problems": report.problem_total},
    )
    return run
