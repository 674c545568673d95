"""Small builders for catalogue tests: records and copies made through the services."""

from __future__ import annotations

from kitobxon.catalogue import services
from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.models import Branch, Item, Record


def record_data(**overrides: object) -> RecordData:
    data = RecordData(
        title="Oʻtkan kunlar",
        subtitle="roman",
        contributors=[ContributorData("Qodiriy, Abdulla", "author", ["Қодирий, Абдулла"])],
        publisher="Sharq",
        place="Toshkent",
        year=2019,
        extent="384 b.",
        languages=["uzb"],
        subjects=[SubjectData("Oʻzbek adabiyoti", {"ru": "Узбекская литература"})],
        classifications=[ClassificationData("udc", "821.512.133")],
        identifiers=[IdentifierData("isbn", "978-9943-26-911-8")],
        work_key="otkan-kunlar",
        abstract="Oʻzbek adabiyotidagi birinchi roman.",
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


def make_record(**overrides: object) -> Record:
    return services.save_records([record_data(**overrides)], by=None, targets=[None])[0].record


def branch(code: str = "toshkent") -> Branch:
    return services.ensure_branch(code, code.title())


def make_item(record: Record, code: str = "toshkent") -> Item:
    return services.add_item(record, by=None, branch=branch(code))
