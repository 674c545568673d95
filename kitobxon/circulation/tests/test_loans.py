"""The lending desk: check-out, check-in, renewal, lost, damaged, claims-returned, and every
refusal with its reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from kitobxon.accounts.models import Segment, User
from kitobxon.catalogue.models import Branch, Item, ItemStatus, LoanType, Record
from kitobxon.circulation import errors, queries, services, terms
from kitobxon.circulation.models import (
    Charge,
    ChargeKind,
    LoanRule,
    LoanState,
    TermsVersion,
    Transit,
)
from kitobxon.circulation.tests.factories import MONDAY, local
from kitobxon.core.models import AuditEvent
from kitobxon.ledger import services as ledger
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db


def loan_entries(kind: str | None = None) -> list[Entry]:
    entries = Entry.objects.filter(subject__startswith="loan:")
    if kind:
        entries = entries.filter(kind=kind)
    return list(entries.order_by("id"))


def test_a_check_out_lends_the_copy_with_a_due_date_audit_and_ledger_entry(
    copy: Item, patron: User, librarian: User
) -> None:
    loan = services.check_out(copy, patron, by=librarian, at=MONDAY)
    copy.refresh_from_db()
    assert loan.state == LoanState.ACTIVE
    assert loan.patron == patron and loan.segment == Segment.STUDENT
    assert loan.due_at.date() == date(2025, 3, 17)
    assert copy.status == ItemStatus.ON_LOAN
    event = AuditEvent.objects.get(action="loan.checked_out")
    assert event.actor == librarian and event.object_id == str(loan.pk)
    (entry,) = loan_entries()
    assert entry.kind == "loan" and entry.subject == f"loan:{loan.pk}"
    body = json.loads(entry.body)
    assert body["data"] == {"item": copy.barcode, "due": "2025-03-17T23:59:59+05:00"}
    assert body["reader"] == ledger.pseudonym(patron, f"loan:{loan.pk}")  # never the id


def test_a_ledger_entry_exists_only_when_the_loan_commits(copy: Item, patron: User) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.check_out(copy, patron, by=None)
        assert len(loan_entries()) == 1
        raise RuntimeError("the desk's transaction fails afterwards")
    assert loan_entries() == []
    Item.objects.filter(pk=copy.pk).update(loan_type=LoanType.REFERENCE)
    with pytest.raises(errors.ItemNotForLoan):
        services.check_out(copy, patron, by=None)
    assert loan_entries() == []


# --- refusals at check-out -------------------------------------------------------------------


def test_check_out_is_refused_with_an_expired_card(copy: Item, patron: User) -> None:
    patron.card_expires_on = date(2025, 3, 2)
    patron.save(update_fields=["card_expires_on"])
    with pytest.raises(errors.CardExpired):
        services.check_out(copy, patron, by=None, at=MONDAY)


def test_check_out_is_refused_above_the_fine_threshold(copy: Item, patron: User) -> None:
    services.charge(patron.pk, ChargeKind.DAMAGE, Decimal(20001), by=None)
    with pytest.raises(errors.FinesOverLimit):
        services.check_out(copy, patron, by=None)
    services.record_payment(patron, Decimal(1), by=None)
    assert services.check_out(copy, patron, by=None)  # exactly at the threshold is allowed


def test_check_out_is_refused_while_a_librarians_block_lasts(
    copy: Item, patron: User, librarian: User
) -> None:
    block = services.add_block(patron, reason="Kitob yirtilgan", by=librarian)
    with pytest.raises(errors.BlockedByLibrarian) as refused:
        services.check_out(copy, patron, by=librarian)
    assert refused.value.message == "Kitob yirtilgan"
    services.lift_block(block, by=librarian)
    assert services.check_out(copy, patron, by=librarian)


def test_a_block_until_a_date_ends_by_itself(copy: Item, patron: User) -> None:
    services.add_block(patron, reason="Ogohlantirish", by=None, until=date(2025, 3, 2))
    assert services.check_out(copy, patron, by=None, at=MONDAY)


def test_check_out_is_refused_for_an_inactive_account(copy: Item, patron: User) -> None:
    patron.is_active = False
    patron.save(update_fields=["is_active"])
    with pytest.raises(errors.AccountInactive):
        services.check_out(copy, patron, by=None)


def test_check_out_is_refused_at_the_rules_limit(
    make_user: Callable[..., User], make_copy: Callable[..., Item]
) -> None:
    pupil = make_user(segment=Segment.PUPIL)  # 3 items
    for _n in range(3):
        services.check_out(make_copy(), pupil, by=None)
    with pytest.raises(errors.LoanLimitReached) as refused:
        services.check_out(make_copy(), pupil, by=None)
    assert "3" in refused.value.message


def test_a_short_loan_limit_counts_only_short_loans(
    patron: User, make_copy: Callable[..., Item]
) -> None:
    for _n in range(3):
        services.check_out(make_copy(), patron, by=None)
    for _n in range(2):
        services.check_out(make_copy(loan_type=LoanType.SHORT_LOAN), patron, by=None)
    with pytest.raises(errors.LoanLimitReached):
        services.check_out(make_copy(loan_type=LoanType.SHORT_LOAN), patron, by=None)


def test_check_out_is_refused_for_a_reference_copy(
    patron: User, make_copy: Callable[..., Item]
) -> None:
    with pytest.raises(errors.ItemNotForLoan):
        services.check_out(make_copy(loan_type=LoanType.REFERENCE), patron, by=None)


@pytest.mark.parametrize(
    "status", [ItemStatus.ON_LOAN, ItemStatus.IN_REPAIR, ItemStatus.LOST, ItemStatus.WITHDRAWN]
)
def test_check_out_is_refused_for_a_copy_that_is_not_available(
    status: ItemStatus, copy: Item, patron: User
) -> None:
    Item.objects.filter(pk=copy.pk).update(status=status)
    with pytest.raises(errors.ItemNotAvailable):
        services.check_out(copy, patron, by=None)


def test_a_copy_on_loan_cannot_be_lent_twice(copy: Item, make_user: Callable[..., User]) -> None:
    services.check_out(copy, make_user(), by=None)
    with pytest.raises(errors.ItemNotAvailable):
        services.check_out(copy, make_user(), by=None)


def test_check_out_is_refused_when_the_copy_is_kept_for_another_reader(
    record: Record, copy: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    waiter, walk_in = make_user(), make_user()
    services.place_hold(record, waiter, pickup_branch=desk, by=waiter)
    # The only copy on the shelf is needed by the reader waiting for it.
    with pytest.raises(errors.ItemOnHoldForAnother):
        services.check_out(copy, walk_in, by=None)
    services.check_in(copy, by=None, branch=desk)  # pulled from the shelf: on the hold shelf
    with pytest.raises(errors.ItemOnHoldForAnother):
        services.check_out(copy, walk_in, by=None)
    assert services.check_out(copy, waiter, by=None).patron == waiter


def test_a_walk_in_may_take_a_copy_when_enough_remain_for_the_queue(
    record: Record, make_copy: Callable[..., Item], desk: Branch, make_user: Callable[..., User]
) -> None:
    first, second = make_copy(), make_copy()
    waiter = make_user()
    services.place_hold(record, waiter, pickup_branch=desk, by=waiter)
    assert services.check_out(first, make_user(), by=None)
    with pytest.raises(errors.ItemOnHoldForAnother):
        services.check_out(second, make_user(), by=None)


# --- check-in --------------------------------------------------------------------------------


def test_a_check_in_returns_the_copy_to_the_shelf(copy: Item, patron: User, desk: Branch) -> None:
    loan = services.check_out(copy, patron, by=None, at=MONDAY)
    result = services.check_in(copy, by=None, branch=desk, at=local(2025, 3, 10))
    copy.refresh_from_db()
    assert result.loan is not None and result.loan.pk == loan.pk
    assert result.fine == 0
    assert result.routed.status == ItemStatus.AVAILABLE == copy.status
    loan.refresh_from_db()
    assert loan.state == LoanState.RETURNED and loan.returned_at == local(2025, 3, 10)
    assert [e.kind for e in loan_entries()] == ["loan", "return"]


def test_a_copy_of_another_branch_goes_home_in_transit(
    make_copy: Callable[..., Item], patron: User, desk: Branch, nukus: Branch
) -> None:
    copy = make_copy(at="nukus")
    services.check_out(copy, patron, by=None)
    result = services.check_in(copy, by=None, branch=desk)
    assert result.routed.status == ItemStatus.IN_TRANSIT
    transit = Transit.objects.get(item=copy, received_at__isnull=True)
    assert (transit.from_branch, transit.to_branch) == (desk, nukus)
    assert list(queries.transit_list(desk)) == [transit]
    # Scanned on arrival at home: back on the shelf, the transit closed.
    assert services.check_in(copy, by=None, branch=nukus).routed.status == ItemStatus.AVAILABLE
    assert not Transit.objects.filter(received_at__isnull=True).exists()


def test_checking_in_a_copy_on_the_shelf_changes_nothing(copy: Item, desk: Branch) -> None:
    result = services.check_in(copy, by=None, branch=desk)
    assert result.loan is None and result.routed.status == ItemStatus.AVAILABLE


# --- renewal ---------------------------------------------------------------------------------


def test_a_renewal_extends_the_due_date_from_the_old_one(copy: Item, patron: User) -> None:
    loan = services.check_out(copy, patron, by=None, at=MONDAY)
    renewed = services.renew(loan, by=patron, at=local(2025, 3, 10))
    assert renewed.due_at.date() == date(2025, 3, 31)  # 17 March + 14 days
    assert renewed.renewals == 1
    assert [e.kind for e in loan_entries()] == ["loan", "renewal"]
    event = AuditEvent.objects.get(action="loan.renewed")
    assert event.actor is None and event.changes["by"] == "reader"


def test_renewal_is_refused_at_the_renewal_limit(
    make_user: Callable[..., User], copy: Item
) -> None:
    pupil = make_user(segment=Segment.PUPIL)  # one renewal
    loan = services.check_out(copy, pupil, by=None, at=MONDAY)
    services.renew(loan, by=pupil, at=MONDAY)
    with pytest.raises(errors.RenewalLimitReached):
        services.renew(loan, by=pupil, at=MONDAY)


def test_renewal_is_refused_when_a_hold_is_waiting(
    record: Record, copy: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    borrower, waiter = make_user(), make_user()
    loan = services.check_out(copy, borrower, by=None)
    services.place_hold(record, waiter, pickup_branch=desk, by=waiter)
    with pytest.raises(errors.HoldWaiting):
        services.renew(loan, by=borrower)


def test_renewal_is_refused_when_overdue_too_long(copy: Item, patron: User) -> None:
    loan = services.check_out(copy, patron, by=None, at=MONDAY)
    with pytest.raises(errors.OverdueTooLong):
        services.renew(loan, by=patron, at=loan.due_at + timedelta(days=8))


def test_renewal_is_refused_for_a_blocked_reader(copy: Item, patron: User) -> None:
    loan = services.check_out(copy, patron, by=None)
    services.add_block(patron, reason="Hujjatlar", by=None)
    with pytest.raises(errors.BlockedByLibrarian):
        services.renew(loan, by=patron)


def test_a_returned_loan_cannot_be_renewed(copy: Item, patron: User, desk: Branch) -> None:
    loan = services.check_out(copy, patron, by=None)
    services.check_in(copy, by=None, branch=desk)
    with pytest.raises(errors.InvalidTransition):
        services.renew(loan, by=None)


def test_renewing_an_overdue_loan_charges_the_fine_so_far_and_the_cap_holds(
    copy: Item, patron: User, desk: Branch
) -> None:
    LoanRule.objects.filter(segment="student").update(max_fine=Decimal(4000))
    loan = services.check_out(copy, patron, by=None, at=MONDAY)
    # Due 17 March; renewed on the 20th: 3 days late at 1000 so'm.
    services.renew(loan, by=patron, at=local(2025, 3, 20))
    assert queries.balance(patron) == Decimal(3000)
    loan.refresh_from_db()
    assert loan.due_at.date() == date(2025, 4, 3)
    # Back ten days after the new due date: only 1000 more fits under the 4000 cap.
    result = services.check_in(copy, by=None, branch=desk, at=local(2025, 4, 13))
    assert result.fine == Decimal(1000)
    assert queries.balance(patron) == Decimal(4000)


# --- lost, damaged, claims returned ----------------------------------------------------------


def test_a_lost_copy_is_charged_at_its_price(make_copy: Callable[..., Item], patron: User) -> None:
    copy = make_copy(price="85000")
    loan = services.check_out(copy, patron, by=None, at=MONDAY)
    services.mark_lost(loan, by=None, at=local(2025, 3, 10))
    copy.refresh_from_db()
    assert copy.status == ItemStatus.LOST
    assert list(Charge.objects.values_list("kind", "amount")) == [(ChargeKind.LOST, Decimal(85000))]
    loan.refresh_from_db()
    assert loan.state == LoanState.LOST


def test_a_lost_copy_without_a_price_is_charged_the_librarys_fee(
    copy: Item, patron: User, desk: Branch
) -> None:
    loan = services.check_out(copy, patron, by=None)
    services.mark_lost(loan, by=None)
    assert queries.balance(patron) == Decimal(100000)
    # Found again: checked in, the loan is closed and the copy is back on the shelf.
    result = services.check_in(copy, by=None, branch=desk)
    assert result.routed.status == ItemStatus.AVAILABLE
    loan.refresh_from_db()
    assert loan.state == LoanState.RETURNED


def test_claims_returned_stops_the_fine_and_frees_the_limit(
    make_user: Callable[..., User], make_copy: Callable[..., Item], desk: Branch
) -> None:
    pupil = make_user(segment=Segment.PUPIL)
    copies = [make_copy() for _ in range(3)]
    loans = [services.check_out(c, pupil, by=None, at=MONDAY) for c in copies]
    # Due 10 March; the reader claims on the 14th (4 days late, 2 grace days exceeded).
    services.claims_returned(loans[0], by=None, at=local(2025, 3, 14))
    assert services.check_out(make_copy(), pupil, by=None, at=local(2025, 3, 14))
    result = services.check_in(copies[0], by=None, branch=desk, at=local(2025, 4, 30))
    assert result.fine == Decimal(2000)
    with pytest.raises(errors.InvalidTransition):
        services.claims_returned(loans[0], by=None)


def test_a_damaged_copy_on_the_shelf_goes_for_repair_and_back(
    copy: Item, patron: User, desk: Branch, librarian: User
) -> None:
    line = services.mark_damaged(
        copy, by=librarian, note="Muqova yirtilgan", amount=Decimal(15000), charge_to=patron
    )
    assert line is not None and line.amount == Decimal(15000)
    copy.refresh_from_db()
    assert copy.status == ItemStatus.IN_REPAIR
    with pytest.raises(errors.ItemNotAvailable):
        services.check_out(copy, patron, by=librarian)
    assert services.check_in(copy, by=librarian, branch=desk).routed.status == "available"


def test_damage_to_a_copy_on_loan_is_charged_to_its_reader(copy: Item, patron: User) -> None:
    services.check_out(copy, patron, by=None)
    services.mark_damaged(copy, by=None, note="Suv tegdi", amount=Decimal(5000))
    assert queries.balance(patron) == Decimal(5000)
    with pytest.raises(errors.InvalidAmount):
        services.mark_damaged(copy, by=None, note="", amount=Decimal(0))


def test_the_desk_work_runs_a_fixed_number_of_statements(
    make_copy: Callable[..., Item],
    patron: User,
    librarian: User,
    desk: Branch,
    django_assert_num_queries: Callable[..., object],
    terms_version: TermsVersion,
) -> None:
    # Check-out: the lending terms' version (1, before the transaction: the rules and the
    # calendars themselves are kept in memory, see test_terms); lock the reader and the copy;
    # one read (balance, blocks, loans out, holds); the loan; the copy's status through the
    # catalogue (3: update, audit, search, the copy already locked); audit; ledger.
    copy = make_copy()
    terms.current()
    with django_assert_num_queries(12):  # type: ignore[attr-defined]
        loan = services.check_out(copy, patron, by=librarian)
    # Renewal: the terms' version; lock record, copy, loan; one read (reader, balance,
    # blocks, holds); update; audit; ledger.
    with django_assert_num_queries(10):  # type: ignore[attr-defined]
        services.renew(loan, by=librarian)
    with django_assert_num_queries(12):  # type: ignore[attr-defined]
        services.check_in(copy, by=librarian, branch=desk)
