"""A bibliographic record as plain data: what every import format produces and every export
format consumes. Pure Python, no database: the crosswalks are pure functions over this."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ContributorData:
    name: str
    role: str = "author"  # see models.ContributorRole
    variants: list[str] = field(default_factory=list)
    is_organisation: bool = False


@dataclass
class SubjectData:
    label: str
    labels: dict[str, str] = field(default_factory=dict)  # language code -> label
    scheme: str = "local"


@dataclass
class IdentifierData:
    scheme: str  # isbn, issn, doi, other
    value: str


@dataclass
class ClassificationData:
    scheme: str  # udc, bbk, ddc, lcc
    number: str


@dataclass
class RecordData:
    title: str
    subtitle: str = ""
    parallel_titles: list[str] = field(default_factory=list)
    title_variants: list[str] = field(default_factory=list)  # other-script forms (880)
    responsibility: str = ""
    contributors: list[ContributorData] = field(default_factory=list)
    publisher: str = ""
    place: str = ""
    year: int | None = None
    edition: str = ""
    extent: str = ""
    languages: list[str] = field(default_factory=list)  # ISO 639-2/B
    resource_type: str = "book"
    audience: str = "general"
    subjects: list[SubjectData] = field(default_factory=list)
    classifications: list[ClassificationData] = field(default_factory=list)
    identifiers: list[IdentifierData] = field(default_factory=list)
    series: str = ""
    abstract: str = ""
    contents: str = ""
    notes: str = ""
    work_key: str = ""
    control_number: str = ""  # MARC 001
    control_number_source: str = ""  # MARC 003
    source_format: str = "manual"
    source_data: bytes = b""  # the record exactly as received, kept for round trips

    def isbns(self) -> list[str]:
        return [i.value for i in self.identifiers if i.scheme == "isbn"]


def plain_values(data: RecordData) -> list[Any]:
    """Every field of ``data`` in declaration order, with contributors, subjects,
    classifications and identifiers as tuples of their fields: built-in values only, cheap to
    send to another process and to digest (``record_from_values`` reverses it)."""
    return [
        data.title,
        data.subtitle,
        data.parallel_titles,
        data.title_variants,
        data.responsibility,
        [(c.name, c.role, c.variants, c.is_organisation) for c in data.contributors],
        data.publisher,
        data.place,
        data.year,
        data.edition,
        data.extent,
        data.languages,
        data.resource_type,
        data.audience,
        [(s.label, s.labels, s.scheme) for s in data.subjects],
        [(c.scheme, c.number) for c in data.classifications],
        [(i.scheme, i.value) for i in data.identifiers],
        data.series,
        data.abstract,
        data.contents,
        data.notes,
        data.work_key,
        data.control_number,
        data.control_number_source,
        data.source_format,
        data.source_data,
    ]


def record_from_values(values: list[Any]) -> RecordData:
    """The ``RecordData`` that ``plain_values`` gave ``values`` for."""
    (title, subtitle, parallel_titles, title_variants, responsibility, contributors, publisher,
     place, year, edition, extent, languages, resource_type, audience, subjects,
     classifications, identifiers, series, abstract, contents, notes, work_key,
     control_number, control_number_source, source_format, source_data) = values  # fmt: skip
    return RecordData(
        title,
        subtitle,
        parallel_titles,
        title_variants,
        responsibility,
        [ContributorData(*c) for c in contributors],
        publisher,
        place,
        year,
        edition,
        extent,
        languages,
        resource_type,
        audience,
        [SubjectData(*s) for s in subjects],
        [ClassificationData(*c) for c in classifications],
        [IdentifierData(*i) for i in identifiers],
        series,
        abstract,
        contents,
        notes,
        work_key,
        control_number,
        control_number_source,
        source_format,
        source_data,
    )
