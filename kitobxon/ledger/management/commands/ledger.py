"""`kitobxon ledger SUBCOMMAND`: one door to the ledger's commands.

Each sub-command is its own management command (``ledger_verify`` …), so its options and
exit code are its own; this one only dispatches.
"""

from __future__ import annotations

import sys

from django.core.management import load_command_class
from django.core.management.base import BaseCommand

SUBCOMMANDS = {
    "verify": ("ledger_verify", "recompute the tree, check checkpoints and re-hash every file"),
    "fixity": ("ledger_fixity", "re-hash every registered file and store a report"),
    "checkpoint": ("ledger_checkpoint", "integrate queued entries and sign a checkpoint now"),
    "key": ("ledger_key", "print this library's verifier keys"),
    "witness": ("ledger_witness", "witness a partner library's log: check and cosign it"),
    "add-witness": ("ledger_add_witness", "accept cosignatures from a partner's witness key"),
}


class Command(BaseCommand):
    help = "The integrity ledger. Sub-commands: " + ", ".join(SUBCOMMANDS)

    def run_from_argv(self, argv: list[str]) -> None:
        rest = argv[2:]
        if not rest or rest[0] not in SUBCOMMANDS:
            lines = "\n".join(f"  {name:<12} {text}" for name, (_, text) in SUBCOMMANDS.items())
            sys.stdout.write(f"usage: kitobxon ledger SUBCOMMAND [options]\n\n{lines}\n")
            sys.exit(0 if rest and rest[0] in {"-h", "--help"} else 2)
        name, target = rest[0], SUBCOMMANDS[rest[0]][0]
        command = load_command_class("kitobxon.ledger", target)
        command.run_from_argv([argv[0], f"ledger {name}", *rest[1:]])

    def handle(self, *args: object, **options: object) -> None:
        self.print_help("kitobxon", "ledger")
