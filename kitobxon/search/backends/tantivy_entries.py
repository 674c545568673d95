"""What a `SearchDocument` becomes in the tantivy index, and the rebuild's helper process,
which makes it on another core."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kitobxon.search import analysis
from kitobxon.search.documents import (
    FULLTEXT,
    TEXT_FIELDS,
    SearchDocument,
)

ANALYSED = (*TEXT_FIELDS, FULLTEXT)
VARIANTS = ("exact", "uzkey", "ru", "en")


def tie_break_weight(popularity: float) -> float:
    """Popularity as a gentle tie-break: at most +5 % on the BM25 score.

    tantivy multiplies the score by log2(2 + weight); this weight makes that factor
    1 + 0.05 · min(1, log10(1 + popularity) / 4).
    """
    import math

    factor = 1 + 0.05 * min(1.0, math.log10(1 + max(popularity, 0.0)) / 4)
    return float(2**factor - 2)


#: A tantivy document as plain values, field → its value, or a list of its values
#: (`tantivy.Document.from_dict` takes either): what the rebuild's helper process sends back,
#: cheaper to pickle than a `tantivy.Document`. Single values go bare: a list per field cost
#: a third of the pickling and a third of `from_dict`.
Fields = dict[str, Any]


def entries(documents: Sequence[SearchDocument]) -> list[Fields]:
    """The index entries of `documents`: each document, followed by its pages."""
    made = []
    for document in documents:
        made.append(_document(document))
        for page in document.pages:
            made.append(_page(document, page.number, page.text))
    return made


def _document(source: SearchDocument) -> Fields:
    doc: dict[str, list[Any]] = {
        "key": [source.key],
        "entry": ["doc"],
        "kind": [source.kind],
        "visible_to": list(source.visible_to),
        "pages_visible_to": list(source.pages_visible_to),
        "ids": list(source.identifiers),
    }
    for name, values in source.filters.items():
        doc.setdefault(name, []).extend(values)
    for name in TEXT_FIELDS:
        text = source.text.get(name)
        if text:
            _add_analysed(doc, name, analysis.analyse(text, source.language))
    if source.pages:
        full = "\n".join(page.text for page in source.pages)
        _add_analysed(doc, FULLTEXT, analysis.analyse(full, source.language))
    if source.year is not None:
        doc["year"] = [source.year]
    doc["year_new"] = [source.year or 0]
    doc["year_old"] = [source.year or 99_999]
    doc["popularity"] = [float(source.popularity)]
    doc["weight"] = [tie_break_weight(source.popularity)]
    doc["sort_title"] = [source.sort_title or analysis.uzbek_sort_key(source.text.get("title", ""))]
    doc["display"] = [json.dumps(source.display, ensure_ascii=False).encode()]
    doc["version"] = [source.version.encode()]
    return _bare(doc)


def _page(source: SearchDocument, number: int, text: str) -> Fields:
    doc: dict[str, list[Any]] = {
        "entry": ["page"],
        "parent": [source.key],
        "pages_visible_to": list(source.pages_visible_to),
        "page": [number],
    }
    _add_analysed(doc, FULLTEXT, analysis.analyse(text, source.language))
    doc["display"] = [json.dumps({"text": text}, ensure_ascii=False).encode()]
    return _bare(doc)


def _bare(doc: dict[str, list[Any]]) -> Fields:
    """`doc` without its empty fields, and each single value out of its list."""
    return {
        name: values[0] if len(values) == 1 else values for name, values in doc.items() if values
    }


#: (variant, field name) of each analysed field, made once: pickle writes a string that every
#: document of a batch shares once per batch.
_VARIANT_FIELDS = {
    name: tuple((variant, f"{name}_{variant}") for variant in VARIANTS) for name in ANALYSED
}


def _add_analysed(doc: dict[str, list[Any]], name: str, analysed: analysis.Analysed) -> None:
    for variant, field in _VARIANT_FIELDS[name]:
        terms = getattr(analysed, variant)
        if terms:
            doc[field] = [" ".join(terms)]


# --- the rebuild's helper process ----------------------------------------------------------------

#: Batches handed to the helper before this process waits for the first one back.
IN_FLIGHT = 2
_HEADER = struct.Struct("<Q")


class Helper:
    """A child process that analyses documents for a rebuild, on another core.

    This process keeps loading batches from the database and feeding the writer; the helper
    turns each batch of `SearchDocument`s into `Fields` (analysis, display JSON and the version
    digest: most of the CPU time of a rebuild). Batches go out through a feeder thread, so
    neither side can block the other on a full pipe; results come back in order. The helper
    reads its batches from a pipe only this process writes to, so it exits when this process
    ends, however it ends.
    """

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[3])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [package_root, os.environ.get("PYTHONPATH", "")])
            ),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from kitobxon.search.backends import tantivy_entries; tantivy_entries.serve()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()

    def _feed(self) -> None:
        pipe = self.process.stdin
        assert pipe is not None
        try:
            while (payload := self.outbox.get()) is not None:
                pipe.write(_HEADER.pack(len(payload)))
                pipe.write(payload)
                pipe.flush()
        except (BrokenPipeError, ValueError):
            pass  # the helper died; receive() reports it
        finally:
            with contextlib.suppress(OSError):
                pipe.close()

    def send(self, documents: Sequence[SearchDocument]) -> None:
        self.outbox.put(pickle.dumps(list(documents), protocol=pickle.HIGHEST_PROTOCOL))

    def receive(self) -> list[Fields]:
        assert self.process.stdout is not None
        result = _read_frame(self.process.stdout)
        if result is None:
            raise RuntimeError(f"the rebuild's helper process stopped ({self.process.poll()})")
        if isinstance(result, str):
            raise RuntimeError(f"the rebuild's helper process failed:\n{result}")
        return list(result)

    def close(self) -> None:
        self.outbox.put(None)
        self.feeder.join(timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _read_frame(pipe: Any) -> Any:
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    payload = pipe.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)  # noqa: S301 (our own child process, over our own pipe)


def serve() -> None:
    """The helper's loop: batches of documents in on stdin, their `Fields` out on stdout.

    The helper lives for one rebuild and makes no reference cycles: no cyclic collection
    (as `indexing.collector_paused` in the rebuilding process).
    """
    import gc

    gc.disable()
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (documents := _read_frame(source)) is not None:
        try:
            result: Any = entries(documents)
        except Exception:
            result = traceback.format_exc()
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(_HEADER.pack(len(payload)))
        sink.write(payload)
        sink.flush()
