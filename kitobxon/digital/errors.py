"""Refusals of the digital library, each with a sentence for the reader or the librarian."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kitobxon.core.errors import DomainError


class DigitalError(DomainError):
    """A refusal about digital files, access or digital loans."""


class UploadRefused(DigitalError):
    """An upload that is not what it claims, too big, or unsafe; the message says why."""

    default_message = _("This file cannot be accepted.")


class AccessDenied(DigitalError):
    """A refusal to open a file; ``reason`` is the refusing decision's code ("borrow",
    "sign_in", …), or "" for a link that is not the reader's."""

    default_message = _("You may not open this file.")

    def __init__(self, message: str | None = None, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class LinkExpired(DigitalError):
    default_message = _("This link has expired. Open the file again from its record page.")


class NoLicence(DigitalError):
    default_message = _("This title cannot be borrowed online.")


class NoCopyFree(DigitalError):
    default_message = _(
        "Every licensed copy is out. Join the waiting list to be told when one frees up."
    )


class AlreadyBorrowed(DigitalError):
    default_message = _("You are already borrowing this title.")


class AlreadyWaiting(DigitalError):
    default_message = _("You are already on the waiting list for this title.")


class LicenceExpired(DigitalError):
    default_message = _("The library's licence for this title has expired.")


class DownloadLimit(DigitalError):
    default_message = _("You have reached today's download limit. Try again tomorrow.")


class NotDownloadable(DigitalError):
    default_message = _("This file may be read online but not downloaded.")


class InvalidTransition(DigitalError):
    default_message = _("This cannot be done in the current state of the digital loan or wait.")


class ReaderMayNotBorrow(DigitalError):
    default_message = _("Sign in with an active library account to borrow online.")


class CopyFree(DigitalError):
    default_message = _("A copy is free: borrow it now instead of waiting.")


class NotWaiting(DigitalError):
    default_message = _("You are not on the waiting list for this title.")


class LicenceInUse(DigitalError):
    default_message = _(
        "Readers are borrowing this title; remove the licence when their loans have ended."
    )


class MarkedCopyOnly(DigitalError):
    """A download that must be a copy marked for its reader (``services.downloads``), not the
    original's bytes through a link."""

    default_message = _(
        "This file is downloaded as a copy marked for you: use Download on its record page."
    )
