"""The embedded backend: a tantivy index in the data directory (BM25, fast fields, fuzzy terms).

Layout: ``<SEARCH_INDEX_DIR>/tantivy/CURRENT`` names the live generation directory
(``gen-<n>``). Readers open the live generation and reload at most once a second. Only one
writer may exist per index across processes, so writes take ``write.lock`` (an advisory file
lock) first; the job worker drains the outbox under it and `kitobxon reindex` builds a new
generation and swaps CURRENT under it, so a crash half-way leaves the old generation live.

Each generation records the `SCHEMA_VERSION` it was built with. A generation of another version
(an upgrade that changed the schema) still answers searches with the fields it has, but takes no
writes: the outbox waits until `kitobxon reindex` builds a generation of this version.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tantivy

from kitobxon.search import analysis
from kitobxon.search.backends.base import Hit, PageHit, Progress, Results, SearchQuery
from kitobxon.search.backends.tantivy_entries import ANALYSED, IN_FLIGHT, Fields, Helper, entries
from kitobxon.search.backends.tantivy_queries import Compiler
from kitobxon.search.documents import (
    FACETS,
    FULLTEXT,
    YEAR_RANGES,
    SearchDocument,
)
from kitobxon.search.plan import (
    Bool,
    Keyword,
    Words,
)

KEYWORDS = ("key", "entry", "kind", "parent", "ids", "visible_to", "pages_visible_to", *FACETS)
#: The version of `build_schema()`: bump it with every change to the schema, and say in
#: docs/search.md that the upgrade needs `kitobxon reindex`. 1: the first schema; 2: the
#: faculty and collection facets.
SCHEMA_VERSION = 2
SCHEMA_FILE = "kitobxon-schema"
RELOAD_SECONDS = 1.0
#: Searches whose facet counts a process remembers (KITOBXON_SEARCH_FACET_CACHE; 0: none).
FACET_CACHE_SIZE = 512
WRITER_HEAP = 128_000_000
SORT_FIELDS = {
    "newest": ("year_new", tantivy.Order.Desc),
    "oldest": ("year_old", tantivy.Order.Asc),
    "title": ("sort_title", tantivy.Order.Asc),
    "popularity": ("popularity", tantivy.Order.Desc),
}


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in KEYWORDS:
        builder.add_text_field(
            name,
            stored=name == "key",
            tokenizer_name="raw",
            fast=name in FACETS,
            index_option="basic",
        )
    for name in ANALYSED:
        builder.add_text_field(f"{name}_exact", tokenizer_name="whitespace")
        for variant in ("uzkey", "ru", "en"):
            builder.add_text_field(
                f"{name}_{variant}", tokenizer_name="whitespace", index_option="freq"
            )
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_integer_field("year_new", fast=True)
    builder.add_integer_field("year_old", fast=True)
    builder.add_integer_field("page", stored=True)
    builder.add_float_field("popularity", fast=True)
    builder.add_float_field("weight", fast=True)
    builder.add_text_field("sort_title", tokenizer_name="raw", fast=True, index_option="basic")
    builder.add_bytes_field("display", stored=True)
    builder.add_bytes_field("version", stored=True)
    return builder.build()


class IndexOutdated(RuntimeError):
    """The live generation was built with another schema version: only a rebuild may write."""


def _schema_version(generation: Path) -> int:
    """The schema version a generation was built with; generations before versions were 1."""
    try:
        return int((generation / SCHEMA_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return 1


def _opstamp(generation: Path) -> int:
    """The operation stamp of a generation's last commit: every commit raises it."""
    try:
        return int(json.loads((generation / "meta.json").read_text())["opstamp"])
    except (FileNotFoundError, KeyError, ValueError):
        return -1


def _field_names(generation: Path) -> frozenset[str]:
    """The fields an index holds, as tantivy recorded them in its meta.json."""
    meta = json.loads((generation / "meta.json").read_text())
    return frozenset(str(entry["name"]) for entry in meta["schema"])


