"""Librarians edit the rules matrix and the calendar through audited services."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch
from kitobxon.circulation import errors, rules, services, terms
from kitobxon.circulation.models import LoanRule
from kitobxon.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_librarian_adds_a_branch_rule_that_then_wins(desk: Branch, librarian: User) -> None:
    rule = services.save_rule(
        LoanRule(segment="student", loan_type="standard", branch=desk, loan_period=21),
        by=librarian,
    )
    assert rules.rule_for("student", "standard", desk.pk) == rule
    rule.fine_per_day = Decimal(1500)
    services.save_rule(rule, by=librarian)
    event = AuditEvent.objects.filter(action="loan_rule.saved").first()
    assert event is not None and event.changes == {"fine_per_day": ["0.00", "1500"]}
    with pytest.raises(errors.RuleExists):
        services.save_rule(
            LoanRule(segment="student", loan_type="standard", branch=desk), by=librarian
        )
    services.delete_rule(rule, by=librarian)
    assert rules.rule_for("student", "standard", desk.pk).loan_period == 14


def test_a_librarian_sets_hours_and_closure_days(desk: Branch, librarian: User) -> None:
    services.set_opening_hours(desk, 0, opens=time(9), closes=time(18), by=librarian)
    services.set_opening_hours(desk, 1, opens=time(9), closes=time(18), by=librarian)
    closure = services.add_closure_day(date(2025, 3, 4), "Sanitariya kuni", by=librarian)
    week = terms.calendar_for(desk)
    assert week.is_open(date(2025, 3, 3)) and not week.is_open(date(2025, 3, 4))
    assert not week.is_open(date(2025, 3, 5))  # Wednesday has no hours
    services.remove_closure_day(closure, by=librarian)
    services.set_opening_hours(desk, 0, opens=None, closes=None, by=librarian)
    week = terms.calendar_for(desk)
    assert week.is_open(date(2025, 3, 4)) and not week.is_open(date(2025, 3, 3))
    with pytest.raises(errors.InvalidHours):
        services.set_opening_hours(desk, 2, opens=time(18), closes=time(9), by=librarian)
