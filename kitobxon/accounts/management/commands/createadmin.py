"""`kitobxon createadmin`: an administrator who can open the back office."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kitobxon.accounts import services
from kitobxon.accounts.models import User


class Command(BaseCommand):
    help = "Create an administrator account (asks for what is not given)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", help="the administrator's e-mail address")
        parser.add_argument("--name", default="", help="full name")
        parser.add_argument(
            "--password-from-env",
            metavar="VAR",
            help="read the password from this environment variable instead of asking",
        )
        parser.add_argument("--json", action="store_true", help="print the account as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"] or input("E-mail: ").strip()
        if not email or "@" not in email:
            raise CommandError("An e-mail address is needed.")
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"An account with the e-mail {email} exists already.")
        if options["password_from_env"]:
            password = os.environ.get(options["password_from_env"], "")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password again: "):
                raise CommandError("The two passwords do not match.")
        try:
            password_validation.validate_password(password, User(email=email))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        user = services.create_admin(email=email, password=password, full_name=options["name"])
        if options["json"]:
            self.stdout.write(
                json.dumps({"id": user.pk, "email": user.email, "card_number": user.card_number})
            )
        else:
            self.stdout.write(f"Administrator {user.email} created (card {user.card_number}).")
