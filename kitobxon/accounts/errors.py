from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kitobxon.core.errors import DomainError


class AccountError(DomainError):
    """A refusal about readers and staff."""


class ConfirmationInvalid(AccountError):
    default_message = _(
        "This confirmation link is invalid or has expired. Register again to get a new one."
    )


class WrongPassword(AccountError):
    default_message = _("The password is not correct.")


class TokenLimitReached(AccountError):
    default_message = _("You already have the maximum number of active tokens. Revoke one first.")
