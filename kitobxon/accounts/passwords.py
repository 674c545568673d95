"""Django's password rules, worded in Kitobxon's own catalogue.

Django ships no Karakalpak or Uzbek Cyrillic translation; these subclasses keep its checks
and give every reader the rules in their own language.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    DEFAULT_USER_ATTRIBUTES = ("email", "full_name", "card_number")

    def __init__(self, max_similarity: float = 0.7) -> None:
        super().__init__(self.DEFAULT_USER_ATTRIBUTES, max_similarity)

    def get_error_message(self) -> str:
        return _("The password is too similar to your %(verbose_name)s.")

    def get_help_text(self) -> str:
        return _("It must not resemble your name, e-mail or card number.")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: it needs at least %(count)d character.",
            "This password is too short: it needs at least %(count)d characters.",
            self.min_length,
        ) % {"count": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "At least %(count)d character.",
            "At least %(count)d characters.",
            self.min_length,
        ) % {"count": self.min_length}


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return _("This password is too common: anyone could guess it.")

    def get_help_text(self) -> str:
        return _("Not a commonly used password.")


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return _("This password has only digits.")

    def get_help_text(self) -> str:
        return _("Not only digits.")
