"""Fail when any interface language lacks a translation the code asks for."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kitobxon.core import translations

SOURCE_FOLDERS = ("kitobxon", "config", "templates")


def msgids_in_code() -> set[str]:
    """Every msgid the templates and Python code use: makemessages run on a copy of the source,
    so that the committed catalogues are left untouched."""
    base = Path(settings.BASE_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for folder in SOURCE_FOLDERS:
            shutil.copytree(
                base / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__")
            )
        (root / "locale").mkdir()
        original_paths, original_cwd = settings.LOCALE_PATHS, os.getcwd()
        settings.LOCALE_PATHS = [root / "locale"]
        os.chdir(root)
        try:
            call_command("makemessages", locale=["en"], verbosity=0, no_location=True)
        finally:
            os.chdir(original_cwd)
            settings.LOCALE_PATHS = original_paths
        catalogue = polib.pofile(str(root / "locale" / "en" / "LC_MESSAGES" / "django.po"))
        return {entry.msgid for entry in catalogue if not entry.obsolete}


class Command(BaseCommand):
    help = "Check every interface language is fully translated (no missing or fuzzy entries)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--skip-code-scan",
            action="store_true",
            help="only check the catalogues themselves (no gettext tools needed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        expected = None if options["skip_code_scan"] else msgids_in_code()
        found = translations.problems(expected)
        for problem in found:
            self.stderr.write(f"{problem.path}: {problem.reason}: {problem.msgid!r}")
        if found:
            raise CommandError(f"{len(found)} translation problems")
        self.stdout.write("Every interface string is translated in every language.")
