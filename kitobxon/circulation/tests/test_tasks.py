"""The daily circulation job and the e-mail deliverer of notices, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, Record
from kitobxon.circulation import reminders, services, tasks
from kitobxon.circulation.models import HoldState, SentNotice
from kitobxon.circulation.notices import NoticeKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def committing(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run what waits for the commit (notices are delivered only after it)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _in(language: str, text: str, **values: object) -> str:
    with translation.override(language):
        return _(text) % values


def test_the_daily_job_reminds_readers_of_loans_due_soon_each_in_their_language(
    make_user: Callable[..., User],
    make_copy: Callable[..., Item],
    committing: Callable[[], Any],
) -> None:
    uzbek = make_user(language="uz")
    russian = make_user(language="ru")
    thirteen_days_ago = timezone.now() - timedelta(days=13)
    for reader in (uzbek, russian):
        services.check_out(make_copy(), reader, by=None, at=thirteen_days_ago)
    with committing():
        report = tasks.daily_circulation.call_local()
    assert report["due_soon"] == 2
    sent: dict[str, Any] = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {uzbek.email, russian.email}
    for reader, hello in ((uzbek, "Assalomu alaykum"), (russian, "Здравствуйте")):
        message = sent[str(reader.email)]
        language = reader.preferred_language
        title = _in(language, "Due soon: %(title)s", title="Oʻtkan kunlar")
        assert message.subject == f"{title} · Kitobxon"
        assert message.body.startswith(f"{hello}, {reader.full_name}!")
        assert "Oʻtkan kunlar" in message.body
        html, kind = message.alternatives[0]
        assert kind == "text/html"
        assert (
            f'<html lang="{language}">' in html and f"<p>{hello}, {reader.full_name}!</p>" in html
        )


def test_running_the_job_again_the_same_day_sends_nothing_twice(
    patron: User, copy: Item, committing: Callable[[], Any]
) -> None:
    services.check_out(copy, patron, by=None, at=timezone.now() - timedelta(days=13))
    with committing():
        tasks.daily_circulation.call_local()
    with committing():
        again = tasks.daily_circulation.call_local()
    assert again["due_soon"] == 0
    assert len(mail.outbox) == 1
    assert SentNotice.objects.get().kind == NoticeKind.DUE_SOON


def test_overdue_loans_are_reminded_at_most_once_a_week(
    make_user: Callable[..., User], copy: Item, committing: Callable[[], Any]
) -> None:
    reader = make_user(language="en")
    services.check_out(copy, reader, by=None, at=timezone.now() - timedelta(days=20))
    now = timezone.now()
    for days, expected in ((0, 1), (1, 0), (6, 0), (7, 1)):
        with committing():
            assert reminders.send_reminders(at=now + timedelta(days=days)).overdue == expected
    assert len(mail.outbox) == 2
    assert mail.outbox[0].subject == "Overdue: Oʻtkan kunlar · Kitobxon"
    assert "was due back on" in mail.outbox[0].body


def test_a_reader_is_told_in_their_language_when_a_hold_is_ready_and_before_it_runs_out(
    make_user: Callable[..., User],
    record: Record,
    copy: Item,
    desk: Branch,
    committing: Callable[[], Any],
) -> None:
    reader = make_user(language="ru")
    services.check_out(copy, make_user(), by=None)
    hold = services.place_hold(record, reader, pickup_branch=desk, by=None)
    with committing():
        services.check_in(copy, by=None, branch=desk)
    hold.refresh_from_db()
    assert hold.state == HoldState.READY and hold.pickup_by is not None
    (ready,) = mail.outbox
    assert ready.to == [reader.email]
    assert ready.subject == _in("ru", "Ready for you: %(title)s", title="Oʻtkan kunlar") + (
        " · Kitobxon"
    )
    assert ready.body.startswith("Здравствуйте")
    last_day = datetime.combine(
        hold.pickup_by, datetime.min.time(), timezone.get_current_timezone()
    )
    with committing():
        assert reminders.send_reminders(at=last_day - timedelta(hours=12)).hold_expiring == 1
    with committing():
        assert reminders.send_reminders(at=last_day + timedelta(hours=9)).hold_expiring == 0
    assert [m.subject for m in mail.outbox][1] == _in(
        "ru", "Last days to pick up: %(title)s", title="Oʻtkan kunlar"
    ) + " · Kitobxon"


def test_a_reader_is_told_when_a_waiting_hold_expires_even_though_it_forgot_them(
    make_user: Callable[..., User],
    record: Record,
    copy: Item,
    desk: Branch,
    committing: Callable[[], Any],
) -> None:
    reader = make_user(language="en")
    services.check_out(copy, make_user(), by=None)
    tomorrow = timezone.localdate() + timedelta(days=1)
    hold = services.place_hold(record, reader, pickup_branch=desk, by=None, expires_on=tomorrow)
    with committing():
        assert reminders.send_reminders().hold_expiring == 1
    with committing():
        services.expire_holds(at=timezone.now() + timedelta(days=2))
    hold.refresh_from_db()
    assert hold.state == HoldState.EXPIRED and hold.patron_id is None
    assert [m.subject for m in mail.outbox] == [
        "Your hold is about to expire: Oʻtkan kunlar · Kitobxon",
        "Your hold has expired: Oʻtkan kunlar · Kitobxon",
    ]


def test_a_reminder_about_a_loan_returned_meanwhile_is_not_sent(
    patron: User, copy: Item, desk: Branch
) -> None:
    loan = services.check_out(copy, patron, by=None, at=timezone.now() - timedelta(days=13))
    services.check_in(copy, by=None, branch=desk)
    assert tasks.send_notice_email.call_local("due_soon", patron.pk, f"loan:{loan.pk}") is False
    assert mail.outbox == []


def test_the_daily_job_runs_at_seven_in_the_librarys_time_zone() -> None:
    # Huey asks with a naive UTC time; Tashkent is UTC+5.
    assert tasks.is_daily_time(datetime(2025, 3, 3, 2, 0))
    assert not tasks.is_daily_time(datetime(2025, 3, 3, 7, 0))
    assert not tasks.is_daily_time(datetime(2025, 3, 3, 2, 1))
