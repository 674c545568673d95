"""The one door to loans and holds: readers see their own, librarians everyone's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, Record
from kitobxon.circulation import queries, services

pytestmark = pytest.mark.django_db


def test_a_reader_sees_their_own_loan(copy: Item, patron: User) -> None:
    loan = services.check_out(copy, patron, by=None)
    assert queries.access_loan(patron, loan.pk) == loan
    assert list(queries.readable_loans(patron)) == [loan]


def test_a_reader_cannot_see_another_readers_loan(
    copy: Item, patron: User, make_user: Callable[..., User]
) -> None:
    loan = services.check_out(copy, patron, by=None)
    other = make_user()
    with pytest.raises(Http404):
        queries.access_loan(other, loan.pk)
    assert not queries.readable_loans(other).exists()
    with pytest.raises(Http404):
        queries.access_loan(AnonymousUser(), loan.pk)


def test_a_librarian_sees_every_loan_and_hold(
    copy: Item,
    patron: User,
    librarian: User,
    record: Record,
    desk: Branch,
    make_user: Callable[..., User],
) -> None:
    loan = services.check_out(copy, patron, by=librarian)
    waiter = make_user()
    hold = services.place_hold(record, waiter, pickup_branch=desk, by=waiter)
    assert queries.access_loan(librarian, loan.pk) == loan
    assert queries.access_hold(librarian, hold.pk) == hold
    assert queries.readable_charges(librarian).model.__name__ == "Charge"


def test_holds_are_visible_to_their_reader_only(
    record: Record, copy: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    reader, other = make_user(), make_user()
    hold = services.place_hold(record, reader, pickup_branch=desk, by=reader)
    assert queries.access_hold(reader, hold.pk) == hold
    with pytest.raises(Http404):
        queries.access_hold(other, hold.pk)
    assert not queries.readable_holds(AnonymousUser()).exists()


def test_reader_blocks_lists_every_reason(patron: User) -> None:
    from datetime import date

    patron.card_expires_on = date(2000, 1, 1)
    services.add_block(patron, reason="Kutubxona qoidasi", by=None)
    reasons = queries.reader_blocks(patron)
    assert [type(r).__name__ for r in reasons] == ["CardExpired", "BlockedByLibrarian"]
