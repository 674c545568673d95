"""E-mail for circulation notices, written in the reader's own interface language.

A notice names only the reader and the loan or hold; the message is composed when it is
sent, from what is true then: a loan returned since the reminder was announced, or a hold
that has moved on, is not written about.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kitobxon.accounts.mail import Message, email_reader
from kitobxon.circulation.models import OPEN_HOLD_STATES, Hold, HoldState, Loan, LoanState
from kitobxon.circulation.notices import NoticeKind


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _loan(subject: str, patron_id: int) -> Loan | None:
    loan_id = int(subject.removeprefix("loan:"))
    return (
        Loan.objects.select_related("item__record")
        .filter(pk=loan_id, patron_id=patron_id, state=LoanState.ACTIVE)
        .first()
    )


def _hold(subject: str) -> Hold | None:
    hold_id = int(subject.removeprefix("hold:"))
    return Hold.objects.select_related("record", "pickup_branch").filter(pk=hold_id).first()


def compose(kind: NoticeKind, patron_id: int, subject: str) -> Message | None:
    """The message for one notice in the active language, or None when it no longer holds."""
    library = settings.LIBRARY_NAME
    if kind in (NoticeKind.DUE_SOON, NoticeKind.OVERDUE):
        loan = _loan(subject, patron_id)
        if loan is None:
            return None
        title = loan.item.record.title
        due = _day(timezone.localtime(loan.due_at))
        if kind == NoticeKind.DUE_SOON:
            if loan.is_overdue:
                return None
            return Message(
                _("Due soon: %(title)s") % {"title": title},
                [
                    _("“%(title)s” is due back on %(date)s.") % {"title": title, "date": due},
                    _("Return it to any branch of %(library)s, or renew it from your account.")
                    % {"library": library},
                ],
                reverse("circulation:account_loans"),
            )
        if not loan.is_overdue:
            return None
        return Message(
            _("Overdue: %(title)s") % {"title": title},
            [
                _("“%(title)s” was due back on %(date)s.") % {"title": title, "date": due},
                _(
                    "Please return it as soon as you can: a fine is charged for every day the "
                    "library is open until it comes back."
                ),
            ],
            reverse("circulation:account_loans"),
        )
    hold = _hold(subject)
    if hold is None or (hold.patron_id is not None and hold.patron_id != patron_id):
        return None
    title = hold.record.title
    branch = hold.pickup_branch.name
    if kind == NoticeKind.HOLD_READY:
        if hold.state != HoldState.READY or hold.pickup_by is None:
            return None
        return Message(
            _("Ready for you: %(title)s") % {"title": title},
            [
                _("The copy of “%(title)s” you asked for is waiting for you at %(branch)s.")
                % {"title": title, "branch": branch},
                _("Pick it up by %(date)s; after that it goes to the next reader.")
                % {"date": _day(hold.pickup_by)},
            ],
            reverse("circulation:account_holds"),
        )
    if kind == NoticeKind.HOLD_EXPIRING:
        if hold.state == HoldState.READY and hold.pickup_by is not None:
            return Message(
                _("Last days to pick up: %(title)s") % {"title": title},
                [
                    _("“%(title)s” is still waiting for you at %(branch)s.")
                    % {"title": title, "branch": branch},
                    _("Pick it up by %(date)s; after that it goes to the next reader.")
                    % {"date": _day(hold.pickup_by)},
                ],
                reverse("circulation:account_holds"),
            )
        if hold.state not in OPEN_HOLD_STATES:
            return None
        return Message(
            _("Your hold is about to expire: %(title)s") % {"title": title},
            [
                _("Your hold on “%(title)s” expires on %(date)s.")
                % {"title": title, "date": _day(hold.expires_on)},
                _("If you still want it, place a new hold after that date."),
            ],
            hold.record.get_absolute_url(),
        )
    if kind == NoticeKind.HOLD_EXPIRED:
        if hold.state != HoldState.EXPIRED:
            return None
        return Message(
            _("Your hold has expired: %(title)s") % {"title": title},
            [
                _("Your hold on “%(title)s” has expired.") % {"title": title},
                _("If you still want it, you can place a new hold from its page."),
            ],
            hold.record.get_absolute_url(),
        )
    return None


def send_notice(kind: NoticeKind, patron_id: int, subject: str) -> bool:
    """E-mail one notice to the reader in their language; False when there is nothing to send."""
    return email_reader(
        patron_id, lambda: compose(kind, patron_id, subject), templates="circulation/email/notice"
    )
