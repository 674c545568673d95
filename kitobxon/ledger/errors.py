"""The ledger's refusals."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kitobxon.core.errors import DomainError


class UnknownEntryKind(DomainError):
    default_message = _("The ledger does not know this kind of entry.")


class TreeTooSmall(DomainError):
    default_message = _("The ledger is not that large yet.")
