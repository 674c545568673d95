"""Apps tell search what they index; search never imports them.

Each app's `search.py` defines a `Source` and registers it from its AppConfig.ready():
`load(ids)` turns object ids into `SearchDocument`s (ids it cannot find are left out, and their
index entries are removed), and `all_ids()` yields every indexable id in batches for a rebuild.

Apps may also add HTML to each hit of a results page (`register_hit_extras`), for example the
COinS span and unAPI id that let Zotero save the records of a page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

from kitobxon.search.documents import SearchDocument

#: Names many values of facets at once, ``{facet: values} → {facet: {value: name}}``: for values
#: stored in the database (faculties by code), read in one query per page, not one per value.
#: A value it does not know is left out and shown as it is.
FacetNames = Callable[[Mapping[str, Sequence[str]]], Mapping[str, Mapping[str, str]]]


@dataclass(frozen=True, slots=True)
class Source:
    kind: str
    load: Callable[[Sequence[str]], Iterable[SearchDocument]]
    all_ids: Callable[[int], Iterator[list[str]]]
    #: How an identifier typed in the search box leads straight to an object: key → object URL.
    url: Callable[[str], str]
    #: Reader-facing names of the facet values this source fills ("book" → "Kitob"), by facet;
    #: facets sharing one function are named together (see `register_facet_names`).
    facet_names: dict[str, FacetNames] = field(default_factory=dict)
    #: Every document in batches of about the given size, for a rebuild, when the source reads
    #: them faster than `load` over `all_ids`.
    load_all: Callable[[int], Iterator[list[SearchDocument]]] | None = None


_sources: dict[str, Source] = {}
_facet_names: dict[str, FacetNames] = {}
#: ``fn(request, hits) -> {hit key: HTML}``, called once per results page.
HitExtras = Callable[[HttpRequest, Sequence[Mapping[str, Any]]], Mapping[str, SafeString]]
_hit_extras: list[HitExtras] = []


def register(source: Source) -> None:
    _sources[source.kind] = source
    register_facet_names(source.facet_names)


def source(kind: str) -> Source:
    return _sources[kind]


def sources() -> list[Source]:
    return list(_sources.values())


def each_value(label: Callable[[str], str]) -> FacetNames:
    """A `FacetNames` from a function that names one value (a choice, a language code)."""

    def names(wanted: Mapping[str, Sequence[str]]) -> dict[str, dict[str, str]]:
        return {
            facet: {value: label(value) for value in values} for facet, values in wanted.items()
        }

    return names


def register_facet_names(names: Mapping[str, FacetNames]) -> None:
    """Name the values of facets, ``{facet: names}``: the one way a facet value gets the name a
    reader sees. A source names the facets it fills; an app that adds a facet to another
    source's documents (digital's "access") and search itself ("availability") call this.

    ``names({facet: [value, ...]})`` answers ``{facet: {value: name}}`` in the active language;
    facets given the same function are asked in one call (one query for a page's faculties and
    collections). A value it leaves out is shown as itself.
    """
    _facet_names.update(names)


def facet_labels(wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """The names a reader sees for many facet values, ``{facet: {value: name}}``."""
    labels: dict[str, dict[str, str]] = {}
    grouped: dict[FacetNames, dict[str, list[str]]] = {}
    for facet, values in wanted.items():
        values = list(dict.fromkeys(values))
        namer = _facet_names.get(facet)
        if namer is None:
            labels[facet] = {value: value for value in values}
        else:
            grouped.setdefault(namer, {})[facet] = values
    for namer, group in grouped.items():
        named = namer(group)
        for facet, values in group.items():
            names = named.get(facet, {})
            labels[facet] = {value: str(names.get(value) or value) for value in values}
    return labels


def facet_label(facet: str, value: str) -> str:
    """The name a reader sees for one facet value, in the active language."""
    return facet_labels({facet: [value]})[facet][value]


def register_hit_extras(extras: HitExtras) -> None:
    """Add HTML to the hits of every results page.

    ``extras(request, hits)`` is called once per page with all its hits (so it can read their
    objects in a fixed number of queries, never one per hit) and answers ``{hit key: HTML}``
    for the hits it has something for. It decides what the visitor may see.
    """
    if extras not in _hit_extras:
        _hit_extras.append(extras)


def hit_extras(request: HttpRequest, hits: Sequence[Mapping[str, Any]]) -> dict[str, SafeString]:
    """The extra HTML of each hit (by key), from every registered function in order."""
    if not hits:
        return {}
    parts: dict[str, list[SafeString]] = {}
    for extras in list(_hit_extras):
        for key, html in extras(request, hits).items():
            parts.setdefault(key, []).append(html)
    return {key: SafeString("".join(htmls)) for key, htmls in parts.items()}
