"""`kitobxon ledger checkpoint`: integrate queued entries and sign a checkpoint now."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kitobxon.ledger import checkpoints, queries


class Command(BaseCommand):
    help = "Integrate queued entries and sign a checkpoint of the tree now, if it grew."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        made = checkpoints.make_checkpoint(force=True)
        latest = made or queries.latest_checkpoint()
        if options["json"]:
            summary: dict[str, Any] = {"signed": made is not None, "checkpoint": None}
            if latest is not None:
                summary["checkpoint"] = {
                    "tree_size": latest.tree_size,
                    "root_hash": base64.b64encode(bytes(latest.root_hash)).decode(),
                    "signed_at": latest.signed_at.isoformat(),
                    "note": checkpoints.published_note(latest),
                }
            self.stdout.write(json.dumps(summary))
            return
        if made is not None:
            self.stdout.write(f"signed checkpoint {made.tree_size}\n")
            self.stdout.write(checkpoints.published_note(made), ending="")
        elif latest is not None:
            self.stdout.write(f"nothing new to sign; the latest checkpoint is {latest.tree_size}")
        else:
            self.stdout.write("nothing to sign")
