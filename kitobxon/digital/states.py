"""The life of a digital loan and of a place on a waiting list, as transition tables.

Every service that changes a digital loan's or a waiting-list entry's state asks these tables
first; a move that is not in the table is refused with ``InvalidTransition``, whichever page,
API call or job asked for it (a loan returned by its reader while the expiry job ends it is
closed once, by whichever came first).
"""

from __future__ import annotations

from enum import StrEnum

from kitobxon.digital.errors import InvalidTransition
from kitobxon.digital.models import DigitalLoanState, WaitState


class LoanEvent(StrEnum):
    RETURN = "return"
    EXPIRE = "expire"


LOAN_TRANSITIONS: dict[tuple[DigitalLoanState, LoanEvent], DigitalLoanState] = {
    (DigitalLoanState.ACTIVE, LoanEvent.RETURN): DigitalLoanState.RETURNED,
    (DigitalLoanState.ACTIVE, LoanEvent.EXPIRE): DigitalLoanState.EXPIRED,
}


class WaitEvent(StrEnum):
    OFFER = "offer"
    BORROW = "borrow"
    LEAVE = "leave"
    EXPIRE = "expire"


WAIT_TRANSITIONS: dict[tuple[WaitState, WaitEvent], WaitState] = {
    # A copy freed up: it is kept for the first reader waiting until their offer runs out.
    (WaitState.WAITING, WaitEvent.OFFER): WaitState.OFFERED,
    # A waiting reader may take a copy nobody ahead of them needs (the licence grew).
    (WaitState.WAITING, WaitEvent.BORROW): WaitState.FULFILLED,
    (WaitState.WAITING, WaitEvent.LEAVE): WaitState.CANCELLED,
    # The licence ran out: nobody will borrow the title any more.
    (WaitState.WAITING, WaitEvent.EXPIRE): WaitState.EXPIRED,
    (WaitState.OFFERED, WaitEvent.BORROW): WaitState.FULFILLED,
    # Giving up a kept copy passes it to the next reader waiting.
    (WaitState.OFFERED, WaitEvent.LEAVE): WaitState.CANCELLED,
    # Not borrowed in time (or the licence ran out): the copy passes to the next reader.
    (WaitState.OFFERED, WaitEvent.EXPIRE): WaitState.EXPIRED,
}

OPEN_WAIT_STATES = (WaitState.WAITING, WaitState.OFFERED)


def next_loan_state(state: str, event: LoanEvent) -> DigitalLoanState:
    """The state a digital loan moves to on ``event``; refused when the table has no such move."""
    try:
        return LOAN_TRANSITIONS[(DigitalLoanState(state), event)]
    except KeyError:
        raise InvalidTransition() from None


def next_wait_state(state: str, event: WaitEvent) -> WaitState:
    """The state a waiting-list entry moves to on ``event``; refused when there is no such move."""
    try:
        return WAIT_TRANSITIONS[(WaitState(state), event)]
    except KeyError:
        raise InvalidTransition() from None


def loan_can(state: str, event: LoanEvent) -> bool:
    return (DigitalLoanState(state), event) in LOAN_TRANSITIONS


def wait_can(state: str, event: WaitEvent) -> bool:
    return (WaitState(state), event) in WAIT_TRANSITIONS
