"""`kitobxon check`: is this installation ready to serve? Configuration, migrations, parts."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kitobxon.core import health


class Command(BaseCommand):
    help = "Check configuration, migrations, database, job queue and search index."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the results as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        results: dict[str, str | None] = {}
        problems = [message for message in checks.run_checks() if message.level >= checks.ERROR]
        results["configuration"] = "; ".join(str(p) for p in problems) or None
        results.update(health.run_checks())
        if results["database"] is None:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            results["migrations"] = (
                f"{len(pending)} migrations not applied: run `kitobxon migrate`"
                if pending
                else None
            )
        failed = {name: reason for name, reason in results.items() if reason}
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": not failed,
                        "data_dir": str(settings.DATA_DIR),
                        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                        "search_backend": settings.SEARCH_BACKEND,
                        "checks": {name: reason or "ok" for name, reason in results.items()},
                    },
                    indent=2,
                )
            )
        else:
            self.stdout.write(f"Data directory: {settings.DATA_DIR}")
            for name, reason in results.items():
                self.stdout.write(
                    f"  {'ok  ' if not reason else 'FAIL'} {name}"
                    + (f": {reason}" if reason else "")
                )
        if failed:
            raise CommandError(f"{len(failed)} checks failed", returncode=1)
