from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class AccountError(Exception):
    """A refusal with a sentence for the reader, in their language."""

    message = _("This cannot be done.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(str(message or self.message))
        if message:
            self.message = message


class ConfirmationInvalid(AccountError):
    message = _("This confirmation link is invalid or has expired. Register again to get a new one.")


class WrongPassword(AccountError):
    message = _("The password is not correct.")


class TokenLimitReached(AccountError):
    message = _("You already have the maximum number of active tokens. Revoke one first.")
