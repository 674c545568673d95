"""The transition tables are the only way a loan or hold changes state."""

from __future__ import annotations

import pytest

from kitobxon.circulation.errors import InvalidTransition
from kitobxon.circulation.models import HoldState, LoanState
from kitobxon.circulation.states import (
    HOLD_TRANSITIONS,
    LOAN_TRANSITIONS,
    HoldEvent,
    LoanEvent,
    next_hold_state,
    next_loan_state,
)


def test_a_returned_loan_is_final() -> None:
    for event in LoanEvent:
        with pytest.raises(InvalidTransition):
            next_loan_state(LoanState.RETURNED, event)


def test_closed_holds_are_final() -> None:
    for state in (HoldState.FULFILLED, HoldState.EXPIRED, HoldState.CANCELLED):
        for event in HoldEvent:
            with pytest.raises(InvalidTransition):
                next_hold_state(state, event)


def test_a_renewal_keeps_a_loan_active() -> None:
    assert next_loan_state("active", LoanEvent.RENEW) == LoanState.ACTIVE


def test_every_state_is_reachable() -> None:
    assert {LoanState.ACTIVE} | set(LOAN_TRANSITIONS.values()) == set(LoanState)
    assert {HoldState.WAITING} | set(HOLD_TRANSITIONS.values()) == set(HoldState)