@dataclass(frozen=True, slots=True)
class _Live:
    """What a search reads: a searcher of the live generation and that generation's schema.

    ``fields`` is None when the generation has every field of this version's schema, else the
    fields it has (an outdated generation: filters on a missing field match nothing).
    """

    searcher: tantivy.Searcher
    schema: tantivy.Schema
    fields: frozenset[str] | None
    #: The generation and its commit as of the last reload: names what the facet cache holds.
    stamp: tuple[str, int]


class TantivyBackend:
    name = "tantivy"

    def __init__(self, directory: Path, facet_cache_size: int = FACET_CACHE_SIZE) -> None:
        self.root = Path(directory) / "tantivy"
        self.root.mkdir(parents=True, exist_ok=True)
        self.schema = build_schema()
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._generation = ""
        self._index_schema = self.schema
        self._index_fields: frozenset[str] | None = None
        self._loaded_at = 0.0
        self._stamp: tuple[str, int] = ("", -1)
        #: Facet counts per (stamp, query without its page and sort): the next page, another
        #: sort or the back button need the same counts, the costliest part of a search.
        self._facet_cache: OrderedDict[Hashable, dict[str, list[tuple[str, int]]]] = OrderedDict()
        self._facet_cache_size = facet_cache_size

    # --- generations and locks ---------------------------------------------------------

    def _current(self) -> str:
        try:
            return (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return ""

    def _set_current(self, generation: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(generation)
        os.replace(tmp, self.root / "CURRENT")

    def _new_generation(self) -> str:
        numbers = [int(p.name[4:]) for p in self.root.glob("gen-*") if p.name[4:].isdigit()]
        name = f"gen-{max(numbers, default=0) + 1:06d}"
        (self.root / name).mkdir()
        (self.root / name / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION}\n")
        return name

    @contextlib.contextmanager
    def _file_lock(self, name: str) -> Iterator[None]:
        with open(self.root / name, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open_index(self) -> tantivy.Index:
        """The live generation, created empty on first use."""
        generation = self._current()
        if not generation:
            with self._file_lock("write.lock"):
                generation = self._current()
                if not generation:
                    generation = self._new_generation()
                    tantivy.Index(self.schema, path=str(self.root / generation))
                    self._set_current(generation)
        if self._index is None or generation != self._generation:
            path = self.root / generation
            self._generation = generation
            # Read before the reader opens: a commit in between is seen at the next reload.
            self._stamp = (generation, _opstamp(path))
            self._index = self._open_at(path)
            self._loaded_at = time.monotonic()
        return self._index

    def _open_at(self, path: Path) -> tantivy.Index:
        if _schema_version(path) == SCHEMA_VERSION:
            self._index_schema, self._index_fields = self.schema, None
            return tantivy.Index(self.schema, path=str(path), reuse=True)
        # Built before an upgrade: it answers with the fields it has until the reindex.
        index = tantivy.Index.open(str(path))
        self._index_schema, self._index_fields = index.schema, _field_names(path)
        return index

    @property
    def outdated(self) -> bool:
        """The live generation has another schema version: run `kitobxon reindex`."""
        with self._lock:
            self._open_index()
            return self._index_fields is not None

    def _searcher(self) -> _Live:
        with self._lock:
            index = self._open_index()
            now = time.monotonic()
            if now - self._loaded_at > RELOAD_SECONDS:
                if self._current() != self._generation:
                    self._index = None
                    index = self._open_index()
                else:
                    self._stamp = (self._generation, _opstamp(self.root / self._generation))
                    index.reload()
                self._loaded_at = now
            return _Live(index.searcher(), self._index_schema, self._index_fields, self._stamp)

    def refresh(self) -> None:
        """See the latest commit now (after a write in this process)."""
        with self._lock:
            self._loaded_at = 0.0
        self._searcher()

    # --- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[_Writer]:
        self._open_index()  # the first generation is created under write.lock, so not inside it
        with self._file_lock("write.lock"):
            with self._lock:
                index = self._open_index()
                if self._index_fields is not None:
                    raise IndexOutdated(
                        f"The search index {self._generation} was built with schema version "
                        f"{_schema_version(self.root / self._generation)}; this Kitobxon needs "
                        f"{SCHEMA_VERSION}. Run `kitobxon reindex`."
                    )
            writer = index.writer(WRITER_HEAP, 1)
            try:
                yield _Writer(writer, self.schema)
                writer.commit()
                writer.wait_merging_threads()
            except BaseException:
                writer.rollback()
                raise
        self.refresh()

    def rebuild(self, batches: Iterable[Sequence[SearchDocument]], progress: Progress) -> None:
        with self._file_lock("rebuild.lock"), self._file_lock("write.lock"):
            self._remove_stale_generations()
            generation = self._new_generation()
            index = tantivy.Index(self.schema, path=str(self.root / generation))
            writer = index.writer(WRITER_HEAP * 2, 2)
            adder = _Writer(writer, self.schema)
            helper: Helper | None = None
            in_flight: deque[int] = deque()
            try:
                for number, batch in enumerate(batches):
                    if number == 0:  # a small rebuild never starts the helper
                        adder.add(batch)
                        progress(len(batch))
                        continue
                    helper = helper or Helper()
                    helper.send(batch)
                    in_flight.append(len(batch))
                    if len(in_flight) >= IN_FLIGHT:
                        adder.add_fields(helper.receive())
                        progress(in_flight.popleft())
                while in_flight:
                    adder.add_fields(helper.receive())  # type: ignore[union-attr]
                    progress(in_flight.popleft())
            finally:
                if helper is not None:
                    helper.close()
            writer.commit()
            writer.wait_merging_threads()
            self._set_current(generation)
            self._remove_stale_generations()
        self.refresh()

    def _remove_stale_generations(self) -> None:
        live = self._current()
        for path in self.root.glob("gen-*"):
            if path.name != live:
                shutil.rmtree(path, ignore_errors=True)

    # --- reading -----------------------------------------------------------------------

    def search(self, query: SearchQuery) -> Results:
        live = self._searcher()
        searcher = live.searcher
        compile_ = Compiler(live.schema, live.fields).compile
        guard = [compile_(n) for n in query.guard]
        filters = {name: compile_(n) for name, n in query.filters.items()}
        text = compile_(query.text)
        main = _and(text, *guard, *filters.values())
        kwargs: dict[str, Any] = {"offset": query.offset}
        if query.sort in SORT_FIELDS:
            field, order = SORT_FIELDS[query.sort]
            kwargs.update(order_by_field=field, order=order)
        else:
            kwargs["weight_by_field"] = "weight"
        found = searcher.search(main, max(query.limit, 1), count=True, **kwargs)
        hits = []
        for score, address in found.hits if query.limit else []:
            doc = searcher.doc(address)
            display = json.loads(doc.get_first("display") or b"{}")
            # Sorted by a field, the order key is that field's value (a string for titles).
            value = float(score) if isinstance(score, int | float) else 0.0
            hits.append(Hit(str(doc.get_first("key")), value, display))
        return Results(_count(found), hits, self._facet_counts(live, query, text, guard, filters))

    def _facet_counts(
        self, live: _Live, query: SearchQuery, *compiled: Any
    ) -> dict[str, list[tuple[str, int]]]:
        """`_facets`, remembered for the same search at the same commit of the index."""
        if not query.facets or not self._facet_cache_size:
            return self._facets(live, query, *compiled)
        key = (
            live.stamp,
            query.text,
            query.guard,
            tuple(sorted(query.filters.items())),
            query.facets,
            query.facet_size,
        )
        with self._lock:
            counts = self._facet_cache.get(key)
            if counts is not None:
                self._facet_cache.move_to_end(key)
        if counts is None:
            counts = self._facets(live, query, *compiled)
            with self._lock:
                self._facet_cache[key] = counts
                while len(self._facet_cache) > self._facet_cache_size:
                    self._facet_cache.popitem(last=False)
        return {name: list(values) for name, values in counts.items()}

    def _facets(
        self,
        live: _Live,
        query: SearchQuery,
        text: tantivy.Query,
        guard: list[tantivy.Query],
        filters: dict[str, tantivy.Query],
    ) -> dict[str, list[tuple[str, int]]]:
        """Counts per facet value, each facet counted under every filter but its own."""
        counts: dict[str, list[tuple[str, int]]] = {}
        if live.fields is not None:
            counts = {name: [] for name in query.facets if name not in live.fields}
            query = replace(query, facets=tuple(f for f in query.facets if f not in counts))
        unfiltered = [f for f in query.facets if f not in filters]
        groups: list[tuple[list[str], tantivy.Query]] = []
        if unfiltered:
            groups.append((unfiltered, _and(text, *guard, *filters.values())))
        for name in query.facets:
            if name in filters:
                others = [q for n, q in filters.items() if n != name]
                groups.append(([name], _and(text, *guard, *others)))
        for names, base in groups:
            spec: dict[str, Any] = {}
            for name in names:
                if name == "year":
                    ranges = [
                        {
                            "key": label,
                            **({"from": lo} if lo else {}),
                            **({"to": hi + 1} if hi else {}),
                        }
                        for label, lo, hi in YEAR_RANGES
                    ]
                    spec[name] = {"range": {"field": "year", "ranges": ranges}}
                else:
                    spec[name] = {"terms": {"field": name, "size": query.facet_size}}
            result = live.searcher.aggregate(base, spec)
            for name in names:
                buckets = result.get(name, {}).get("buckets", [])
                if name == "year":  # tantivy sorts ranges by their start; show them as declared
                    order = [label for label, _, _ in YEAR_RANGES]
                    buckets = sorted(buckets, key=lambda b: order.index(str(b["key"])))
                counts[name] = [
                    (str(b["key"]), int(b["doc_count"])) for b in buckets if b["doc_count"]
                ]
        return counts

    def pages(
        self, key: str, tokens: Sequence[analysis.QueryToken], principals: Sequence[str], limit: int
    ) -> list[PageHit]:
        if not tokens or not principals:
            return []
        live = self._searcher()
        compile_ = Compiler(live.schema, live.fields).compile
        words = Bool(should=tuple(Words(t, (FULLTEXT,)) for t in tokens), min_should=1)
        query = _and(
            compile_(words),
            compile_(Keyword("parent", (key,))),
            compile_(Keyword("pages_visible_to", tuple(principals))),
        )
        searcher = live.searcher
        found = searcher.search(query, limit)
        pages = []
        for _score, address in found.hits:
            doc = searcher.doc(address)
            display = json.loads(doc.get_first("display") or b"{}")
            pages.append(PageHit(int(doc.get_first("page") or 0), display.get("text", "")))
        return pages

    def versions(self) -> Iterator[tuple[str, str]]:
        live = self._searcher()
        searcher = live.searcher
        query = tantivy.Query.term_query(live.schema, "entry", "doc")
        total = searcher.num_docs
        found = searcher.search(query, max(total, 1))
        for _score, address in found.hits:
            doc = searcher.doc(address)
            yield str(doc.get_first("key")), bytes(doc.get_first("version") or b"").decode()

    def count(self) -> int:
        live = self._searcher()
        query = tantivy.Query.term_query(live.schema, "entry", "doc")
        return _count(live.searcher.search(query, 1, count=True))

    def stats(self) -> dict[str, Any]:
        generation = self.root / (self._current() or "none")
        size = sum(p.stat().st_size for p in generation.rglob("*") if p.is_file())
        return {"backend": self.name, "documents": self.count(), "bytes": size}


def _count(found: tantivy.SearchResult) -> int:
    return int(getattr(found, "count", 0) or 0)


def _and(*queries: tantivy.Query) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


class _Writer:
    def __init__(self, writer: tantivy.IndexWriter, schema: tantivy.Schema) -> None:
        self.writer = writer
        self.schema = schema

    def upsert(self, documents: Sequence[SearchDocument]) -> None:
        self.delete([d.key for d in documents])
        self.add(documents)

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.writer.delete_documents_by_term("key", key)
            self.writer.delete_documents_by_term("parent", key)

    def add(self, documents: Sequence[SearchDocument]) -> None:
        self.add_fields(entries(documents))

    def add_fields(self, entries: Sequence[Fields]) -> None:
        for fields in entries:
            self.writer.add_document(tantivy.Document.from_dict(fields, self.schema))
