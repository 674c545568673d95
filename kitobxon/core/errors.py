"""The base of every refusal a service gives: a sentence for the person, in their language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal with a sentence for the user. Subclasses set ``default_message``."""

    default_message = _("This cannot be done.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self._message = message

    @property
    def message(self) -> str:
        """The sentence for the user, translated when it is read."""
        return self._message or str(self.default_message)
