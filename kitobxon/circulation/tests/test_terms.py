"""The lending terms kept in memory: read again exactly when the database's differ."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from kitobxon.catalogue.models import Branch, LoanType
from kitobxon.circulation import rules, services, terms
from kitobxon.circulation.models import ClosureDay, LoanRule, OpeningHours, TermsVersion
from kitobxon.circulation.tests.factories import open_hours

STUDENT, STANDARD = "student", LoanType.STANDARD


def _rule(desk: Branch, **fields: object) -> LoanRule:
    return LoanRule.objects.create(segment=STUDENT, loan_type=STANDARD, branch=desk, **fields)


@pytest.mark.django_db
def test_kept_terms_cost_one_single_row_read(
    desk: Branch, terms_version: TermsVersion, django_assert_num_queries: Callable[..., object]
) -> None:
    _rule(desk, loan_period=21)
    # The version, the rules, the hours, the closures, the version again (unchanged: kept).
    with django_assert_num_queries(5):  # type: ignore[attr-defined]
        assert rules.rule_for(STUDENT, STANDARD, desk.pk).loan_period == 21
    with django_assert_num_queries(1):  # type: ignore[attr-defined]
        assert rules.rule_for(STUDENT, STANDARD, desk.pk).loan_period == 21
    with django_assert_num_queries(1):  # type: ignore[attr-defined]
        assert terms.calendar_for(desk).is_open(date(2025, 3, 4))


@pytest.mark.django_db
def test_every_kind_of_write_changes_the_version(desk: Branch, terms_version: TermsVersion) -> None:
    rule = _rule(desk, loan_period=21)
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).loan_period == 21
    # Around the services: a bulk update, a raw statement, a delete.
    LoanRule.objects.filter(pk=rule.pk).update(loan_period=30)
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).loan_period == 30
    with connection.cursor() as cursor:
        cursor.execute("UPDATE circulation_loanrule SET max_items = 2 WHERE id = %s", [rule.pk])
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).max_items == 2
    LoanRule.objects.filter(pk=rule.pk).delete()
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).pk != rule.pk
    # Calendars: hours and closures, for one branch and for all.
    assert terms.calendar_for(desk).is_open(date(2025, 3, 4))  # a Tuesday, no timetable
    open_hours(desk, [0], "09:00", "18:00")  # Mondays only
    assert not terms.calendar_for(desk).is_open(date(2025, 3, 4))
    OpeningHours.objects.filter(branch=desk).delete()
    ClosureDay.objects.create(date=date(2025, 3, 4), reason="Bayram")
    assert not terms.calendar_for(desk).is_open(date(2025, 3, 4))
    services.remove_closure_day(ClosureDay.objects.get(), by=None)
    assert terms.calendar_for(desk).is_open(date(2025, 3, 4))


@pytest.mark.django_db
def test_a_rolled_back_change_is_forgotten(desk: Branch, terms_version: TermsVersion) -> None:
    _rule(desk, fine_per_day=Decimal(500))
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).fine_per_day == 500
    with pytest.raises(RuntimeError), transaction.atomic():
        LoanRule.objects.update(fine_per_day=Decimal(900))
        assert rules.rule_for(STUDENT, STANDARD, desk.pk).fine_per_day == 900
        raise RuntimeError("the librarian's change fails")
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).fine_per_day == 500
    # A later change is a new version, never mistaken for the rolled-back one.
    LoanRule.objects.update(fine_per_day=Decimal(700))
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).fine_per_day == 700


@pytest.mark.django_db
def test_without_the_version_row_nothing_is_kept(
    desk: Branch, django_assert_num_queries: Callable[..., object]
) -> None:
    TermsVersion.objects.all().delete()
    _rule(desk, loan_period=21)
    for _twice in range(2):
        with django_assert_num_queries(4):  # type: ignore[attr-defined]
            assert rules.rule_for(STUDENT, STANDARD, desk.pk).loan_period == 21


@pytest.mark.django_db(transaction=True)
def test_a_change_another_connection_commits_is_seen(
    desk: Branch, terms_version: TermsVersion
) -> None:
    rule = _rule(desk, loan_period=21)
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).loan_period == 21

    def librarian_elsewhere() -> None:
        try:
            LoanRule.objects.filter(pk=rule.pk).update(loan_period=7)
        finally:
            connection.close()

    worker = threading.Thread(target=librarian_elsewhere)
    worker.start()
    worker.join()
    assert rules.rule_for(STUDENT, STANDARD, desk.pk).loan_period == 7
