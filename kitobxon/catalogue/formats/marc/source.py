"""A MARC record's fields indexed for the crosswalk: by tag, in record order, and 880s
by the field they give in another script.

The mapping decisions are recorded in docs/adr/0013-marc-crosswalk.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pymarc import Field, Record

_LINKAGE = re.compile(r"(\d{3})-(\d{2,3})")


@dataclass
class _Source:
    """A record's fields indexed for the crosswalk: by tag, and 880s by the field they link."""

    record: Record
    by_tag: dict[str, list[Field]]
    alternates: dict[tuple[str, str], list[Field]]
    fixed: str  # 008
    order: dict[int, int]  # id(field) -> its place in the record

    @classmethod
    def of(cls, record: Record) -> _Source:
        by_tag: dict[str, list[Field]] = {}
        order: dict[int, int] = {}
        for place, each in enumerate(record.fields):
            by_tag.setdefault(each.tag, []).append(each)
            order[id(each)] = place
        alternates: dict[tuple[str, str], list[Field]] = {}
        for each in by_tag.get("880", ()):
            link = _linkage(each)
            if link:
                alternates.setdefault(link, []).append(each)
        fixed = by_tag["008"][0].data or "" if "008" in by_tag else ""
        return cls(record, by_tag, alternates, fixed, order)

    def first(self, tag: str) -> Field | None:
        found = self.by_tag.get(tag)
        return found[0] if found else None

    def among(self, tags: frozenset[str]) -> list[Field]:
        """Fields with any of these tags, in record order."""
        groups = [self.by_tag[tag] for tag in tags if tag in self.by_tag]
        if len(groups) <= 1:
            return list(groups[0]) if groups else []
        return sorted((f for group in groups for f in group), key=lambda f: self.order[id(f)])

    def linked(self, linked_field: Field) -> list[Field]:
        """The 880s giving this field in another script ($6 occurrence numbers match)."""
        link = _linkage(linked_field)
        if link is None or link[1].strip("0") == "":
            return []
        return self.alternates.get((linked_field.tag, link[1]), [])


def _linkage(linked_field: Field) -> tuple[str, str] | None:
    """$6 Linkage as (tag, occurrence number): '880-01' or '245-01/(N'."""
    value = linked_field.get("6")
    match = _LINKAGE.match(value) if value else None
    return (match[1], match[2]) if match else None
