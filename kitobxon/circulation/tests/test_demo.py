"""The demo loader adds a calendar, loans and a hold once, and nothing the second time."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kitobxon.accounts import demo as accounts_demo
from kitobxon.catalogue.models import Branch, Item
from kitobxon.circulation import demo
from kitobxon.circulation.models import Hold, Loan

pytestmark = pytest.mark.django_db


def test_the_demo_lends_copies_and_is_safe_to_run_again(
    desk: Branch, nukus: Branch, make_copy: Callable[..., Item]
) -> None:
    accounts_demo.load()
    for _n in range(5):
        make_copy()
    first = demo.load()
    assert first["loans"] == 4 and first["holds"] == 1
    assert first["opening_hours"] == 11 and first["closure_days"] == 14
    assert demo.load() == {"opening_hours": 0, "closure_days": 0, "loans": 0, "holds": 0}
    assert Loan.objects.count() == 4 and Hold.objects.count() == 1
