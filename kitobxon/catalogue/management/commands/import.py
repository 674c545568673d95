"""`kitobxon import FILE...`: bring records into the catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kitobxon.catalogue.importing import FORMATS, ImportReport, UnknownFormat, import_file


class Command(BaseCommand):
    help = "Import records from MARC21, MARCXML, Dublin Core, CSV, BibTeX or RIS files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        show_progress = sys.stderr.isatty() and not options["json"]
        reports = []
        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            base = settings.IMPORT_DIR / f"{stamp}-{path.stem}"
            size = path.stat().st_size

            def progress(
                done: int, report: ImportReport, size: int = size, path: Path = path
            ) -> None:
                if show_progress:
                    percent = 100 * done // size if size else 100
                    sys.stderr.write(
                        f"\r{path.name}: {percent:3d}%  "
                        f"{report.imported + report.updated + report.unchanged} records  "
                        f"{report.records_per_second:,.0f} records/s  "
                        f"{report.rejected} rejected"
                    )
                    sys.stderr.flush()

            try:
                report = import_file(
                    path,
                    by=None,
                    format=options["format"],
                    batch_size=options["batch_size"],
                    rejects_path=base.with_suffix(".rejects.jsonl"),
                    quarantine_path=base.with_suffix(".quarantine"),
                    progress=progress,
                )
            except UnknownFormat as error:
                raise CommandError(str(error)) from error
            if show_progress:
                sys.stderr.write("\n")
            reports.append(report)
            if not options["json"]:
                self.stdout.write(
                    f"{path.name} ({report.format}): {report.imported} imported, "
                    f"{report.updated} updated, {report.unchanged} unchanged, "
                    f"{report.rejected} rejected "
                    f"in {report.seconds:.1f} s ({report.records_per_second:,.0f} records/s)"
                )
                for reject in report.rejects[:20]:
                    control = f" [{reject.control_number}]" if reject.control_number else ""
                    self.stdout.write(f"  record {reject.position}{control}: {reject.reason}")
                if report.rejected > 20:
                    self.stdout.write(f"  … {report.rejected - 20} more")
                if report.rejects_path:
                    self.stdout.write(f"  rejects report: {report.rejects_path}")
                    self.stdout.write(f"  quarantined records: {report.quarantine_path}")
        if options["json"]:
            self.stdout.write(
                json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2)
            )
