"""`kitobxon manage circulation_evergreen`: our fine rules against Evergreen's recorded fines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kitobxon.circulation import evergreen


class Command(BaseCommand):
    help = (
        "Compare the overdue fines our loan rules and calendar compute with the fines an "
        "Evergreen library recorded (default: the Concerto data set in shared/data)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, default=evergreen.DATA, help="the dump's folder")
        parser.add_argument(
            "--time-zone", default=evergreen.TIME_ZONE, help="the Evergreen server's zone"
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["data"] / "action.circulation.sql").exists():
            raise CommandError(f"no action.circulation.sql in {options['data']}")
        figures = evergreen.run(options["data"], zone_name=options["time_zone"])
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False))
            return
        out = self.stdout.write
        out(
            f"{figures['data']}: {figures['circulations']} circulations, zone "
            f"{figures['time_zone']}, last fine run {figures['last_fine_run']}"
        )
        out(f"{'':<18} {'compared':>8} {'exact':>6} {'exact %':>8} {'±1 day %':>9}")
        rows = [("all", figures["all"]), *figures["by_kind"].items()]
        for label, row in rows:
            out(
                f"{label:<18} {row['compared']:>8} {row['exact']:>6} "
                f"{row['exact_percent'] or 0:>8} {row['within_one_day_fine_percent'] or 0:>9}"
            )
        out(f"differences (in days' fines): {figures['difference_in_day_fines'] or 'none'}")
        for reason, count in figures["reasons"].items():
            out(f"  {count:>4} × {reason}: {figures['reason_text'][reason]}")
        reached = figures["maximum_reached_by_recorded_stop_time"]
        out(
            f"MAXFINES recorded {reached['recorded']}; reachable by the recorded stop time: "
            f"ours {reached['ours']}, Evergreen's generator {reached['evergreen_generator']}"
        )
