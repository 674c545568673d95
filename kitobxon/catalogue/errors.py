from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kitobxon.core.errors import DomainError


class CatalogueError(DomainError):
    """A refusal about records and copies."""


class InvalidRecord(CatalogueError):
    default_message = _("The record is not valid.")


class RecordHasItems(CatalogueError):
    default_message = _("The record still has copies: withdraw or move them first.")


class BarcodeTaken(CatalogueError):
    default_message = _("Another copy already has this barcode.")
