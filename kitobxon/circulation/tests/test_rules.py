"""The rules matrix: shipped defaults and which rule wins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from kitobxon.accounts.models import Segment, User
from kitobxon.catalogue.models import Branch, Item, LoanType
from kitobxon.circulation import rules, services
from kitobxon.circulation.errors import ItemNotForLoan
from kitobxon.circulation.models import LoanRule, PeriodUnit
from kitobxon.circulation.tests.factories import MONDAY, local

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("segment", "days", "renewals"),
    [
        (Segment.STUDENT, 14, 3),
        (Segment.PUPIL, 7, 1),
        (Segment.RESEARCHER, 30, 2),
        (Segment.TEACHER, 30, 2),
        (Segment.GUEST, 14, 1),
    ],
)
def test_the_shipped_rules_lend_by_segment(
    segment: Segment, days: int, renewals: int, desk: Branch
) -> None:
    rule = rules.rule_for(segment, LoanType.STANDARD, desk.pk)
    assert (rule.loan_period, rule.period_unit, rule.renewals_allowed) == (
        days,
        PeriodUnit.DAYS,
        renewals,
    )
    assert rule.fine_per_day > 0 and rule.max_fine >= rule.fine_per_day


def test_a_short_loan_copy_is_lent_for_hours_to_every_segment(desk: Branch) -> None:
    for segment in Segment:
        rule = rules.rule_for(segment, LoanType.SHORT_LOAN, desk.pk)
        assert (rule.loan_period, rule.period_unit) == (3, PeriodUnit.HOURS)


def test_a_due_date_follows_the_readers_segment(
    make_user: Callable[..., User], make_copy: Callable[..., Item]
) -> None:
    pupil = make_user(segment=Segment.PUPIL)
    teacher = make_user(segment=Segment.TEACHER)
    assert services.check_out(make_copy(), pupil, by=None, at=MONDAY).due_at == local(
        2025, 3, 10, 23, 59
    ) + timedelta(seconds=59)
    assert services.check_out(make_copy(), teacher, by=None, at=MONDAY).due_at.date() == (
        local(2025, 4, 2).date()
    )


def test_reference_copies_are_never_lent(patron: User, make_copy: Callable[..., Item]) -> None:
    LoanRule.objects.create(segment="student", loan_type="any", loan_period=3)  # even so
    with pytest.raises(ItemNotForLoan):
        services.check_out(make_copy(loan_type=LoanType.REFERENCE), patron, by=None)


def _rule(**fields: object) -> LoanRule:
    return LoanRule.objects.create(**{"loan_period": 1, **fields})


def test_the_most_specific_rule_wins_branch_then_segment_then_loan_type(
    desk: Branch, nukus: Branch
) -> None:
    LoanRule.objects.all().delete()
    everywhere = _rule(segment="any", loan_type="any")
    by_type = _rule(segment="any", loan_type="standard")
    by_segment = _rule(segment="student", loan_type="any")
    by_both = _rule(segment="student", loan_type="standard")
    branch_only = _rule(segment="any", loan_type="any", branch=nukus)
    branch_type = _rule(segment="any", loan_type="standard", branch=nukus)

    def winner(segment: str, loan_type: str, branch: Branch) -> LoanRule:
        return rules.rule_for(segment, loan_type, branch.pk)

    assert winner("student", "standard", desk) == by_both
    assert winner("student", "short_loan", desk) == by_segment  # segment beats loan type
    assert winner("pupil", "standard", desk) == by_type
    assert winner("pupil", "short_loan", desk) == everywhere
    assert winner("student", "standard", nukus) == branch_type  # branch beats everything
    assert winner("pupil", "short_loan", nukus) == branch_only


def test_without_any_rule_a_safe_fallback_applies(desk: Branch) -> None:
    LoanRule.objects.all().delete()
    rule = rules.rule_for("student", "standard", desk.pk)
    assert rule.pk is None and rule.loan_period == 14 and rule.fine_per_day == Decimal(0)
