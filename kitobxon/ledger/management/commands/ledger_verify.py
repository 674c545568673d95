"""`kitobxon ledger verify`: recompute the log and check every stored byte; exit 1 on a problem."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kitobxon.ledger import verify
from kitobxon.ledger.verify import Problem, Report

STAGES = {
    "entries": gettext_lazy("Entries"),
    "checkpoints": gettext_lazy("Checkpoints"),
    "files": gettext_lazy("Files"),
}


class ProgressBar:
    """One line on the terminal, redrawn at most five times a second."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.drawn_at = 0.0
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.shown:
            return
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.drawn_at < 0.2:
            return
        if self.stage and stage != self.stage:
            sys.stderr.write("\n")
        self.stage, self.drawn_at = stage, now
        percent = 100 * done // total if total else 100
        filled = percent // 5
        bar = "#" * filled + "-" * (20 - filled)
        sys.stderr.write(f"\r{STAGES.get(stage, stage)}: [{bar}] {percent:3d}%  {done:,}/{total:,}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown and self.stage:
            sys.stderr.write("\n")
            sys.stderr.flush()


def problem_line(problem: Problem) -> str:
    line = f"{problem.kind}  {problem.where}: {problem.detail}"
    if problem.expected or problem.found:
        line += " " + _("Expected %(expected)s, found %(found)s.") % {
            "expected": problem.expected or "—",
            "found": problem.found or "—",
        }
    return line


def summary(report: Report) -> str:
    counts = report.counts
    checked = _(
        "Checked in %(seconds).1f s — entries: %(entries)s, nodes: %(nodes)s, "
        "checkpoints: %(checkpoints)s, cosignatures: %(cosignatures)s, files: %(files)s."
    ) % {
        "entries": f"{counts['entries']:,}",
        "nodes": f"{counts['nodes']:,}",
        "checkpoints": f"{counts['checkpoints']:,}",
        "cosignatures": f"{counts['cosignatures']:,}",
        "files": f"{counts['files']:,}",
        "seconds": report.elapsed,
    }
    lines = [
        checked,
        _("Tree size %(size)s, root %(root)s.")
        % {
            "size": f"{report.tree_size:,}",
            "root": report.root_hash.hex(),
        },
    ]
    if counts["queued"]:
        lines.append(
            ngettext(
                "%(count)s entry is queued, not yet in the tree (that is not a problem).",
                "%(count)s entries are queued, not yet in the tree (that is not a problem).",
                counts["queued"],
            )
            % {"count": f"{counts['queued']:,}"}
        )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Recompute the ledger's tree from its entries, check every checkpoint's signature and "
        "consistency, and re-hash every registered file. Exits with 1 if anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--no-files", action="store_true", help="do not re-hash the stored files"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bar = ProgressBar(sys.stderr.isatty() and not options["json"])
        try:
            report = verify.verify(files=not options["no_files"], progress=bar)
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for problem in report.problems:
                self.stdout.write(problem_line(problem))
            hidden = report.problem_total - len(report.problems)
            if hidden:
                self.stdout.write(_("… and %(count)s more problems.") % {"count": f"{hidden:,}"})
            self.stdout.write(summary(report))
        if not report.ok:
            raise CommandError(
                ngettext(
                    "%(count)s problem found.", "%(count)s problems found.", report.problem_total
                )
                % {"count": f"{report.problem_total:,}"},
                returncode=1,
            )
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS(_("The ledger verifies: no problems found.")))
