"""Marking the reader's words in titles and snippets, whatever form or script they typed.

Each word of the shown text goes through the same analysis as the index, so `kitob` marks
"Kitoblar" and `ўзбек` marks "O‘zbek". Output is escaped HTML with <mark> around matches.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from kitobxon.search import analysis
from kitobxon.search.analysis import QueryToken

WORD = re.compile(r"[\w'`´‘’ʻʼ\u0301\u0306]+")
SNIPPET_CHARS = 240


@dataclass(frozen=True, slots=True)
class _Terms:
    exact: frozenset[str]
    uzkey: frozenset[str]
    ru: frozenset[str]
    en: frozenset[str]


def _terms(tokens: Sequence[QueryToken]) -> _Terms:
    return _Terms(
        frozenset(e for t in tokens for e in t.exact),
        frozenset(k for t in tokens for k in t.uzkeys),
        frozenset(t.ru for t in tokens if t.ru),
        frozenset(t.en for t in tokens if t.en),
    )


@functools.lru_cache(maxsize=50_000)
def _word(word: str) -> analysis.Analysed:
    return analysis.analyse(word)


def _matches(word: str, terms: _Terms) -> bool:
    a = _word(word)
    return bool(
        terms.exact.intersection(a.exact)
        or terms.uzkey.intersection(a.uzkey)
        or terms.ru.intersection(a.ru)
        or terms.en.intersection(a.en)
    )


def _mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    end = len(text) if end is None else end
    out: list[str] = []
    cursor = start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(escape(text[cursor:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        cursor = b
    out.append(escape(text[cursor:end]))
    return "".join(out)


class Marker:
    """Marks one query's words in many texts: a results page's titles and snippets.

    Whether a word matches is worked out once per distinct word of the page, not once per
    occurrence (a page of twenty abstracts repeats most of its words).
    """

    __slots__ = ("_seen", "_terms")

    def __init__(self, tokens: Sequence[QueryToken]) -> None:
        self._terms = _terms(tokens)
        self._seen: dict[str, bool] = {}

    def _spans(self, text: str) -> list[tuple[int, int]]:
        seen, terms = self._seen, self._terms
        spans = []
        for m in WORD.finditer(text):
            word = m.group()
            hit = seen.get(word)
            if hit is None:
                hit = seen[word] = _matches(word, terms)
            if hit:
                spans.append(m.span())
        return spans

    def highlight(self, text: str) -> str:
        """The whole text, escaped, with the reader's words marked."""
        return _mark(text, self._spans(text))

    def snippet(self, text: str, width: int = SNIPPET_CHARS) -> str:
        """The passage of about `width` characters holding the most matches, marked."""
        spans = self._spans(text)
        if len(text) <= width:
            return _mark(text, spans)
        best_start, best_count = 0, 0
        ends = [b for _a, b in spans]
        for i, (a, _b) in enumerate(spans):
            count = bisect.bisect_right(ends, a + width, lo=i) - i  # spans are in order
            if count > best_count:
                best_start, best_count = a, count
        start = max(0, best_start - width // 4)
        start = _word_boundary(text, start)
        end = min(len(text), start + width)
        end = _word_boundary(text, end, forward=True)
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < len(text) else ""
        return prefix + _mark(text, spans, start, end) + suffix


def highlight(text: str, tokens: Sequence[QueryToken]) -> str:
    """The whole text, escaped, with the reader's words marked."""
    return Marker(tokens).highlight(text)


def snippet(text: str, tokens: Sequence[QueryToken], width: int = SNIPPET_CHARS) -> str:
    """The passage of about `width` characters holding the most matches, marked."""
    return Marker(tokens).snippet(text, width)


def _word_boundary(text: str, index: int, *, forward: bool = False) -> int:
    if index <= 0 or index >= len(text):
        return max(0, min(index, len(text)))
    step = 1 if forward else -1
    limit = 20
    while 0 < index < len(text) and not text[index].isspace() and limit:
        index += step
        limit -= 1
    return index
