"""The `kitobxon` command: run, set up and look after a Kitobxon library.

Each sub-command is a Django management command, so `manage.py NAME` works as well;
`kitobxon manage ...` reaches every other Django command.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class SubCommand:
    management_command: str
    summary: str


COMMANDS: dict[str, SubCommand] = {
    "serve": SubCommand("serve", "serve the library: web server and one job worker"),
    "migrate": SubCommand("migrate", "create or update the database tables"),
    "createadmin": SubCommand("createadmin", "create an administrator account"),
    "demo": SubCommand("demo", "load the demo library"),
    "check": SubCommand("healthcheck", "check configuration, database, job queue, search index"),
    "import": SubCommand(
        "import", "import records: MARC21, MARCXML, Dublin Core, CSV, BibTeX, RIS"
    ),
    "export": SubCommand("export", "export records in the same formats"),
    "reindex": SubCommand("reindex", "rebuild the search index from the database"),
    "search": SubCommand("search", "search the library from the command line"),
    "ledger": SubCommand("ledger", "the integrity ledger: verify, checkpoint, witness"),
    "harvest": SubCommand("harvest", "harvest records from another library over OAI-PMH"),
}

USAGE = """usage: kitobxon COMMAND [options]

Commands:
{commands}
  manage        any Django management command (kitobxon manage help)

`kitobxon COMMAND --help` explains a command. Every command works on the library in
KITOBXON_DATA_DIR (default ./var); see README.md for the other settings.
"""


def usage() -> str:
    lines = "\n".join(f"  {name:<13} {command.summary}" for name, command in COMMANDS.items())
    return USAGE.format(commands=lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(usage())
        return 0
    name, rest = args[0], args[1:]
    if name == "manage":
        django_args = rest
    elif name in COMMANDS:
        django_args = [COMMANDS[name].management_command, *rest]
    else:
        sys.stderr.write(f"kitobxon: unknown command {name!r}\n\n{usage()}")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kitobxon", *django_args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
