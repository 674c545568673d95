"""`kitobxon demo`: load the demo library. Each capability adds its part here, in order."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kitobxon.accounts import demo as accounts_demo
from kitobxon.catalogue import demo as catalogue_demo
from kitobxon.circulation import demo as circulation_demo
from kitobxon.digital import demo as digital_demo
from kitobxon.ledger import checkpoints
from kitobxon.ledger import queries as ledger_queries
from kitobxon.search import indexing


class Command(BaseCommand):
    help = "Load the demo library: readers and staff, records and copies; build the index."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print what was loaded as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        users = accounts_demo.load()
        catalogue = catalogue_demo.load()
        circulation = circulation_demo.load()
        digital = digital_demo.load()
        indexed = indexing.reindex()
        checkpoints.make_checkpoint(force=True)
        ledger = ledger_queries.head().size
        logins = [
            {
                "email": user.email,
                "card_number": user.card_number,
                "role": str(user.role),
                "segment": user.segment,
                "password": accounts_demo.DEMO_PASSWORD,
                "created": created,
            }
            for user, created in users
        ]
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "users": logins,
                        "catalogue": catalogue,
                        "circulation": circulation,
                        "digital": digital,
                        "indexed": indexed,
                        "ledger_entries": ledger,
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        created = sum(1 for login in logins if login["created"])
        self.stdout.write(
            f"Demo library loaded: {catalogue['records']} records "
            f"({catalogue['copies_added']} copies added, {digital['files']} digital files), "
            f"{created} new accounts, {len(logins)} in all; {indexed} entries indexed; "
            f"{ledger} ledger entries under a signed checkpoint."
        )
        self.stdout.write(f"Every demo account's password: {accounts_demo.DEMO_PASSWORD}")
        for login in logins:
            self.stdout.write(
                f"  {login['role']:<10} {login['email']:<28} card {login['card_number']}"
            )
