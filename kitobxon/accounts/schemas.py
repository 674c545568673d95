from __future__ import annotations

from datetime import date, datetime

from ninja import Schema


class MeOut(Schema):
    id: int
    email: str | None
    card_number: str
    full_name: str
    segment: str
    faculty: str
    preferred_language: str
    role: str
    card_expires_on: date | None
    date_joined: datetime
