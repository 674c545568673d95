"""Refusals of the lending desk, each with a sentence for the reader or the librarian."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kitobxon.core.errors import DomainError


class CirculationError(DomainError):
    """A refusal about loans, holds and fines."""


class InvalidTransition(CirculationError):
    default_message = _("This cannot be done in the current state of the loan or hold.")


class ReaderBlocked(CirculationError):
    """The reader may not borrow or renew now; subclasses say why."""

    default_message = _("This reader may not borrow at the moment.")


class AccountInactive(ReaderBlocked):
    default_message = _("This reader's account is not active.")


class CardExpired(ReaderBlocked):
    default_message = _("The library card has expired. Renew it at the desk.")


class FinesOverLimit(ReaderBlocked):
    default_message = _("The reader owes more than the library allows. Pay the fines first.")


class BlockedByLibrarian(ReaderBlocked):
    default_message = _("A librarian has blocked borrowing for this reader.")


class LoanLimitReached(CirculationError):
    default_message = _("The reader already has the maximum number of items on loan.")


class ItemNotForLoan(CirculationError):
    default_message = _("This copy is for use in the library only and is not for loan.")


class ItemNotAvailable(CirculationError):
    default_message = _("This copy is not available for loan.")


class ItemOnHoldForAnother(CirculationError):
    default_message = _("This copy is being kept for another reader who placed a hold.")


class RenewalLimitReached(CirculationError):
    default_message = _("This loan has been renewed the maximum number of times.")


class HoldWaiting(CirculationError):
    default_message = _("Another reader is waiting for this title, so it cannot be renewed.")


class OverdueTooLong(CirculationError):
    default_message = _("This loan is overdue for too long to be renewed. Return it to the desk.")


class HoldsNotAllowed(CirculationError):
    default_message = _("Holds cannot be placed on this title.")


class AlreadyOnHold(CirculationError):
    default_message = _("You already have a hold on this title.")


class AlreadyOnLoan(CirculationError):
    default_message = _("You already have this title on loan.")


class InvalidAmount(CirculationError):
    default_message = _("The amount must be greater than zero.")


class AmountExceedsBalance(CirculationError):
    default_message = _("The amount is more than the reader owes.")


class InvalidDate(CirculationError):
    default_message = _("Choose a date in the future.")


class RuleExists(CirculationError):
    default_message = _("A rule for this reader segment, loan type and branch already exists.")


class InvalidHours(CirculationError):
    default_message = _("The closing time must be after the opening time.")
