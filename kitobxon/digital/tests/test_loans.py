"""Licences, digital loans, the waiting list, expiry and notices, through the services."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Record
from kitobxon.core.models import AuditEvent
from kitobxon.digital import errors, loan_tasks, notices, states
from kitobxon.digital.models import (
    DigitalLoan,
    DigitalLoanState,
    Licence,
    WaitlistEntry,
    WaitState,
)
from kitobxon.digital.services import licences
from kitobxon.digital.services import loans as services
from kitobxon.digital.tests import factories
from kitobxon.ledger import services as ledger
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db

Run = Callable[..., Any]


@pytest.fixture
def title(db: None) -> Record:
    return factories.record(title="Kecha va kunduz")


@pytest.fixture
def licence(title: Record) -> Licence:
    return licences.save_licence(title, copies=2, loan_days=14, by=None)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Run:
    """Run a service and then what it scheduled after the commit (the notice e-mails)."""

    def run(action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def _actions(obj: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def _data(entry: Entry) -> Any:
    return json.loads(entry.body)["data"]


def _fill(title: Record, make_user: Callable[..., User], count: int = 2, **kw: Any) -> list[Any]:
    return [services.borrow(title, make_user(), by=None, **kw) for _ in range(count)]


# --- The transition tables ----------------------------------------------------------------


def test_a_loan_ends_once_and_a_closed_wait_moves_no_more() -> None:
    assert states.next_loan_state("active", states.LoanEvent.RETURN) == DigitalLoanState.RETURNED
    assert states.next_loan_state("active", states.LoanEvent.EXPIRE) == DigitalLoanState.EXPIRED
    for ended in ("returned", "expired"):
        for event in states.LoanEvent:
            assert not states.loan_can(ended, event)
            with pytest.raises(states.InvalidTransition):
                states.next_loan_state(ended, event)
    assert states.next_wait_state("waiting", states.WaitEvent.OFFER) == WaitState.OFFERED
    assert states.next_wait_state("offered", states.WaitEvent.BORROW) == WaitState.FULFILLED
    assert not states.wait_can("offered", states.WaitEvent.OFFER)
    for closed in ("fulfilled", "cancelled", "expired"):
        assert not any(states.wait_can(closed, event) for event in states.WaitEvent)


# --- Borrowing ----------------------------------------------------------------------------


def test_a_reader_borrows_a_free_copy_for_the_licence_loan_period(
    title: Record, licence: Licence, patron: User
) -> None:
    at = timezone.now()
    loan = services.borrow(title, patron, by=patron, at=at)

    loan.refresh_from_db()
    assert loan.state == DigitalLoanState.ACTIVE
    assert loan.reader == patron
    assert loan.started_at == at
    assert loan.due_at == at + timedelta(days=14)
    entry = Entry.objects.get(kind="digital-loan")
    assert entry.subject == f"digital-loan:{loan.pk}"
    assert _data(entry) == {
        "record": f"record:{title.pk}",
        "due": (at + timedelta(days=14)).isoformat(),
    }
    assert entry.reader == ledger.pseudonym(patron, f"digital-loan:{loan.pk}")
    assert _actions(loan) == ["digital.loan_borrowed"]


def test_the_loan_never_runs_past_the_licence_last_day(title: Record, patron: User) -> None:
    last_day = timezone.localdate() + timedelta(days=3)
    licences.save_licence(title, copies=1, loan_days=14, valid_until=last_day, by=None)

    loan = services.borrow(title, patron, by=None)

    ends = datetime.combine(
        last_day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )
    assert loan.due_at == ends


def test_nobody_borrows_after_the_licence_has_ended(title: Record, make_user: Any) -> None:
    today = timezone.localdate()
    licences.save_licence(title, copies=3, loan_days=7, valid_until=today, by=None)
    services.borrow(title, make_user(), by=None)  # its last day still lends

    licences.save_licence(
        title, copies=3, loan_days=7, valid_until=today - timedelta(days=1), by=None
    )
    with pytest.raises(errors.LicenceExpired):
        services.borrow(title, make_user(), by=None)
    with pytest.raises(errors.LicenceExpired):
        services.join_waitlist(title, make_user(), by=None)


def test_a_title_without_a_licence_cannot_be_borrowed(title: Record, patron: User) -> None:
    with pytest.raises(errors.NoLicence):
        services.borrow(title, patron, by=None)
    with pytest.raises(errors.NoLicence):
        services.join_waitlist(title, patron, by=None)


def test_a_reader_borrows_a_title_once_at_a_time(
    title: Record, licence: Licence, patron: User
) -> None:
    services.borrow(title, patron, by=None)
    with pytest.raises(errors.AlreadyBorrowed):
        services.borrow(title, patron, by=None)
    with pytest.raises(errors.AlreadyBorrowed):
        services.join_waitlist(title, patron, by=None)
    assert DigitalLoan.objects.count() == 1


def test_visitors_and_inactive_readers_cannot_borrow(
    title: Record, licence: Licence, make_user: Any
) -> None:
    with pytest.raises(services.ReaderMayNotBorrow):
        services.borrow(title, AnonymousUser(), by=None)
    sleeper = make_user()
    User.objects.filter(pk=sleeper.pk).update(is_active=False)
    sleeper.refresh_from_db()
    with pytest.raises(services.ReaderMayNotBorrow):
        services.borrow(title, sleeper, by=None)
    with pytest.raises(services.ReaderMayNotBorrow):
        services.join_waitlist(title, sleeper, by=None)
    assert not DigitalLoan.objects.exists()


def test_when_every_copy_is_out_the_reader_may_join_the_waiting_list(
    title: Record, licence: Licence, make_user: Any, patron: User
) -> None:
    _fill(title, make_user)
    with pytest.raises(errors.NoCopyFree):
        services.borrow(title, patron, by=None)

    entry = services.join_waitlist(title, patron, by=patron)

    assert entry.state == WaitState.WAITING
    with pytest.raises(errors.AlreadyWaiting):
        services.join_waitlist(title, patron, by=patron)
    assert _actions(entry) == ["digital.wait_joined"]


def test_nobody_waits_for_a_copy_that_is_free(
    title: Record, licence: Licence, patron: User
) -> None:
    with pytest.raises(services.CopyFree):
        services.join_waitlist(title, patron, by=None)
    assert not WaitlistEntry.objects.exists()


# --- Returning, expiry and offers ---------------------------------------------------------


def test_a_copy_returned_early_is_kept_for_the_first_reader_waiting(
    title: Record,
    licence: Licence,
    make_user: Any,
    committed: Run,
    settings: Any,
) -> None:
    settings.DIGITAL_OFFER_HOURS = 6
    first, _other = _fill(title, make_user)
    ahead, behind, walk_in = make_user(language="ru"), make_user(), make_user()
    services.join_waitlist(title, ahead, by=None)
    services.join_waitlist(title, behind, by=None)
    mail.outbox.clear()
    at = timezone.now()

    returned = committed(services.return_loan, first, by=first.reader, at=at)

    assert returned.state == DigitalLoanState.RETURNED
    assert returned.ended_at == at
    offer = WaitlistEntry.objects.get(reader=ahead)
    assert offer.state == WaitState.OFFERED
    assert offer.offered_until == at + timedelta(hours=6)
    assert WaitlistEntry.objects.get(reader=behind).state == WaitState.WAITING
    returns = Entry.objects.filter(kind="digital-loan.returned", subject=f"digital-loan:{first.pk}")
    assert [_data(e) for e in returns] == [{"how": "returned"}]
    assert _actions(offer) == ["digital.wait_joined", "digital.wait_offered"]
    [message] = mail.outbox
    assert message.to == [ahead.email]
    # In the reader's own language:
    assert message.subject.startswith("Для вас освободился экземпляр: Kecha va kunduz")
    assert message.body.startswith("Здравствуйте")

    # The kept copy is not free for anyone else, even a reader who never waited.
    for other in (walk_in, behind):
        with pytest.raises(errors.NoCopyFree):
            services.borrow(title, other, by=None)
    loan = services.borrow(title, ahead, by=ahead)
    offer.refresh_from_db()
    assert offer.state == WaitState.FULFILLED
    assert loan.due_at > timezone.now()


def test_a_loan_returned_twice_is_refused(title: Record, licence: Licence, patron: User) -> None:
    loan = services.borrow(title, patron, by=None)
    services.return_loan(loan, by=patron)
    with pytest.raises(states.InvalidTransition):
        services.return_loan(loan, by=patron)
    assert Entry.objects.filter(kind="digital-loan.returned").count() == 1


def test_loans_past_due_expire_and_the_copy_goes_to_the_next_reader(
    title: Record, licence: Licence, make_user: Any, committed: Run
) -> None:
    long_ago = timezone.now() - timedelta(days=20)
    # Borrowed in this order: a service settles the licence first, and would end the old loan.
    fresh = services.borrow(title, make_user(), by=None)
    old = services.borrow(title, make_user(), by=None, at=long_ago)
    waiter = make_user()
    services.join_waitlist(title, waiter, by=None, at=long_ago + timedelta(days=1))
    mail.outbox.clear()

    done = committed(services.expire_loans)

    assert (done.loans_expired, done.offered) == (1, 1)
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == DigitalLoanState.EXPIRED
    assert fresh.state == DigitalLoanState.ACTIVE
    assert _data(Entry.objects.get(kind="digital-loan.returned")) == {"how": "expired"}
    assert _actions(old) == ["digital.loan_borrowed", "digital.loan_expired"]
    assert WaitlistEntry.objects.get(reader=waiter).state == WaitState.OFFERED
    subjects = sorted(m.subject.split(" · ")[0] for m in mail.outbox)
    assert subjects == [
        "A copy is free for you: Kecha va kunduz",
        "Your digital loan has ended: Kecha va kunduz",
    ]
    assert services.expire_loans() == services.Settled()  # nothing left to do


def test_an_offer_not_taken_in_time_passes_to_the_next_reader(
    title: Record, licence: Licence, make_user: Any
) -> None:
    first, _other = _fill(title, make_user)
    ahead, behind = make_user(), make_user()
    services.join_waitlist(title, ahead, by=None)
    services.join_waitlist(title, behind, by=None)
    at = timezone.now()
    services.return_loan(first, by=None, at=at)

    done = services.expire_loans(now=at + timedelta(hours=48, seconds=1))

    assert (done.offers_expired, done.offered) == (1, 1)
    lapsed = WaitlistEntry.objects.get(reader=ahead)
    assert lapsed.state == WaitState.EXPIRED
    assert WaitlistEntry.objects.get(reader=behind).state == WaitState.OFFERED
    with pytest.raises(errors.NoCopyFree):
        services.borrow(title, ahead, by=None, at=at + timedelta(hours=49))


def test_a_reader_who_leaves_with_an_offer_passes_it_on(
    title: Record, licence: Licence, make_user: Any
) -> None:
    first, _other = _fill(title, make_user)
    ahead, behind = make_user(), make_user()
    services.join_waitlist(title, ahead, by=None)
    services.join_waitlist(title, behind, by=None)
    services.return_loan(first, by=None)

    left = services.leave_waitlist(title, ahead, by=ahead)

    assert left.state == WaitState.CANCELLED
    assert WaitlistEntry.objects.get(reader=behind).state == WaitState.OFFERED
    with pytest.raises(services.NotWaiting):
        services.leave_waitlist(title, ahead, by=ahead)


def test_a_refused_walk_in_still_lets_a_lapsed_loan_serve_the_queue(
    title: Record, make_user: Any
) -> None:
    licences.save_licence(title, copies=1, loan_days=7, by=None)
    long_ago = timezone.now() - timedelta(days=10)
    services.borrow(title, make_user(), by=None, at=long_ago)
    waiter, walk_in = make_user(), make_user()
    services.join_waitlist(title, waiter, by=None, at=long_ago + timedelta(hours=1))

    # The loan ended days ago but the job has not run: the free copy is the waiter's.
    with pytest.raises(errors.NoCopyFree):
        services.borrow(title, walk_in, by=None)

    assert DigitalLoan.objects.get().state == DigitalLoanState.EXPIRED
    assert WaitlistEntry.objects.get(reader=waiter).state == WaitState.OFFERED


def test_a_reader_borrows_again_after_their_loan_ended_unnoticed(
    title: Record, licence: Licence, patron: User
) -> None:
    services.borrow(title, patron, by=None, at=timezone.now() - timedelta(days=15))
    again = services.borrow(title, patron, by=None)
    assert again.state == DigitalLoanState.ACTIVE
    assert DigitalLoan.objects.filter(reader=patron, state=DigitalLoanState.EXPIRED).count() == 1


def test_an_ended_licence_closes_its_waiting_list(title: Record, make_user: Any) -> None:
    today = timezone.localdate()
    licences.save_licence(title, copies=1, loan_days=7, valid_until=today, by=None)
    services.borrow(title, make_user(), by=None)
    waiter = make_user()
    services.join_waitlist(title, waiter, by=None)

    done = services.expire_loans(now=timezone.now() + timedelta(days=2))

    assert done.waits_expired == 1
    assert WaitlistEntry.objects.get(reader=waiter).state == WaitState.EXPIRED


# --- The licence --------------------------------------------------------------------------


def test_lowering_copies_below_the_loans_out_stops_new_loans_until_they_fall_below(
    title: Record, licence: Licence, make_user: Any, librarian: User
) -> None:
    first, second = _fill(title, make_user)
    licences.save_licence(title, copies=1, loan_days=14, by=librarian)
    assert _actions(licence)[-1] == "digital.licence_changed"

    services.return_loan(first, by=None)
    with pytest.raises(errors.NoCopyFree):  # one out, one allowed
        services.borrow(title, make_user(), by=None)
    services.return_loan(second, by=None)
    assert services.borrow(title, make_user(), by=None).state == DigitalLoanState.ACTIVE


def test_raising_copies_offers_them_to_readers_waiting(
    title: Record, licence: Licence, make_user: Any
) -> None:
    _fill(title, make_user)
    waiters = [make_user() for _ in range(3)]
    for waiter in waiters:
        services.join_waitlist(title, waiter, by=None)

    licences.save_licence(title, copies=4, loan_days=14, by=None)

    assert [e.state for e in WaitlistEntry.objects.order_by("created_at", "id")] == [
        WaitState.OFFERED,
        WaitState.OFFERED,
        WaitState.WAITING,
    ]


def test_saving_a_licence_twice_keeps_one_licence_per_record(title: Record) -> None:
    licences.save_licence(title, copies=1, loan_days=7, supplier=" Kitob.uz ", by=None)
    saved = licences.save_licence(
        title, copies=5, loan_days=21, valid_until=date(2031, 1, 1), by=None
    )
    assert Licence.objects.get() == saved
    assert (saved.copies, saved.loan_days, saved.valid_until, saved.supplier) == (
        5,
        21,
        date(2031, 1, 1),
        "",
    )
    assert _actions(saved) == ["digital.licence_added", "digital.licence_changed"]
    with pytest.raises(errors.DigitalError):
        licences.save_licence(title, copies=1, loan_days=0, by=None)


def test_a_licence_is_removed_only_when_nobody_borrows_it(
    title: Record, licence: Licence, make_user: Any, patron: User
) -> None:
    loan, _other = _fill(title, make_user)
    services.join_waitlist(title, patron, by=None)
    with pytest.raises(licences.LicenceInUse):
        licences.remove_licence(licence, by=None)

    services.return_loan(loan, by=None)
    services.return_loan(_other, by=None)
    licences.remove_licence(licence, by=None)

    assert not Licence.objects.exists()
    assert not DigitalLoan.objects.exists()
    assert not WaitlistEntry.objects.exists()
    assert Entry.objects.filter(kind="digital-loan").count() == 2  # the ledger keeps them


# --- Notices ------------------------------------------------------------------------------


def test_readers_are_reminded_once_the_day_before_their_loan_ends(
    title: Record, licence: Licence, make_user: Any, committed: Run
) -> None:
    tomorrow_noon = datetime.combine(
        timezone.localdate() + timedelta(days=1), time(12), tzinfo=timezone.get_current_timezone()
    )
    soon = services.borrow(
        title, make_user(language="ru"), by=None, at=tomorrow_noon - timedelta(days=14)
    )
    services.borrow(title, make_user(), by=None)  # ends in two weeks
    mail.outbox.clear()

    assert committed(notices.remind_loans_ending) == 1
    assert committed(notices.remind_loans_ending) == 0  # a second run, or a retry

    [message] = mail.outbox
    assert soon.reader is not None
    assert message.to == [soon.reader.email]
    assert message.subject.startswith(
        "Ваша электронная выдача заканчивается завтра: Kecha va kunduz"
    )
    assert message.body.startswith("Здравствуйте")
    assert "digital-loan" not in message.body


def test_readers_without_an_e_mail_address_are_skipped(
    title: Record, licence: Licence, make_user: Any, committed: Run
) -> None:
    first, _other = _fill(title, make_user)
    quiet = make_user()
    User.objects.filter(pk=quiet.pk).update(email=None)
    services.join_waitlist(title, quiet, by=None)
    mail.outbox.clear()

    committed(services.return_loan, first, by=None)

    assert WaitlistEntry.objects.get(reader=quiet).state == WaitState.OFFERED
    assert mail.outbox == []


def test_a_notice_that_no_longer_holds_is_not_sent(
    title: Record, licence: Licence, make_user: Any
) -> None:
    first, _other = _fill(title, make_user)
    waiter = make_user()
    entry = services.join_waitlist(title, waiter, by=None)
    services.return_loan(first, by=None)
    services.borrow(title, waiter, by=None)  # taken before the e-mail went out
    mail.outbox.clear()

    assert not notices.send_notice(
        notices.NoticeKind.COPY_OFFERED, waiter.pk, notices.wait_subject(entry)
    )
    assert mail.outbox == []


# --- The jobs -----------------------------------------------------------------------------


def test_the_five_minute_job_ends_loans_past_due(
    title: Record, licence: Licence, patron: User
) -> None:
    loan = services.borrow(title, patron, by=None, at=timezone.now() - timedelta(days=15))

    assert loan_tasks.expire_digital_loans.call_local() == {
        "loans_forgotten": 0,  # an hour after the end, not at once
        "loans_expired": 1,
        "offers_expired": 0,
        "waits_expired": 0,
        "offered": 0,
    }
    loan.refresh_from_db()
    assert loan.state == DigitalLoanState.EXPIRED


def test_the_daily_reminder_runs_at_eight_in_the_library_s_time(settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Tashkent"  # UTC+5; huey hands the check a naive UTC time
    assert loan_tasks.is_daily_time(datetime(2025, 3, 3, 3, 0))
    assert not loan_tasks.is_daily_time(datetime(2025, 3, 3, 3, 5))
    assert not loan_tasks.is_daily_time(datetime(2025, 3, 3, 8, 0))
