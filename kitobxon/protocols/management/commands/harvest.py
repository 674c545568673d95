"""`kitobxon harvest URL`: copy records from another library's OAI-PMH repository."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kitobxon.core import outbound
from kitobxon.protocols.harvest import services
from kitobxon.protocols.harvest.harvesting import HarvestReport
from kitobxon.protocols.models import MetadataPrefix, RunStatus


class Command(BaseCommand):
    help = (
        "Harvest records over OAI-PMH. Re-harvesting updates, never duplicates; --from defaults "
        "to the responseDate of the last successful harvest of the same URL, format and set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the repository's OAI-PMH base URL")
        parser.add_argument("--prefix", default="oai_dc", choices=MetadataPrefix.values)
        parser.add_argument("--set", default="", dest="set_spec")
        parser.add_argument(
            "--from", dest="from_date", default=None, help="YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"
        )
        parser.add_argument("--full", action="store_true", help="ignore the last harvest's date")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        url: str = options["url"]
        try:
            outbound.validate_url(url)  # before a source is created for it
        except ValidationError as refused:
            raise CommandError(f"{url}: {' '.join(refused.messages)}") from None
        source = services.source_for(url, options["prefix"], options["set_spec"], by=None)
        from_date = "" if options["full"] else options["from_date"]
        show_progress = sys.stderr.isatty() and not options["json"]

        def progress(report: HarvestReport) -> None:
            if show_progress:
                total = f"/{report.complete_list_size}" if report.complete_list_size else ""
                sys.stderr.write(
                    f"\rpage {report.pages}: {report.records}{total} records  "
                    f"{report.records_per_second:,.0f} records/s  {report.rejected} rejected"
                )
                sys.stderr.flush()

        run, report = services.run_source(source, by=None, from_date=from_date, progress=progress)
        if show_progress:
            sys.stderr.write("\n")
        if options["json"]:
            self.stdout.write(
                json.dumps({"status": run.status, **report.as_dict()}, ensure_ascii=False, indent=2)
            )
        else:
            start = f" from {report.from_date}" if report.from_date else ""
            self.stdout.write(
                f"{url} ({report.metadata_prefix}){start}: {report.harvested} harvested, "
                f"{report.updated} updated, {report.unchanged} unchanged, "
                f"{report.deleted} deleted, {report.rejected} rejected "
                f"in {report.seconds:.1f} s ({report.records_per_second:,.0f} records/s), "
                f"{report.pages} pages"
            )
            for reject in report.rejects[:20]:
                self.stdout.write(f"  {reject.identifier or '(no identifier)'}: {reject.reason}")
            if report.rejected > 20:
                self.stdout.write(f"  … {report.rejected - 20} more")
            for error in report.errors:
                self.stdout.write(f"  error: {error}")
        if run.status == RunStatus.FAILED:
            raise CommandError("the harvest failed: " + "; ".join(report.errors))
