"""Money owed is a ledger of lines: charges, payments and waivers add up to the balance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kitobxon.accounts.models import User
from kitobxon.circulation import errors, queries, services
from kitobxon.circulation.models import Charge, ChargeKind

pytestmark = pytest.mark.django_db


def test_payments_and_waivers_are_lines_that_reduce_the_balance(
    patron: User, librarian: User
) -> None:
    services.charge(patron.pk, ChargeKind.OVERDUE, Decimal(7000), by=None)
    services.charge(patron.pk, ChargeKind.DAMAGE, Decimal("2500.50"), by=librarian)
    assert queries.balance(patron) == Decimal("9500.50")
    services.record_payment(patron, Decimal(5000), by=librarian, note="Naqd")
    services.waive(patron, Decimal("500.50"), by=librarian, reason="Birinchi marta")
    assert queries.balance(patron) == Decimal(4000)
    assert list(Charge.objects.values_list("kind", "amount")) == [
        (ChargeKind.OVERDUE, Decimal(7000)),
        (ChargeKind.DAMAGE, Decimal("2500.50")),
        (ChargeKind.PAYMENT, Decimal(-5000)),
        (ChargeKind.WAIVER, Decimal("-500.50")),
    ]


def test_a_payment_above_what_is_owed_is_refused(patron: User, librarian: User) -> None:
    services.charge(patron.pk, ChargeKind.OVERDUE, Decimal(1000), by=None)
    with pytest.raises(errors.AmountExceedsBalance):
        services.record_payment(patron, Decimal(1001), by=librarian)
    with pytest.raises(errors.AmountExceedsBalance):
        services.waive(patron, Decimal(2000), by=librarian, reason="")
    assert queries.balance(patron) == Decimal(1000)


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-5)])
def test_a_payment_must_be_positive(amount: Decimal, patron: User) -> None:
    services.charge(patron.pk, ChargeKind.OVERDUE, Decimal(1000), by=None)
    with pytest.raises(errors.InvalidAmount):
        services.record_payment(patron, amount, by=None)


def test_the_database_refuses_a_line_whose_sign_contradicts_its_kind(patron: User) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.create(patron=patron, kind=ChargeKind.PAYMENT, amount=Decimal(100))


def test_a_reader_without_lines_owes_nothing(patron: User) -> None:
    assert queries.balance(patron) == Decimal(0)
