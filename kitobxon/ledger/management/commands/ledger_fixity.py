"""`kitobxon ledger fixity`: re-hash every registered file now and store the report."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kitobxon.ledger import fixity
from kitobxon.ledger.management.commands.ledger_verify import problem_line
from kitobxon.ledger.verify import Problem


class Command(BaseCommand):
    help = (
        "Re-hash every registered file, compare it with the hash the ledger registered and "
        "store the result for the librarians' fixity report. Exits with 1 if a file differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        run = fixity.check_files()
        if options["json"]:
            result = {
                "id": run.pk,
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "files_checked": run.files_checked,
                "problems": run.problems,
            }
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            for row in run.problems:
                problem = Problem(
                    row["kind"], row["path"], row["detail"], row["expected"], row["found"]
                )
                self.stdout.write(problem_line(problem))
            self.stdout.write(
                ngettext("Checked %(count)s file.", "Checked %(count)s files.", run.files_checked)
                % {"count": f"{run.files_checked:,}"}
            )
        if run.problems:
            raise CommandError(
                ngettext(
                    "%(count)s file problem found.",
                    "%(count)s file problems found.",
                    len(run.problems),
                )
                % {"count": f"{len(run.problems):,}"},
                returncode=1,
            )
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS(_("Every file matches its registration.")))
