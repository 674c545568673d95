"""Reading history is kept only when the reader opts in."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, Record
from kitobxon.circulation import privacy, queries, services
from kitobxon.circulation.models import Hold, Loan
from kitobxon.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_returned_loan_forgets_its_reader_by_default(
    copy: Item, patron: User, desk: Branch
) -> None:
    loan = services.check_out(copy, patron, by=None)
    services.renew(loan, by=patron)
    services.check_in(copy, by=None, branch=desk)
    loan.refresh_from_db()
    assert loan.patron is None and loan.segment == patron.segment  # kept for statistics
    assert not queries.readable_loans(patron).exists()
    # Nothing in the audit trail ties the reader to the loan either.
    events = AuditEvent.objects.filter(object_type="circulation.loan", object_id=str(loan.pk))
    assert all(e.actor_id != patron.pk for e in events)
    assert events.exists() and all("patron" not in e.changes for e in events)


def test_a_reader_who_opts_in_keeps_their_history(copy: Item, patron: User, desk: Branch) -> None:
    services.set_keep_history(patron, True, by=patron)
    loan = services.check_out(copy, patron, by=None)
    services.check_in(copy, by=None, branch=desk)
    assert list(queries.readable_loans(patron)) == [loan]


def test_opting_out_forgets_the_history_kept_so_far(
    copy: Item, patron: User, desk: Branch, record: Record
) -> None:
    services.set_keep_history(patron, True, by=patron)
    services.check_out(copy, patron, by=None)
    services.check_in(copy, by=None, branch=desk)
    current = services.check_out(copy, patron, by=None)
    services.set_keep_history(patron, False, by=patron)
    assert list(queries.readable_loans(patron)) == [current]  # the open loan stays


def test_a_fulfilled_hold_forgets_its_reader(
    record: Record, copy: Item, desk: Branch, make_user: Callable[..., User]
) -> None:
    reader = make_user()
    hold = services.place_hold(record, reader, pickup_branch=desk, by=reader)
    services.check_in(copy, by=None, branch=desk)
    services.check_out(copy, reader, by=None)
    hold.refresh_from_db()
    assert hold.patron is None


def test_the_privacy_export_and_erase_cover_circulation(
    copy: Item, patron: User, desk: Branch, record: Record, make_copy: Callable[..., Item]
) -> None:
    services.set_keep_history(patron, True, by=patron)
    services.check_out(copy, patron, by=None)
    services.check_in(copy, by=None, branch=desk)
    open_loan = services.check_out(make_copy(), patron, by=None)
    exported = privacy.export(patron)
    assert len(exported["loans"]) == 2 and exported["keep_history"] is True
    privacy.erase(patron)
    assert list(Loan.objects.filter(patron=patron)) == [open_loan]
    assert not Hold.objects.filter(patron=patron).exists()
