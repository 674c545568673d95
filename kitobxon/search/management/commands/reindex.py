"""`kitobxon reindex`: rebuild the search index from the database, with a progress bar."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kitobxon.search import indexing
from kitobxon.search.backends import get_backend


class Command(BaseCommand):
    help = "Rebuild the search index from the database; searches keep working meanwhile."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=indexing.BATCH)
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="do not rebuild: compare the index with the database and fail on any difference",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify"]:
            self.verify(as_json=options["json"])
            return
        show_progress = sys.stderr.isatty() and not options["json"]
        expected = indexing.total() if show_progress else 0
        started = time.monotonic()
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            done += count
            if show_progress:
                rate = done / max(time.monotonic() - started, 1e-6)
                percent = 100 * done // expected if expected else 100
                sys.stderr.write(f"\rindexed {done:,} of {expected:,} ({percent}%)  {rate:,.0f}/s ")
                sys.stderr.flush()

        count = indexing.reindex(progress, batch=options["batch_size"])
        seconds = time.monotonic() - started
        if show_progress:
            sys.stderr.write("\n")
        stats = get_backend().stats()
        summary = {
            "documents": count,
            "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1) if seconds else None,
            **stats,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(
                f"Indexed {count:,} documents in {seconds:.1f} s "
                f"({summary['per_second'] or 0:,.0f}/s) with {stats['backend']}."
            )

    def verify(self, *, as_json: bool) -> None:
        missing, stale, extra = indexing.differences()
        report = {
            "pending": indexing.pending(),
            "missing": sorted(missing),
            "stale": sorted(stale),
            "extra": sorted(extra),
        }
        if as_json:
            self.stdout.write(json.dumps(report))
        else:
            self.stdout.write(
                f"{len(missing)} missing, {len(stale)} out of date, {len(extra)} extra; "
                f"{report['pending']} changes waiting in the outbox."
            )
        if missing or stale or extra:
            raise CommandError("the index differs from the database; run `kitobxon reindex`")
