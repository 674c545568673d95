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
    #: Reader-facing names of facet values this source fills (e.g. "book" → "Kitob").
    facet_labels: dict[str, Callable[[str], str]] = field(default_factory=dict)
    #: Facets whose values are named in bulk; facets sharing one function are read together.
    facet_names: dict[str, FacetNames] = field(default_factory=dict)
    #: Every document in batches of about the given size, for a rebuild, when the source reads
    #: them faster than `load` over `all_ids`.
    load_all: Callable[[int], Iterator[list[SearchDocument]]] | None = None


_sources: dict[str, Source] = {}
#: Facet labels given by apps that add to another source's documents (e.g. "access").
_facet_labels: dict[str, Callable[[str], str]] = {}
#: ``fn(request, hits) -> {hit key: HTML}``, called once per results page.
HitExtras = Callable[[HttpRequest, Sequence[Mapping[str, Any]]], Mapping[str, SafeString]]
_hit_extras: list[HitExtras] = []


def register(source: Source) -> None:
    _sources[source.kind] = source


def source(kind: str) -> Source:
    return _sources[kind]


def sources() -> list[Source]:
    return list(_sources.values())


def register_facet_labels(facet: str, label: Callable[[str], str]) -> None:
    """Name the values of ``facet`` that an app fills in documents it does not own."""
    _facet_labels[facet] = label


def _namer(facet: str) -> FacetNames | None:
    for registered in _sources.values():
        if facet in registered.facet_names:
            return registered.facet_names[facet]
    return None


def facet_labels(wanted: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """The names a reader sees for many facet values, ``{facet: {value: name}}``.

    Facets named in bulk are asked once per call, with all their values together (one query
    for a page's faculties and collections); the others value by value, as `facet_label`.
    """
    labels: dict[str, dict[str, str]] = {}
    grouped: dict[FacetNames, dict[str, list[str]]] = {}
    for facet, values in wanted.items():
        values = list(dict.fromkeys(values))
        namer = None if facet in _facet_labels else _namer(facet)
        if namer is None:
            labels[facet] = {value: facet_label(facet, value) for value in values}
        else:
            grouped.setdefault(namer, {})[facet] = values
    for namer, group in grouped.items():
        named = namer(group)
        for facet, values in group.items():
            names = named.get(facet, {})
            labels[facet] = {value: names.get(value) or value for value in values}
    return labels


def facet_label(facet: str, value: str) -> str:
    """The name a reader sees for a facet value, in the active language."""
    if facet not in _facet_labels and _namer(facet) is not None:
        return facet_labels({facet: [value]})[facet][value]
    if facet in _facet_labels:
        return _facet_labels[facet](value)
    for registered in _sources.values():
        label = registered.facet_labels.get(facet)
        if label is not None:
            return label(value)
    return value


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
