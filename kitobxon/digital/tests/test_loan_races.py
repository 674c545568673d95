"""Race tests with real threads, on SQLite and PostgreSQL (KITOBXON_TEST_DATABASE_URL).

The issue's figure of correctness: a licence of N copies never lends more than N at once,
however many readers press "Borrow" together. Each thread has its own database connection and
closes it when done.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from kitobxon.accounts.models import Segment, User, new_card_number
from kitobxon.catalogue.models import Record
from kitobxon.core.testing import outcome, race
from kitobxon.digital import queries
from kitobxon.digital.models import DigitalLoan, DigitalLoanState, WaitlistEntry, WaitState
from kitobxon.digital.services import licences
from kitobxon.digital.services import loans as services
from kitobxon.digital.tests import factories
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db(transaction=True)
POOL = 16


@pytest.fixture
def title(db: None) -> Record:
    return factories.record(title="Poyga")


def readers(count: int) -> list[User]:
    User.objects.bulk_create(
        [
            User(
                email=f"racer{n}@example.org",
                card_number=new_card_number(),
                full_name=f"Racer {n}",
                segment=Segment.STUDENT,
            )
            for n in range(count)
        ]
    )
    return list(User.objects.filter(email__startswith="racer").order_by("pk"))


def test_40_readers_racing_for_5_licensed_copies_end_with_exactly_5_loans(title: Record) -> None:
    licences.save_licence(title, copies=5, loan_days=14, by=None)
    people = readers(40)

    with ThreadPoolExecutor(POOL) as pool:
        results = Counter(
            pool.map(
                outcome, [lambda r=reader: services.borrow(title, r, by=r) for reader in people]
            )
        )

    assert results == {"ok": 5, "NoCopyFree": 35}
    loans = DigitalLoan.objects.filter(state=DigitalLoanState.ACTIVE)
    assert loans.count() == 5
    assert len({loan.reader_id for loan in loans}) == 5
    assert Entry.objects.filter(kind="digital-loan").count() == 5


def test_40_readers_all_pressing_borrow_at_once_still_get_5_loans(title: Record) -> None:
    licences.save_licence(title, copies=5, loan_days=14, by=None)
    people = readers(40)

    results = Counter(
        race(*[lambda r=reader: services.borrow(title, r, by=r) for reader in people])
    )

    assert results == {"ok": 5, "NoCopyFree": 35}
    assert DigitalLoan.objects.filter(state=DigitalLoanState.ACTIVE).count() == 5


def test_racing_readers_join_the_waiting_list_in_a_strict_queue(title: Record) -> None:
    licences.save_licence(title, copies=1, loan_days=14, by=None)
    [holder, *people] = readers(25)
    loan = services.borrow(title, holder, by=None)

    # Every reader asks twice at once: one place each, the second refused.
    with ThreadPoolExecutor(POOL) as pool:
        results = Counter(
            pool.map(
                outcome,
                [
                    lambda r=reader: services.join_waitlist(title, r, by=r)
                    for reader in people
                    for _twice in range(2)
                ],
            )
        )

    assert results == {"ok": 24, "AlreadyWaiting": 24}
    queue = list(WaitlistEntry.objects.order_by("created_at", "id"))
    assert [queries.waiting_position(entry) for entry in queue] == list(range(1, 25))
    assert [e.pk for e in queue] == sorted(e.pk for e in queue)  # stamped in the lock's order
    # The returned copy goes to the head of the queue, then on down it in order.
    services.return_loan(loan, by=None)
    served = []
    for _round in range(3):
        offered = WaitlistEntry.objects.get(state=WaitState.OFFERED)
        served.append(offered.pk)
        taken = services.borrow(title, offered.reader, by=None)
        services.return_loan(taken, by=None)
    assert served == [entry.pk for entry in queue[:3]]


ROUNDS = 5


def test_a_return_racing_the_expiry_job_ends_the_loan_once(title: Record, patron: User) -> None:
    licences.save_licence(title, copies=1, loan_days=1, by=None)
    seen: Counter[str] = Counter()
    for _round in range(ROUNDS):
        loan = services.borrow(
            title, patron, by=None, at=timezone.now() - timedelta(days=1) + timedelta(seconds=30)
        )
        after_due = loan.due_at + timedelta(seconds=1)

        returned, _expired = race(
            lambda: services.return_loan(loan, by=patron),  # noqa: B023 - run before the next round
            lambda: services.expire_loans(now=after_due),  # noqa: B023
        )

        seen[returned] += 1
        assert returned in {"ok", "InvalidTransition"}
        loan.refresh_from_db()
        expected = DigitalLoanState.RETURNED if returned == "ok" else DigitalLoanState.EXPIRED
        assert loan.state == expected
        [entry] = Entry.objects.filter(
            kind="digital-loan.returned", subject=f"digital-loan:{loan.pk}"
        )
        assert json.loads(entry.body)["data"] == {"how": str(expected)}
    assert sum(seen.values()) == ROUNDS


def test_an_offered_reader_borrowing_as_the_offer_lapses_gets_it_or_the_next_reader_does(
    title: Record,
) -> None:
    licences.save_licence(title, copies=1, loan_days=14, by=None)
    people = readers(3 * ROUNDS)
    for n in range(ROUNDS):
        holder, ahead, behind = people[3 * n : 3 * n + 3]
        loan = services.borrow(title, holder, by=None)
        services.join_waitlist(title, ahead, by=None)
        services.join_waitlist(title, behind, by=None)
        at = timezone.now()
        # The copy was kept for ``ahead`` until a few seconds from now.
        services.return_loan(loan, by=None, at=at - timedelta(hours=48) + timedelta(seconds=5))

        borrowed, _expired = race(
            lambda: services.borrow(title, ahead, by=None),  # noqa: B023
            lambda: services.expire_loans(now=at + timedelta(seconds=10)),  # noqa: B023
        )

        assert borrowed in {"ok", "NoCopyFree"}
        active = list(DigitalLoan.objects.filter(state=DigitalLoanState.ACTIVE))
        waits = dict(
            WaitlistEntry.objects.filter(licence__record=title).values_list("reader", "state")
        )
        if borrowed == "ok":
            assert [loan.reader_id for loan in active] == [ahead.pk]
            assert (waits[ahead.pk], waits[behind.pk]) == (WaitState.FULFILLED, WaitState.WAITING)
            services.return_loan(active[0], by=None)
        else:
            assert active == []
            assert (waits[ahead.pk], waits[behind.pk]) == (WaitState.EXPIRED, WaitState.OFFERED)
        services.leave_waitlist(title, behind, by=None)
