"""A MARC record's fields indexed for the crosswalk: by tag, in record order, and 880s
by the field they give in another script.

The mapping decisions are recorded in docs/adr/0013-marc-crosswalk.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pymarc import Field, Record

from kitobxon.catalogue.formats.marc.codes import _READ_TOGETHER

_LINKAGE = re.compile(r"(\d{3})-(\d{2,3})")

_GROUP_OF_TAG: dict[str, tuple[frozenset[str], ...]] = {}
for _group in _READ_TOGETHER:
    for _tag in _group:
        _GROUP_OF_TAG[_tag] = (*_GROUP_OF_TAG.get(_tag, ()), _group)
_NONE: list[Field] = []


@dataclass
class _Source:
    """A record's fields indexed for the crosswalk: by tag, by the tag groups it asks for
    (``among``), and 880s by the field they link. One pass over the fields fills them all."""

    record: Record
    by_tag: dict[str, list[Field]]
    alternates: dict[tuple[str, str], list[Field]]
    fixed: str  # 008
    leader: str = ""
    groups: dict[frozenset[str], list[Field]] = field(default_factory=dict)

    @classmethod
    def of(cls, record: Record) -> _Source:
        by_tag: dict[str, list[Field]] = {}
        groups: dict[frozenset[str], list[Field]] = {}
        group_of = _GROUP_OF_TAG
        for each in record.fields:
            tag = each.tag
            found = by_tag.get(tag)
            if found is None:
                by_tag[tag] = [each]
            else:
                found.append(each)
            for group in group_of.get(tag, ()):
                members = groups.get(group)
                if members is None:
                    groups[group] = [each]
                else:
                    members.append(each)
        alternates: dict[tuple[str, str], list[Field]] = {}
        for each in by_tag.get("880", ()):
            link = _linkage(each)
            if link:
                alternates.setdefault(link, []).append(each)
        fixed = by_tag["008"][0].data or "" if "008" in by_tag else ""
        return cls(record, by_tag, alternates, fixed, str(record.leader), groups)

    def first(self, tag: str) -> Field | None:
        found = self.by_tag.get(tag)
        return found[0] if found else None

    def among(self, tags: frozenset[str]) -> list[Field]:
        """Fields with any of these tags, in record order (do not change the list)."""
        if tags in _READ_TOGETHER:
            return self.groups.get(tags, _NONE)
        present = tags.intersection(self.by_tag)
        if len(present) <= 1:
            return list(self.by_tag[next(iter(present))]) if present else []
        order = {id(f): place for place, f in enumerate(self.record.fields)}
        return sorted((f for tag in present for f in self.by_tag[tag]), key=lambda f: order[id(f)])

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
