"""The small protocol every search backend implements, and what it returns.

A backend stores `SearchDocument`s and answers `SearchQuery`s built by plan.py. It never analyses
text itself beyond what analysis.py gives it, so both backends pass one conformance suite
(kitobxon/search/tests/test_backends.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from kitobxon.search.analysis import QueryToken
from kitobxon.search.documents import SearchDocument
from kitobxon.search.plan import Node

SORTS = ("relevance", "newest", "oldest", "title", "popularity")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search: the scoring tree, fixed guards, facet selections and what to count."""

    text: Node
    guard: tuple[Node, ...] = ()
    filters: dict[str, Node] = field(default_factory=dict)
    facets: tuple[str, ...] = ()
    sort: str = "relevance"
    offset: int = 0
    limit: int = 20
    facet_size: int = 12


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    score: float
    display: dict[str, Any]


@dataclass(slots=True)
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageHit:
    number: int
    text: str


class Writer(Protocol):
    def upsert(self, documents: Sequence[SearchDocument]) -> None: ...
    def delete(self, keys: Sequence[str]) -> None: ...


Progress = Callable[[int], None]


class Backend(Protocol):
    name: str

    @property
    def outdated(self) -> bool:
        """The index was built for another schema: it answers, but takes no changes until
        `kitobxon reindex`."""
        ...

    def writer(self) -> AbstractContextManager[Writer]:
        """Changes made through the writer are visible to searches once the block exits."""
        ...

    def rebuild(self, batches: Iterable[Sequence[SearchDocument]], progress: Progress) -> None:
        """Replace the whole index with `batches`; a crash half-way leaves the old index live."""
        ...

    def search(self, query: SearchQuery) -> Results: ...

    def pages(
        self, key: str, tokens: Sequence[QueryToken], principals: Sequence[str], limit: int
    ) -> list[PageHit]:
        """Pages of document `key` holding any of the words, best first, if the principals may
        open its full text."""
        ...

    def versions(self) -> Iterator[tuple[str, str]]:
        """(key, version) of every indexed document: the index equals the database when these do."""
        ...

    def count(self) -> int: ...

    def stats(self) -> dict[str, Any]:
        """Size on disk and document count, for health and benchmarks."""
        ...
