from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class CatalogueError(Exception):
    """A refusal with a sentence for the librarian, in their language."""

    default_message = _("This cannot be done.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self._message = message

    @property
    def message(self) -> str:
        return self._message or str(self.default_message)


class InvalidRecord(CatalogueError):
    default_message = _("The record is not valid.")


class RecordHasItems(CatalogueError):
    default_message = _("The record still has copies: withdraw or move them first.")


class BarcodeTaken(CatalogueError):
    default_message = _("Another copy already has this barcode.")
