"""`kitobxon export --format F OUT`: write the catalogue (or part of it) to a file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kitobxon.catalogue import queries
from kitobxon.catalogue.data import RecordData
from kitobxon.catalogue.importing import FORMATS, export
from kitobxon.catalogue.models import Record, RecordStatus


def records_for_export(query: str = "", chunk: int = 500) -> Iterator[RecordData]:
    """Published records, streamed in chunks so that memory stays flat."""
    records = Record.objects.filter(status=RecordStatus.PUBLISHED)
    if query:
        records = records.filter(title__icontains=query) | records.filter(
            contributions__agent__name__icontains=query
        )
    ids = list(records.order_by("id").values_list("id", flat=True).distinct())
    for start in range(0, len(ids), chunk):
        batch = queries.with_details(Record.objects.filter(id__in=ids[start : start + chunk]))
        for record in batch.order_by("id"):
            yield queries.to_data(record)


class Command(BaseCommand):
    help = "Export published records as MARC21, MARCXML, Dublin Core, CSV, BibTeX or RIS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", metavar="OUT", help="file to write, or - for standard output")
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument(
            "--query", default="", help="only records whose title or contributor contains this"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        records = records_for_export(options["query"])
        if options["out"] == "-":
            count = export(records, options["format"], sys.stdout.buffer)
        else:
            with Path(options["out"]).open("wb") as out:
                count = export(records, options["format"], out)
        if options["out"] != "-":
            self.stdout.write(f"{count} records written to {options['out']}")
