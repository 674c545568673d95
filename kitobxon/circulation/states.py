"""The life of a loan and of a hold, as transition tables.

Every service that changes a loan's or a hold's state asks these tables first; a move that is
not in the table is refused with ``InvalidTransition``, whatever page or job asked for it.
"""

from __future__ import annotations

from enum import StrEnum

from kitobxon.circulation.errors import InvalidTransition
from kitobxon.circulation.models import HoldState, LoanState


class LoanEvent(StrEnum):
    RENEW = "renew"
    CHECK_IN = "check_in"
    DECLARE_LOST = "declare_lost"
    CLAIM_RETURNED = "claim_returned"


LOAN_TRANSITIONS: dict[tuple[LoanState, LoanEvent], LoanState] = {
    (LoanState.ACTIVE, LoanEvent.RENEW): LoanState.ACTIVE,
    (LoanState.ACTIVE, LoanEvent.CHECK_IN): LoanState.RETURNED,
    (LoanState.ACTIVE, LoanEvent.DECLARE_LOST): LoanState.LOST,
    (LoanState.ACTIVE, LoanEvent.CLAIM_RETURNED): LoanState.CLAIMS_RETURNED,
    (LoanState.CLAIMS_RETURNED, LoanEvent.CHECK_IN): LoanState.RETURNED,
    (LoanState.CLAIMS_RETURNED, LoanEvent.DECLARE_LOST): LoanState.LOST,
    # A lost copy that turns up is checked in; the lost-copy charge stays (a waiver undoes it).
    (LoanState.LOST, LoanEvent.CHECK_IN): LoanState.RETURNED,
}


class HoldEvent(StrEnum):
    SUSPEND = "suspend"
    RESUME = "resume"
    TRAP_HERE = "trap_here"
    TRAP_ELSEWHERE = "trap_elsewhere"
    ARRIVE = "arrive"
    FULFIL = "fulfil"
    EXPIRE = "expire"
    CANCEL = "cancel"


HOLD_TRANSITIONS: dict[tuple[HoldState, HoldEvent], HoldState] = {
    (HoldState.WAITING, HoldEvent.SUSPEND): HoldState.SUSPENDED,
    (HoldState.WAITING, HoldEvent.TRAP_HERE): HoldState.READY,
    (HoldState.WAITING, HoldEvent.TRAP_ELSEWHERE): HoldState.IN_TRANSIT,
    # A reader at the desk with a copy nobody else waits for takes it: the hold is met.
    (HoldState.WAITING, HoldEvent.FULFIL): HoldState.FULFILLED,
    (HoldState.WAITING, HoldEvent.EXPIRE): HoldState.EXPIRED,
    (HoldState.WAITING, HoldEvent.CANCEL): HoldState.CANCELLED,
    (HoldState.SUSPENDED, HoldEvent.SUSPEND): HoldState.SUSPENDED,
    (HoldState.SUSPENDED, HoldEvent.RESUME): HoldState.WAITING,
    (HoldState.SUSPENDED, HoldEvent.EXPIRE): HoldState.EXPIRED,
    (HoldState.SUSPENDED, HoldEvent.CANCEL): HoldState.CANCELLED,
    (HoldState.IN_TRANSIT, HoldEvent.ARRIVE): HoldState.READY,
    (HoldState.IN_TRANSIT, HoldEvent.CANCEL): HoldState.CANCELLED,
    # A copy from the hold shelf scanned at another branch travels back to the pickup branch.
    (HoldState.READY, HoldEvent.TRAP_ELSEWHERE): HoldState.IN_TRANSIT,
    (HoldState.READY, HoldEvent.FULFIL): HoldState.FULFILLED,
    (HoldState.READY, HoldEvent.EXPIRE): HoldState.EXPIRED,
    (HoldState.READY, HoldEvent.CANCEL): HoldState.CANCELLED,
}


def next_loan_state(state: str, event: LoanEvent) -> LoanState:
    """The state a loan moves to on ``event``; refused when the table has no such move."""
    try:
        return LOAN_TRANSITIONS[(LoanState(state), event)]
    except KeyError:
        raise InvalidTransition() from None


def next_hold_state(state: str, event: HoldEvent) -> HoldState:
    """The state a hold moves to on ``event``; refused when the table has no such move."""
    try:
        return HOLD_TRANSITIONS[(HoldState(state), event)]
    except KeyError:
        raise InvalidTransition() from None


def loan_can(state: str, event: LoanEvent) -> bool:
    return (LoanState(state), event) in LOAN_TRANSITIONS


def hold_can(state: str, event: HoldEvent) -> bool:
    return (HoldState(state), event) in HOLD_TRANSITIONS
