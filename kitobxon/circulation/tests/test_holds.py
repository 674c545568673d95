"""Holds: first come first served, set aside at check-in, pickup deadlines serve the next
reader, cancel, suspend, expire."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, ItemStatus, LoanType, Record
from kitobxon.circulation import errors, notices, queries, services
from kitobxon.circulation.models import Hold, HoldState, LoanRule
from kitobxon.circulation.notices import Notice, NoticeKind
from kitobxon.circulation.tests.factories import MONDAY, local, open_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered() -> Iterator[list[Notice]]:
    """Notices delivered (after the commit: wrap the service call in ``committing``)."""
    seen: list[Notice] = []
    notices.subscribe(seen.append)
    yield seen
    notices.unsubscribe(seen.append)


@pytest.fixture
def committing(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def lent(copy: Item, make_user: Callable[..., User]) -> Item:
    """The record's only copy, out on loan."""
    services.check_out(copy, make_user(), by=None, at=MONDAY)
    return copy


def test_holds_queue_first_come_first_served(
    record: Record, lent: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    holds = [
        services.place_hold(record, make_user(), pickup_branch=desk, by=None, at=MONDAY)
        for _ in range(3)
    ]
    assert [queries.hold_position(h) for h in holds] == [1, 2, 3]
    services.cancel_hold(holds[0], by=None)
    assert [queries.hold_position(h) for h in Hold.objects.filter(state="waiting")] == [1, 2]


def test_a_returned_copy_goes_to_the_hold_shelf_for_the_first_reader(
    record: Record,
    lent: Item,
    desk: Branch,
    make_user: Callable[..., User],
    delivered: list[Notice],
    committing: Callable[[], Any],
) -> None:
    open_hours(desk, range(6), "09:00", "18:00")
    first, second = make_user(), make_user()
    hold = services.place_hold(record, first, pickup_branch=desk, by=first, at=MONDAY)
    services.place_hold(record, second, pickup_branch=desk, by=second, at=MONDAY)

    with committing():
        result = services.check_in(lent, by=None, branch=desk, at=local(2025, 3, 7, 17))
        assert delivered == []  # nobody is told before the commit

    assert result.routed.status == ItemStatus.ON_HOLD_SHELF
    hold.refresh_from_db()
    assert hold.state == HoldState.READY and hold.trapped_item == lent
    # 7 open days from Friday 7 March, Sundays closed: Saturday 15 March.
    assert hold.pickup_by == date(2025, 3, 15)
    assert queries.hold_position(hold) is None
    assert delivered == [Notice(NoticeKind.HOLD_READY, first.pk, f"hold:{hold.pk}")]
    loan = services.check_out(lent, first, by=None)
    hold.refresh_from_db()
    assert hold.state == HoldState.FULFILLED and loan.patron == first


def test_a_copy_for_a_hold_elsewhere_travels_in_transit_then_waits_there(
    record: Record, lent: Item, desk: Branch, nukus: Branch, make_user: Callable[..., User]
) -> None:
    reader = make_user()
    hold = services.place_hold(record, reader, pickup_branch=nukus, by=reader)
    assert services.check_in(lent, by=None, branch=desk).routed.status == ItemStatus.IN_TRANSIT
    hold.refresh_from_db()
    assert hold.state == HoldState.IN_TRANSIT
    with pytest.raises(errors.ItemNotAvailable):
        services.check_out(lent, reader, by=None)
    arrived = services.check_in(lent, by=None, branch=nukus)
    assert arrived.routed.status == ItemStatus.ON_HOLD_SHELF
    hold.refresh_from_db()
    assert hold.state == HoldState.READY and hold.pickup_by is not None


def test_a_copy_not_picked_up_by_the_deadline_serves_the_next_reader(
    record: Record,
    lent: Item,
    desk: Branch,
    make_user: Callable[..., User],
    delivered: list[Notice],
    committing: Callable[[], Any],
) -> None:
    first, second = make_user(), make_user()
    missed = services.place_hold(record, first, pickup_branch=desk, by=first, at=MONDAY)
    following = services.place_hold(record, second, pickup_branch=desk, by=second, at=MONDAY)
    with committing():
        services.check_in(lent, by=None, branch=desk, at=local(2025, 3, 4))

    with committing():
        report = services.expire_holds(at=local(2025, 3, 4) + timedelta(days=30))

    assert report.pickup_expired == 1
    missed.refresh_from_db()
    following.refresh_from_db()
    assert missed.state == HoldState.EXPIRED and missed.patron is None  # no history kept
    assert following.state == HoldState.READY and following.trapped_item == lent
    assert [n.kind for n in delivered] == [
        NoticeKind.HOLD_READY,
        NoticeKind.HOLD_EXPIRED,
        NoticeKind.HOLD_READY,
    ]
    assert delivered[1].patron_id == first.pk


def test_a_copy_not_picked_up_with_nobody_waiting_goes_back_on_the_shelf(
    record: Record, lent: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    reader = make_user()
    services.place_hold(record, reader, pickup_branch=desk, by=reader, at=MONDAY)
    services.check_in(lent, by=None, branch=desk, at=MONDAY)
    services.expire_holds(at=MONDAY + timedelta(days=30))
    lent.refresh_from_db()
    assert lent.status == ItemStatus.AVAILABLE


def test_cancelling_a_ready_hold_passes_the_copy_on(
    record: Record, lent: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    first, second = make_user(), make_user()
    hold = services.place_hold(record, first, pickup_branch=desk, by=first)
    nxt = services.place_hold(record, second, pickup_branch=desk, by=second)
    services.check_in(lent, by=None, branch=desk)
    services.cancel_hold(hold, by=first)
    nxt.refresh_from_db()
    assert nxt.state == HoldState.READY
    with pytest.raises(errors.InvalidTransition):
        services.cancel_hold(hold, by=first)


def test_a_suspended_hold_keeps_its_place_but_is_skipped(
    record: Record, lent: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    away, present = make_user(), make_user()
    first = services.place_hold(record, away, pickup_branch=desk, by=away)
    second = services.place_hold(record, present, pickup_branch=desk, by=present)
    until = timezone.localdate() + timedelta(days=10)
    services.suspend_hold(first, until=until, by=away)
    assert queries.hold_position(second) == 2
    services.check_in(lent, by=None, branch=desk)
    second.refresh_from_db()
    assert second.state == HoldState.READY
    with pytest.raises(errors.InvalidDate):
        services.suspend_hold(first, until=timezone.localdate(), by=away)


def test_a_suspension_ends_on_its_date(
    record: Record, lent: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    reader = make_user()
    hold = services.place_hold(record, reader, pickup_branch=desk, by=reader)
    until = timezone.localdate() + timedelta(days=3)
    services.suspend_hold(hold, until=until, by=reader)
    report = services.expire_holds(at=timezone.now() + timedelta(days=3))
    hold.refresh_from_db()
    assert report.resumed == 1 and hold.state == HoldState.WAITING


def test_a_hold_not_filled_by_its_expiry_date_expires(
    record: Record, lent: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    reader = make_user()
    hold = services.place_hold(
        record, reader, pickup_branch=desk, by=reader, at=MONDAY, expires_on=date(2025, 3, 20)
    )
    assert services.expire_holds(at=local(2025, 3, 20)).expired == 0
    assert services.expire_holds(at=local(2025, 3, 21)).expired == 1
    hold.refresh_from_db()
    assert hold.state == HoldState.EXPIRED


def test_a_hold_on_one_copy_waits_for_that_copy(
    record: Record, make_copy: Callable[..., Item], desk: Branch, make_user: Callable[..., User]
) -> None:
    wanted, other = make_copy(), make_copy()
    borrower = make_user()
    services.check_out(wanted, borrower, by=None)
    services.check_out(other, make_user(), by=None)
    reader = make_user()
    hold = services.place_hold(wanted, reader, pickup_branch=desk, by=reader)
    assert services.check_in(other, by=None, branch=desk).routed.hold is None
    assert services.check_in(wanted, by=None, branch=desk).routed.hold == hold


def test_placing_a_hold_is_refused_with_its_reason(
    record: Record,
    lent: Item,
    desk: Branch,
    make_user: Callable[..., User],
    make_copy: Callable[..., Item],
) -> None:
    reader = make_user()
    services.place_hold(record, reader, pickup_branch=desk, by=reader)
    with pytest.raises(errors.AlreadyOnHold):
        services.place_hold(record, reader, pickup_branch=desk, by=reader)
    borrower = lent.loans.get().patron
    assert borrower is not None
    with pytest.raises(errors.AlreadyOnLoan):
        services.place_hold(record, borrower, pickup_branch=desk, by=borrower)
    reference = make_copy(loan_type=LoanType.REFERENCE)
    with pytest.raises(errors.ItemNotForLoan):
        services.place_hold(reference, reader, pickup_branch=desk, by=reader)
    blocked = make_user()
    services.add_block(blocked, reason="Qarz", by=None)
    with pytest.raises(errors.BlockedByLibrarian):
        services.place_hold(record, blocked, pickup_branch=desk, by=blocked)
    LoanRule.objects.update(holds_allowed=False)
    with pytest.raises(errors.HoldsNotAllowed):
        services.place_hold(record, make_user(), pickup_branch=desk, by=None)


def test_the_pick_list_shows_copies_on_the_shelf_that_holds_wait_for(
    record: Record, make_copy: Callable[..., Item], desk: Branch, make_user: Callable[..., User]
) -> None:
    copy = make_copy()
    reader = make_user()
    hold = services.place_hold(record, reader, pickup_branch=desk, by=reader)
    (row,) = queries.pick_list(desk)
    assert row.hold == hold and row.items == [copy]
    services.check_in(copy, by=None, branch=desk)  # pulled and scanned
    assert queries.pick_list(desk) == []
    hold.refresh_from_db()
    assert hold.state == HoldState.READY


def test_a_copy_from_the_hold_shelf_scanned_elsewhere_travels_back(
    record: Record, lent: Item, desk: Branch, nukus: Branch, make_user: Callable[..., User]
) -> None:
    reader = make_user()
    hold = services.place_hold(record, reader, pickup_branch=desk, by=reader)
    services.check_in(lent, by=None, branch=desk)
    assert services.check_in(lent, by=None, branch=nukus).routed.status == "in_transit"
    hold.refresh_from_db()
    assert hold.state == HoldState.IN_TRANSIT
    assert services.check_in(lent, by=None, branch=desk).routed.status == "on_hold_shelf"
