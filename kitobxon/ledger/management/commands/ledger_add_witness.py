"""`kitobxon ledger add-witness VKEY`: accept a partner library's cosignatures."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kitobxon.ledger import witnessing


class Command(BaseCommand):
    help = (
        "Accept cosignatures of our checkpoints from the witness with this key (the partner "
        "prints it with `kitobxon ledger key --witness`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("vkey", help="the witness's verifier key, name+keyid+key")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            witness, added = witnessing.add_witness(options["vkey"])
        except witnessing.WitnessKeyRefused as refusal:
            raise CommandError(refusal.message) from refusal
        if added:
            self.stdout.write(_("Added witness %(name)s.") % {"name": witness.name})
        else:
            self.stdout.write(
                _("Witness %(name)s was already added with this key.") % {"name": witness.name}
            )
