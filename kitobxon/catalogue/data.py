"""A bibliographic record as plain data: what every import format produces and every export
format consumes. Pure Python, no database: the crosswalks are pure functions over this."""

from __future__ import annotations

from dataclasses import dataclass, field


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
