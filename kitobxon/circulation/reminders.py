"""The daily reminders: due soon, overdue, and holds about to run out.

Each reminder is announced through ``notices`` (so every deliverer — e-mail today, Telegram
later — gets it) and written down in ``SentNotice`` in the same transaction, so running the
job twice on one day, or retrying it, never reminds a reader twice. Hold ready and hold
expired notices are not reminders: the services announce them when they happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from kitobxon.circulation import queries
from kitobxon.circulation.models import QUEUED_HOLD_STATES, Hold, HoldState, SentNotice
from kitobxon.circulation.notices import NoticeKind, announce

# A loan is "due soon" this many days before its due time (one reminder per due date).
DUE_SOON_DAYS = 2
# An overdue loan is reminded of at most once in this many days.
OVERDUE_EVERY_DAYS = 7
# A waiting hold is reminded of this many days before it expires; a hold on the shelf on its
# last day and the day before.
HOLD_EXPIRING_DAYS = 3
# Sent-notice rows older than this are no longer needed to avoid repeats.
KEEP_SENT_DAYS = 60


@dataclass(frozen=True)
class ReminderReport:
    due_soon: int
    overdue: int
    hold_expiring: int


def _remind(kind: NoticeKind, *, patron_id: int | None, subject: str, on: date) -> bool:
    """Announce one reminder unless it already went out for ``on``; True when sent."""
    if patron_id is None:
        return False
    try:
        with transaction.atomic():
            SentNotice.objects.create(kind=kind, subject=subject, on=on)
            announce(kind, patron_id=patron_id, subject=subject)
    except IntegrityError:  # sent already (by an earlier run, or a run racing this one)
        return False
    return True


def send_reminders(*, at: datetime | None = None) -> ReminderReport:
    """Announce today's reminders (run once a day, after ``services.expire_holds``)."""
    now = at or timezone.now()
    today = timezone.localdate(now)
    due_soon = sum(
        _remind(
            NoticeKind.DUE_SOON,
            patron_id=loan.patron_id,
            subject=f"loan:{loan.pk}",
            on=timezone.localdate(loan.due_at),
        )
        for loan in queries.due_soon(DUE_SOON_DAYS, at=now)
    )
    recent = set(
        SentNotice.objects.filter(
            kind=NoticeKind.OVERDUE, on__gt=today - timedelta(days=OVERDUE_EVERY_DAYS)
        ).values_list("subject", flat=True)
    )
    overdue = sum(
        _remind(NoticeKind.OVERDUE, patron_id=loan.patron_id, subject=subject, on=today)
        for loan in queries.overdue_loans(now)
        if (subject := f"loan:{loan.pk}") not in recent
    )
    expiring = 0
    for hold in Hold.objects.filter(
        state=HoldState.READY, pickup_by__gte=today, pickup_by__lte=today + timedelta(days=1)
    ):
        assert hold.pickup_by is not None
        expiring += _remind(
            NoticeKind.HOLD_EXPIRING,
            patron_id=hold.patron_id,
            subject=f"hold:{hold.pk}",
            on=hold.pickup_by,
        )
    for hold in Hold.objects.filter(
        state__in=QUEUED_HOLD_STATES,
        expires_on__gte=today,
        expires_on__lte=today + timedelta(days=HOLD_EXPIRING_DAYS),
    ):
        expiring += _remind(
            NoticeKind.HOLD_EXPIRING,
            patron_id=hold.patron_id,
            subject=f"hold:{hold.pk}",
            on=hold.expires_on,
        )
    SentNotice.objects.filter(on__lt=today - timedelta(days=KEEP_SENT_DAYS)).delete()
    return ReminderReport(due_soon, overdue, expiring)
