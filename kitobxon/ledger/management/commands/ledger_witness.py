"""`kitobxon ledger witness URL`: check a partner library's log and cosign its checkpoint.

Exit status: 0 when the checkpoint was checked, stored and cosigned (and the log accepted the
cosignature); 1 when the log showed a fork or a bad signature (nothing stored); 2 when the
log could not be reached, or refused our cosignature.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from kitobxon.ledger import witnessing

FORK = 1
TROUBLE = 2


class Command(BaseCommand):
    help = (
        "Witness a partner library's log: fetch its checkpoint, check its signature and that "
        "it extends the last one seen, store it, cosign it and post the cosignature back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the partner library's address, e.g. https://lib.example")
        parser.add_argument(
            "--key",
            help="the log's verifier key (else fetched from URL/ledger/key the first time)",
        )
        parser.add_argument("--timeout", type=float, default=witnessing.TIMEOUT_SECONDS)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = witnessing.witness_log(
                options["url"], key=options["key"], timeout=options["timeout"]
            )
        except witnessing.WitnessError as error:
            if options["json"]:
                refusal = {"ok": False, "fork": error.fork, "error": str(error)}
                self.stdout.write(json.dumps(refusal))
            raise CommandError(
                _("REFUSED: %(reason)s") % {"reason": error} if error.fork else str(error),
                returncode=FORK if error.fork else TROUBLE,
            ) from error
        if options["json"]:
            self.stdout.write(json.dumps({"ok": report.posted, **report.as_json()}))
        else:
            self.write_report(report)
        if not report.posted:
            raise CommandError(
                _("The log did not accept our cosignature: %(answer)s") % {"answer": report.answer},
                returncode=TROUBLE,
            )

    def write_report(self, report: witnessing.WitnessReport) -> None:
        root = base64.b64encode(report.root_hash).decode()
        if report.first_time:
            self.stdout.write(
                _("First visit to %(origin)s: its key is now pinned.") % {"origin": report.origin}
            )
        elif report.size == report.previous_size:
            self.stdout.write(
                _("%(origin)s has not grown since %(size)s.")
                % {"origin": report.origin, "size": report.size}
            )
        else:
            self.stdout.write(
                _("%(origin)s grew from %(old)s to %(size)s: consistency proof verified.")
                % {"origin": report.origin, "old": report.previous_size, "size": report.size}
            )
        self.stdout.write(
            _("Checkpoint %(size)s %(root)s stored and cosigned.")
            % {"size": report.size, "root": root}
        )
        self.stdout.write(report.cosignature, ending="")
        if report.posted:
            self.stdout.write(_("The log accepted it: %(answer)s") % {"answer": report.answer})
