"""What an app hands to search: one `SearchDocument` per thing a reader can find.

Search never imports an app. Each app describes its objects with these plain values in its own
`search.py` and registers a `Source` (see `registry.py`); the backends index the values through the
analysis pipeline and know nothing about records, files or courses.
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import dataclass, field
from typing import Any

#: Text fields, in the order of their ranking weight (title > author > subject > … > full text).
TEXT_FIELDS: tuple[str, ...] = ("title", "author", "subject", "other", "abstract")
FULLTEXT = "fulltext"

#: BM25 weight of each text field; an exact-form match counts more than a stemmed one (plan.py).
FIELD_BOOSTS: dict[str, float] = {
    "title": 2.5,
    "author": 2.2,
    "subject": 1.6,
    "other": 1.0,
    "abstract": 1.0,  # = other: 0.7 lost to plain BM25 on CISI/Cranfield/CACM (bench/relevance.py)
    FULLTEXT: 0.4,
}

#: How much a match in each analysed form counts: the exact form first (LANGUAGE.md §3).
VARIANT_BOOSTS: dict[str, float] = {"exact": 4.0, "uzkey": 2.0, "ru": 2.0, "en": 2.0}
#: Typo tolerance applies to these fields only.
FUZZY_FIELDS: tuple[str, ...] = ("title", "author", "subject")

#: Keyword facets, each a list of values per document; OR within a facet, AND across facets.
FACETS: tuple[str, ...] = (
    "type",
    "lang",
    "subject",
    "author",
    "audience",
    "availability",
    "access",
    "branch",
    "faculty",
    "collection",
)

#: The year facet is counted in these ranges: (label, first year, last year); None is open.
YEAR_RANGES: tuple[tuple[str, int | None, int | None], ...] = (
    ("2021..", 2021, None),
    ("2011..2020", 2011, 2020),
    ("2001..2010", 2001, 2010),
    ("1991..2000", 1991, 2000),
    ("1951..1990", 1951, 1990),
    ("..1950", None, 1950),
)

PUBLIC = "public"
STAFF = "staff"


@dataclass(slots=True)
class Page:
    """One page (or EPUB location) of a document's full text."""

    number: int
    text: str


@dataclass(slots=True)
class SearchDocument:
    """Everything search needs to find, filter, sort and show one object."""

    kind: str
    id: str
    language: str = ""
    text: dict[str, str] = field(default_factory=dict)
    filters: dict[str, list[str]] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)
    year: int | None = None
    popularity: float = 0.0
    sort_title: str = ""
    visible_to: list[str] = field(default_factory=lambda: [PUBLIC])
    pages: list[Page] = field(default_factory=list)
    pages_visible_to: list[str] = field(default_factory=list)
    display: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    def __reduce__(self) -> tuple[type[SearchDocument], tuple[Any, ...]]:
        """Pickled as its constructor's arguments: a rebuild sends every document to another
        process, and the slots dataclass's own state methods cost twice as much."""
        return SearchDocument, _field_values(self)

    @property
    def version(self) -> str:
        """A digest of the content: an index entry equals the database when the digests agree."""
        # Built by hand: dataclasses.asdict deep-copies every value (~100 µs per record).
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        fields["pages"] = [{"number": p.number, "text": p.text} for p in self.pages]
        payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()


_field_values = operator.attrgetter(*SearchDocument.__dataclass_fields__)


def split_key(key: str) -> tuple[str, str]:
    kind, _, object_id = key.partition(":")
    return kind, object_id
