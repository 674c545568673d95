"""What circulation tells readers about, handed to whoever delivers it, after the commit.

Services call ``announce`` inside their transaction; the notice reaches the registered
deliverers only once the change has committed (``transaction.on_commit``), so a reader is
never told about a hold that rolled back. The daily notice job and the Telegram bot (coming)
register deliverers with ``subscribe``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction


class NoticeKind(StrEnum):
    HOLD_READY = "hold_ready"
    HOLD_EXPIRED = "hold_expired"
    HOLD_EXPIRING = "hold_expiring"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    patron_id: int
    subject: str  # "hold:7", "loan:12"


Deliverer = Callable[[Notice], None]
_deliverers: list[Deliverer] = []


def subscribe(deliver: Deliverer) -> None:
    if deliver not in _deliverers:
        _deliverers.append(deliver)


def unsubscribe(deliver: Deliverer) -> None:
    if deliver in _deliverers:
        _deliverers.remove(deliver)


def announce(kind: NoticeKind, *, patron_id: int | None, subject: str) -> None:
    """Deliver a notice once the current transaction commits."""
    if patron_id is None:
        return
    notice = Notice(kind, patron_id, subject)

    def deliver() -> None:
        for deliverer in list(_deliverers):
            deliverer(notice)

    transaction.on_commit(deliver)
