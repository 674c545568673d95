"""Race tests with real threads, on SQLite and PostgreSQL (KITOBXON_TEST_DATABASE_URL).

Each thread has its own database connection and closes it when done. The suite's CI machine
has two cores, so a modest pool (16 threads) works through the attempts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kitobxon.accounts.models import Segment, User, new_card_number
from kitobxon.catalogue.models import Branch, Item, ItemStatus, Record
from kitobxon.circulation import queries, services
from kitobxon.circulation.models import Hold, HoldState, Loan, LoanState
from kitobxon.core.testing import outcome, race
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db(transaction=True)
POOL = 16


def readers(count: int, segment: Segment = Segment.STUDENT) -> list[User]:
    User.objects.bulk_create(
        [
            User(
                email=f"racer{n}@example.org",
                card_number=new_card_number(),
                full_name=f"Racer {n}",
                segment=segment,
            )
            for n in range(count)
        ]
    )
    return list(User.objects.filter(email__startswith="racer").order_by("pk"))


def test_200_readers_racing_for_20_copies_end_with_exactly_20_loans(
    record: Record, make_copy: Callable[..., Item]
) -> None:
    copies = [make_copy() for _ in range(20)]
    people = readers(200)

    def attempt(n: int) -> str:
        return outcome(lambda: services.check_out(copies[n % 20], people[n], by=None))

    with ThreadPoolExecutor(POOL) as pool:
        results = Counter(pool.map(attempt, range(200)))

    assert results == {"ok": 20, "ItemNotAvailable": 180}
    loans = Loan.objects.filter(state=LoanState.ACTIVE)
    assert loans.count() == 20
    assert len({loan.item_id for loan in loans}) == 20
    assert len({loan.patron_id for loan in loans}) == 20
    assert Item.objects.filter(record=record, status=ItemStatus.ON_LOAN).count() == 20
    assert Entry.objects.filter(kind="loan").count() == 20


def test_racing_holds_keep_a_strict_queue(
    record: Record, copy: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    services.check_out(copy, make_user(), by=None)
    people = readers(24)

    def place(reader: User) -> Callable[[], Any]:
        return lambda: services.place_hold(record, reader, pickup_branch=desk, by=None)

    # Every reader asks twice at once: one hold each, the second refused.
    with ThreadPoolExecutor(POOL) as pool:
        results = Counter(
            pool.map(outcome, [place(reader) for reader in people for _twice in range(2)])
        )

    assert results == {"ok": 24, "AlreadyOnHold": 24}
    holds = list(Hold.objects.filter(record=record).order_by("id"))
    assert [queries.hold_position(h) for h in holds] == list(range(1, 25))
    # The returned copy goes to the head of the queue, and on down the queue in order.
    served = []
    for _round in range(3):
        result = services.check_in(copy, by=None, branch=desk)
        assert result.routed.hold is not None
        served.append(result.routed.hold.pk)
        reader_id = result.routed.hold.patron_id
        assert reader_id is not None
        services.check_out(copy, User.objects.get(pk=reader_id), by=None)
    assert served == [h.pk for h in holds[:3]]


ROUNDS = 5


def test_renew_racing_check_in_ends_valid(
    make_copy: Callable[..., Item], desk: Branch, patron: User
) -> None:
    seen: Counter[str] = Counter()
    for _round in range(ROUNDS):
        copy = make_copy()
        loan = services.check_out(copy, patron, by=None)

        renewed, returned = race(
            lambda: services.renew(loan, by=patron),  # noqa: B023 - run before the next round
            lambda: services.check_in(copy, by=None, branch=desk),  # noqa: B023
        )

        seen[renewed] += 1
        assert returned == "ok"
        assert renewed in {"ok", "InvalidTransition"}
        loan.refresh_from_db()
        copy.refresh_from_db()
        assert loan.state == LoanState.RETURNED
        assert copy.status == ItemStatus.AVAILABLE
        assert loan.renewals == (1 if renewed == "ok" else 0)
        kinds = Counter(
            Entry.objects.filter(subject=f"loan:{loan.pk}").values_list("kind", flat=True)
        )
        assert kinds == {"loan": 1, "return": 1, **({"renewal": 1} if renewed == "ok" else {})}
    assert sum(seen.values()) == ROUNDS


def test_hold_racing_renewal_ends_valid(
    make_record: Callable[..., Record],
    make_copy: Callable[..., Item],
    desk: Branch,
    make_user: Callable[..., User],
) -> None:
    for _round in range(ROUNDS):
        title = make_record(title=f"Poyga {_round}")
        copy = make_copy(title)
        borrower, waiter = make_user(), make_user()
        loan = services.check_out(copy, borrower, by=None)

        renewed, held = race(
            lambda: services.renew(loan, by=borrower),  # noqa: B023
            lambda: services.place_hold(title, waiter, pickup_branch=desk, by=waiter),  # noqa: B023
        )

        assert held == "ok"
        assert renewed in {"ok", "HoldWaiting"}
        loan.refresh_from_db()
        assert loan.state == LoanState.ACTIVE
        assert loan.renewals == (1 if renewed == "ok" else 0)
        assert Hold.objects.get(patron=waiter).state == HoldState.WAITING
