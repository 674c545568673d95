"""E-mail notices about digital loans and the waiting list, in the reader's own language.

Three things are worth telling a reader: a licensed copy is kept for them until a deadline, their
digital loan ends tomorrow, their digital loan has ended. Services call ``announce`` inside their
transaction; the e-mail is queued as a job only once the change has committed
(``transaction.on_commit``), so nobody is told about an offer that rolled back. A notice names
only the reader and the loan or wait: the message is composed when it is sent, from what is true
then, so a loan returned since, or an offer already taken, is not written about. Readers without
an e-mail address (or no longer active) are skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from kitobxon.accounts.mail import Message, email_reader
from kitobxon.core import audit
from kitobxon.core.models import AuditEvent
from kitobxon.digital.models import DigitalLoan, DigitalLoanState, WaitlistEntry, WaitState

REMINDED = "digital.loan_reminded"


class NoticeKind(StrEnum):
    COPY_OFFERED = "copy_offered"
    LOAN_ENDS_SOON = "loan_ends_soon"
    LOAN_ENDED = "loan_ended"


def loan_subject(loan: DigitalLoan) -> str:
    return f"digital-loan:{loan.pk}"


def wait_subject(entry: WaitlistEntry) -> str:
    return f"digital-wait:{entry.pk}"


def announce(kind: NoticeKind, *, reader_id: int | None, subject: str) -> None:
    """Queue the e-mail once the current transaction commits (a forgotten reader: none)."""
    if reader_id is None:
        return
    transaction.on_commit(lambda: send_notice_email(str(kind), reader_id, subject))


@db_task(retries=3, retry_delay=60)
def send_notice_email(kind: str, reader_id: int, subject: str) -> bool:
    return send_notice(NoticeKind(kind), reader_id, subject)


def _moment(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _number(subject: str, prefix: str) -> int:
    return int(subject.removeprefix(prefix))


def compose(kind: NoticeKind, reader_id: int, subject: str) -> Message | None:
    """The message for one notice in the active language, or None when it no longer holds."""
    now = timezone.now()
    if kind == NoticeKind.COPY_OFFERED:
        entry = (
            WaitlistEntry.objects.select_related("licence__record")
            .filter(pk=_number(subject, "digital-wait:"), reader_id=reader_id)
            .first()
        )
        if entry is None or entry.state != WaitState.OFFERED or entry.offered_until is None:
            return None
        if entry.offered_until <= now:
            return None
        record = entry.licence.record
        return Message(
            _("A copy is free for you: %(title)s") % {"title": record.title},
            [
                _("A licensed copy of “%(title)s” is kept for you until %(date)s.")
                % {"title": record.title, "date": _moment(entry.offered_until)},
                _(
                    "Borrow it from the title's page before then; after that it goes to the next "
                    "reader on the waiting list."
                ),
            ],
            record.get_absolute_url(),
        )
    loan = (
        DigitalLoan.objects.select_related("licence__record")
        .filter(pk=_number(subject, "digital-loan:"), reader_id=reader_id)
        .first()
    )
    if loan is None:
        return None
    record = loan.licence.record
    if kind == NoticeKind.LOAN_ENDS_SOON:
        if loan.state != DigitalLoanState.ACTIVE or loan.due_at <= now:
            return None
        return Message(
            _("Your digital loan ends tomorrow: %(title)s") % {"title": record.title},
            [
                _("Your digital loan of “%(title)s” ends on %(date)s.")
                % {"title": record.title, "date": _moment(loan.due_at)},
                _("Then the title closes by itself: there is nothing to return."),
            ],
            reverse("digital:account"),
        )
    if kind == NoticeKind.LOAN_ENDED:
        if loan.state != DigitalLoanState.EXPIRED:
            return None
        return Message(
            _("Your digital loan has ended: %(title)s") % {"title": record.title},
            [
                _("Your digital loan of “%(title)s” has ended and the title has closed.")
                % {"title": record.title},
                _("To read on, borrow it again from its page, or join its waiting list."),
            ],
            record.get_absolute_url(),
        )
    return None


def send_notice(kind: NoticeKind, reader_id: int, subject: str) -> bool:
    """E-mail one notice in the reader's language; False when there is nothing to send."""
    return email_reader(
        reader_id, lambda: compose(kind, reader_id, subject), templates="digital/email/notice"
    )


def remind_loans_ending(*, at: datetime | None = None) -> int:
    """Announce "your digital loan ends tomorrow" for every loan due tomorrow (local time).

    Run once a day. Each loan is reminded once: the reminder is written to the audit trail in
    the same transaction, under the loan's row lock, so a second run (or a retry) skips it.
    """
    now = at or timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    zone = timezone.get_current_timezone()
    start = datetime.combine(tomorrow, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=1)
    sent = 0
    for loan_id in DigitalLoan.objects.filter(
        state=DigitalLoanState.ACTIVE, due_at__gte=start, due_at__lt=end
    ).values_list("pk", flat=True):
        with transaction.atomic():
            loan = DigitalLoan.objects.select_for_update().filter(pk=loan_id).first()
            if loan is None or loan.state != DigitalLoanState.ACTIVE:
                continue
            reminded = AuditEvent.objects.filter(
                object_type=DigitalLoan._meta.label_lower, object_id=str(loan.pk), action=REMINDED
            ).exists()
            if reminded:
                continue
            audit.record(REMINDED, loan, by=None, changes={"due": loan.due_at.isoformat()})
            announce(
                NoticeKind.LOAN_ENDS_SOON, reader_id=loan.reader_id, subject=loan_subject(loan)
            )
            sent += 1
    return sent
