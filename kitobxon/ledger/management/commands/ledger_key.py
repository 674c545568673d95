"""`kitobxon ledger key [--witness]`: print this library's verifier keys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kitobxon.ledger import checkpoints, witnessing


class Command(BaseCommand):
    help = (
        "Print the key that verifies this library's checkpoints, or with --witness the key a "
        "partner library adds (`kitobxon ledger add-witness`) to accept our cosignatures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--witness", action="store_true", help="print this library's witness key instead"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["witness"]:
            self.stdout.write(witnessing.witness_verifier_key())
        else:
            self.stdout.write(checkpoints.verifier_key())
