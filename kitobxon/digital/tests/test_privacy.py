"""Digital reading is the reader's: ended loans forget them, the privacy page exports and erases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kitobxon.accounts.models import Role
from kitobxon.core.models import AuditEvent
from kitobxon.digital import privacy
from kitobxon.digital.models import Access, DigitalLoan, DigitalLoanState, WaitlistEntry, WaitState
from kitobxon.digital.services import licences, loans, reading
from kitobxon.digital.tests.factories import attach, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def title():
    target = record()
    attach(target, access=Access.LICENSED)
    licences.save_licence(target, copies=1, loan_days=7, by=None)
    return target


def test_an_ended_loan_forgets_its_reader_after_an_hour(make_user, title) -> None:
    reader = make_user(Role.PATRON)
    loan = loans.borrow(title, reader, by=reader)
    loans.return_loan(loan, by=reader)
    assert loans.forget_ended() == 0  # the "ended" notice may still need the reader
    assert loans.forget_ended(timezone.now() + timedelta(hours=2)) == 1
    loan.refresh_from_db()
    assert (loan.reader_id, loan.state) == (None, DigitalLoanState.RETURNED)
    # Nor does the audit trail name the reader of their own borrowing.
    events = AuditEvent.objects.filter(object_type="digital.digitalloan", object_id=str(loan.pk))
    assert events.count() == 2
    assert all(e.actor_id is None and e.changes["by"] == "reader" for e in events)


def test_the_privacy_export_lists_loans_waits_and_positions(make_user, title) -> None:
    first, second = make_user(Role.PATRON), make_user(Role.PATRON)
    loans.borrow(title, first, by=first)
    loans.join_waitlist(title, second, by=second)
    file = title.digital_files.get()
    reading.save_position(file, first, position="3", progress=0.3)
    exported = privacy.export(first)
    assert [row["state"] for row in exported["digital_loans"]] == ["active"]
    assert exported["reading_positions"][0]["position"] == "3"
    assert [row["state"] for row in privacy.export(second)["digital_waits"]] == ["waiting"]


def test_erasing_returns_the_loan_and_the_copy_goes_to_the_next_reader(make_user, title) -> None:
    first, second = make_user(Role.PATRON), make_user(Role.PATRON)
    loans.borrow(title, first, by=first)
    loans.join_waitlist(title, second, by=second)
    privacy.erase(first)
    assert not DigitalLoan.objects.filter(reader=first).exists()
    assert not WaitlistEntry.objects.filter(reader=first).exists()
    assert WaitlistEntry.objects.get(reader=second).state == WaitState.OFFERED
