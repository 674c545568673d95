from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kitobxon.core import translations


class Command(BaseCommand):
    help = "Compile the interface translations (locale/*/LC_MESSAGES/django.po) to .mo files."
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        written = translations.compile_all()
        self.stdout.write(f"Compiled {len(written)} translation catalogues.")
