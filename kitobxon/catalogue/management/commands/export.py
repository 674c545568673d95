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
    """Published records in id order, read in chunks so that memory stays flat."""
    records = Record.objects.filter(status=RecordStatus.PUBLISHED)
    if query:
        records = queries.matching_words(records, query)
    last = 0
    while True:
        batch = list(queries.with_details(records.filter(pk__gt=last)).order_by("pk")[:chunk])
        if not batch:
            return
        for record in batch:
            yield queries.to_data(record)
        last = batch[-1].pk


class Command(BaseCommand):
    help = "Export published records as MARC21, MARCXML, Dublin Core, CSV, BibTeX or RIS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", metavar="OUT", help="file to write, or - for standard output")
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument(
            "--query", default="", help="only records with these words in the title or a name"
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
