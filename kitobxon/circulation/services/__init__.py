"""Every write of the lending desk: loans, holds, money owed, blocks and reader choices.

Views, API handlers, admin actions and jobs call these; none of them saves a circulation
model itself. Each service refuses with a ``circulation.errors`` sentence.
"""

from kitobxon.circulation.services.fines import charge, record_payment, waive
from kitobxon.circulation.services.holds import (
    ExpiryReport,
    Routed,
    cancel_hold,
    expire_holds,
    place_hold,
    resume_hold,
    suspend_hold,
)
from kitobxon.circulation.services.loans import (
    CheckIn,
    check_in,
    check_out,
    claims_returned,
    mark_damaged,
    mark_lost,
    renew,
)
from kitobxon.circulation.services.matrix import (
    add_closure_day,
    delete_rule,
    remove_closure_day,
    save_rule,
    set_opening_hours,
)
from kitobxon.circulation.services.readers import (
    add_block,
    ensure_may_borrow,
    forget_history,
    lift_block,
    set_keep_history,
)

__all__ = [
    "CheckIn",
    "ExpiryReport",
    "Routed",
    "add_block",
    "add_closure_day",
    "cancel_hold",
    "charge",
    "check_in",
    "check_out",
    "claims_returned",
    "delete_rule",
    "ensure_may_borrow",
    "expire_holds",
    "forget_history",
    "lift_block",
    "mark_damaged",
    "mark_lost",
    "place_hold",
    "record_payment",
    "remove_closure_day",
    "renew",
    "resume_hold",
    "save_rule",
    "set_keep_history",
    "set_opening_hours",
    "suspend_hold",
    "waive",
]
