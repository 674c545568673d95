"""What circulation's JSON API reads and writes. Readers and items are named the way the desk
names them: a library card number and an item barcode."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class Refusal(Schema):
    """A domain refusal (409): the sentence for the person, and the refusal's name."""

    detail: str
    code: str


class LoanOut(Schema):
    id: int
    item_id: int
    barcode: str
    record_id: int
    title: str
    patron_id: int | None
    branch: str
    state: str
    loaned_at: datetime
    due_at: datetime
    renewals: int
    renewed_at: datetime | None
    returned_at: datetime | None
    overdue: bool

    @staticmethod
    def resolve_barcode(obj: Any) -> str:
        return str(obj.item.barcode)

    @staticmethod
    def resolve_record_id(obj: Any) -> int:
        return int(obj.item.record_id)

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.item.record.title)

    @staticmethod
    def resolve_branch(obj: Any) -> str:
        return str(obj.branch.code)

    @staticmethod
    def resolve_overdue(obj: Any) -> bool:
        return bool(obj.is_overdue)


class LoanFilters(Schema):
    patron: int | None = Field(None, description="A reader's id (librarians only).")
    state: str = Field("open", description="open, returned, lost, claims_returned or all")


class CheckOutIn(Schema):
    item: str = Field(description="The copy's barcode.")
    patron: str = Field(description="The reader's library card number.")
    branch: str | None = Field(
        None, description="The desk's branch code; the copy's own by default."
    )


class CheckInIn(Schema):
    item: str = Field(description="The copy's barcode.")
    branch: str = Field(description="The branch code of the desk taking it back.")


class RoutedOut(Schema):
    status: str
    hold_id: int | None
    to_branch: str | None


class CheckInOut(Schema):
    loan: LoanOut | None
    fine: Decimal
    routed: RoutedOut


class HoldOut(Schema):
    id: int
    record_id: int
    title: str
    item_id: int | None
    patron_id: int | None
    pickup_branch: str
    state: str
    position: int | None
    placed_at: datetime
    expires_on: date
    suspended_until: date | None
    pickup_by: date | None

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.record.title)

    @staticmethod
    def resolve_pickup_branch(obj: Any) -> str:
        return str(obj.pickup_branch.code)


class HoldFilters(Schema):
    patron: int | None = Field(None, description="A reader's id (librarians only).")
    state: str = Field("open", description="open, or one state, or all")


class HoldIn(Schema):
    record: int | None = Field(None, description="Hold the first available copy of a record…")
    item: str | None = Field(None, description="…or one specific copy, by barcode.")
    pickup_branch: str = Field(description="The branch code where the reader will pick it up.")
    expires_on: date | None = None
    patron: str | None = Field(None, description="A reader's card number (librarians only).")


class SuspendIn(Schema):
    until: date


class ChargeOut(Schema):
    id: int
    patron_id: int
    loan_id: int | None
    kind: str
    amount: Decimal
    note: str
    created_at: datetime


class ChargesOut(Schema):
    balance: Decimal
    items: list[ChargeOut]


class PaymentIn(Schema):
    patron: str = Field(description="The reader's library card number.")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    note: str = Field("", max_length=300)


class WaiverIn(Schema):
    patron: str = Field(description="The reader's library card number.")
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    reason: str = Field(min_length=1, max_length=300)


class BlockReasonOut(Schema):
    code: str
    detail: str


class BlockOut(Schema):
    id: int
    reason: str
    since: datetime
    until: date | None


class ReaderBlocksOut(Schema):
    patron_id: int
    may_borrow: bool
    reasons: list[BlockReasonOut]
    blocks: list[BlockOut]
