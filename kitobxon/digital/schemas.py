"""What the digital library's JSON API reads and writes about licences, loans and waits."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema


class Refusal(Schema):
    """A domain refusal (409): the sentence for the person, and the refusal's name."""

    detail: str
    code: str


class Invalid(Schema):
    """Values a form refused (422): a sentence, and each field's sentences."""

    detail: str
    errors: dict[str, list[str]]


class DigitalLoanOut(Schema):
    id: int
    record_id: int
    title: str
    reader_id: int
    state: str
    started_at: datetime
    due_at: datetime
    ended_at: datetime | None

    @staticmethod
    def resolve_record_id(obj: Any) -> int:
        return int(obj.licence.record_id)

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.licence.record.title)


class DigitalLoanFilters(Schema):
    reader: int | None = Field(None, description="A reader's id (librarians only).")
    state: str = Field("active", description="active, returned, expired or all")


class WaitOut(Schema):
    id: int
    record_id: int
    title: str
    state: str
    created_at: datetime
    offered_until: datetime | None
    position: int | None = Field(description="1 for the first reader waiting; none when offered.")

    @staticmethod
    def resolve_record_id(obj: Any) -> int:
        return int(obj.licence.record_id)

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.licence.record.title)


class LicenceIn(Schema):
    """A title's licence as a librarian sets it (checked by the page's own form)."""

    copies: int = Field(description="Digital loans at once.")
    loan_days: int = Field(description="Days one digital loan lasts.")
    valid_until: date | None = Field(None, description="The licence's last day, if any.")
    supplier: str = ""


class LicenceOut(Schema):
    record_id: int
    copies: int
    loan_days: int
    valid_until: date | None
    valid: bool
    out: int = Field(description="Digital loans running now.")
    free: int = Field(description="Copies neither lent nor kept for another reader.")
    waiting: int = Field(description="Readers on the waiting list.")
