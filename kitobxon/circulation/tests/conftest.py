"""Fixtures for circulation tests: copies on two branches and a fixed, known week."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kitobxon.catalogue.models import Branch, Item, LoanType, Record
from kitobxon.catalogue.tests.factories import branch, make_item, make_record
from kitobxon.circulation.models import TermsVersion


@pytest.fixture
def desk(db: None) -> Branch:
    return branch("toshkent")


@pytest.fixture
def nukus(db: None) -> Branch:
    return branch("nukus")


@pytest.fixture
def record(db: None) -> Record:
    return make_record()


@pytest.fixture
def make_copy(record: Record) -> Callable[..., Item]:
    def make(
        of: Record | None = None,
        *,
        at: str = "toshkent",
        loan_type: LoanType = LoanType.STANDARD,
        price: str | None = None,
    ) -> Item:
        item = make_item(of or record, at)
        changes: dict[str, object] = {}
        if loan_type != LoanType.STANDARD:
            changes["loan_type"] = loan_type
        if price is not None:
            changes["price"] = price
        if changes:
            Item.objects.filter(pk=item.pk).update(**changes)
            item.refresh_from_db()
        return item

    return make


@pytest.fixture
def copy(make_copy: Callable[..., Item]) -> Item:
    return make_copy()


@pytest.fixture(name="make_record")
def make_record_fixture(db: None) -> Callable[..., Record]:
    return make_record


@pytest.fixture
def terms_version(db: None) -> TermsVersion:
    """The lending terms' version row migration 0004 makes (a transactional test's flush
    empties every table, so the tests that count on the kept terms make sure it is there)."""
    version, _created = TermsVersion.objects.get_or_create(id=1, defaults={"token": "0" * 32})
    return version
