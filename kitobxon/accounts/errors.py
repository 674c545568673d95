from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class AccountError(Exception):
    """A refusal with a sentence for the reader, in their language."""

    default_message = _("This cannot be done.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self._message = message

    @property
    def message(self) -> str:
        """The sentence for the reader, translated when it is read."""
        return self._message or str(self.default_message)


class ConfirmationInvalid(AccountError):
    default_message = _(
        "This confirmation link is invalid or has expired. Register again to get a new one."
    )


class WrongPassword(AccountError):
    default_message = _("The password is not correct.")


class TokenLimitReached(AccountError):
    default_message = _("You already have the maximum number of active tokens. Revoke one first.")
