from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class ContributorSchema(Schema):
    name: str
    role: str = "author"


class IdentifierOut(Schema):
    scheme: str
    value: str
    normalized: str
    is_valid: bool


class RecordIn(Schema):
    title: str = Field(min_length=1, max_length=1000)
    subtitle: str = ""
    responsibility: str = ""
    contributors: list[ContributorSchema] = []
    publisher: str = ""
    place: str = ""
    year: int | None = None
    edition: str = ""
    extent: str = ""
    languages: list[str] = []
    resource_type: str = "book"
    audience: str = "general"
    subjects: list[str] = []
    isbn: list[str] = []
    issn: list[str] = []
    doi: list[str] = []
    udc: str = ""
    bbk: str = ""
    ddc: str = ""
    lcc: str = ""
    series: str = ""
    abstract: str = ""
    contents: str = ""
    notes: str = ""
    work_key: str = ""
    status: str = "published"
    collections: list[str] | None = Field(
        default=None,
        description="Codes of the collections and faculties the record is in. On update, "
        "leaving it out keeps the record's collections as they are; [] takes it out of all.",
    )


class RecordOut(Schema):
    """A record as the API shows it. Expects ``queries.with_details`` prefetching."""

    id: int
    url: str
    title: str
    subtitle: str
    responsibility: str
    contributors: list[ContributorSchema]
    publisher: str
    place: str
    year: int | None
    edition: str
    extent: str
    languages: list[str]
    resource_type: str
    audience: str
    subjects: list[str]
    identifiers: list[IdentifierOut]
    classifications: dict[str, str]
    series: str
    abstract: str
    work_key: str
    status: str
    collections: list[str]
    modified_at: datetime

    @staticmethod
    def resolve_url(obj: Any, context: dict[str, Any]) -> str:
        return str(context["request"].build_absolute_uri(obj.get_absolute_url()))

    @staticmethod
    def resolve_contributors(obj: Any) -> list[dict[str, str]]:
        return [{"name": c.agent.name, "role": c.role} for c in obj.contributions.all()]

    @staticmethod
    def resolve_subjects(obj: Any) -> list[str]:
        return [s.label for s in obj.subjects.all()]

    @staticmethod
    def resolve_identifiers(obj: Any) -> list[dict[str, Any]]:
        return [
            {
                "scheme": i.scheme,
                "value": i.value,
                "normalized": i.normalized,
                "is_valid": i.is_valid,
            }
            for i in obj.identifiers.all()
        ]

    @staticmethod
    def resolve_classifications(obj: Any) -> dict[str, str]:
        return {c.scheme: c.number for c in obj.classifications.all()}

    @staticmethod
    def resolve_collections(obj: Any) -> list[str]:
        return sorted(c.code for c in obj.collections.all())


class RecordFilters(Schema):
    type: str | None = None
    collection: str | None = None  # a collection's or faculty's code
    year_from: int | None = None
    year_to: int | None = None


class ItemIn(Schema):
    branch: str  # branch code
    barcode: str = ""
    call_number: str = ""
    shelf_location: str = ""
    acquired_on: date | None = None
    price: Decimal | None = None
    notes: str = ""


class ItemPatch(Schema):
    branch: str | None = None
    call_number: str | None = None
    shelf_location: str | None = None
    acquired_on: date | None = None
    price: Decimal | None = None
    notes: str | None = None


class ItemOut(Schema):
    id: int
    record_id: int
    barcode: str
    branch: str
    call_number: str
    shelf_location: str
    status: str
    acquired_on: date | None
    price: Decimal | None

    @staticmethod
    def resolve_branch(obj: Any) -> str:
        return str(obj.branch.code)


class WithdrawIn(Schema):
    reason: str = ""
