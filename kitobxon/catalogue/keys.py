"""Keys that decide when two names or two records are the same.

Folding here is deliberately simple (case, accents, apostrophes, punctuation); the search
capability's analysis pipeline refines how readers' queries match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.conf import settings

from kitobxon.catalogue import identifiers
from kitobxon.catalogue.data import RecordData

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_APOSTROPHES = str.maketrans("", "", "'‘’ʻʼ`´ʹ")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case, no accents, no apostrophes, single spaces.

    'Oʻtkan  kunlar.' -> 'otkan kunlar'
    """
    stripped = text.translate(_APOSTROPHES)
    if not stripped.isascii():  # ASCII has nothing to decompose
        decomposed = unicodedata.normalize("NFKD", stripped)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", stripped.casefold()).strip()


def agent_key(name: str) -> str:
    return fold(name)[:500]


def subject_key(label: str) -> str:
    return fold(label)[:500]


def match_key(title: str, first_author: str, year: int | None) -> str:
    """Title + first author's surname + year: the fallback key for spotting duplicates."""
    surname = fold(first_author.split(",")[0]) if first_author else ""
    return f"{fold(title)[:200]}|{surname[:40]}|{year or ''}"


def derived_work_key(data: RecordData) -> str:
    """Editions of one work share title and first author: "title|surname", folded.

    Used when a record names no work of its own. Editions in another script or language
    (a Cyrillic edition, a translation) need an explicit work key until transliteration
    (the search capability) lets titles be compared across scripts.
    """
    first = data.contributors[0].name if data.contributors else ""
    surname = fold(first.split(",")[0]) if first else ""
    title = fold(data.title)
    return f"{title[:150]}|{surname[:40]}" if title else ""


def record_match_key(data: RecordData) -> str:
    """The configured duplicate key of a record ("" when matching by key is switched off)."""
    if settings.CATALOGUE_MATCH_KEY == "none":
        return ""
    first = data.contributors[0].name if data.contributors else ""
    return match_key(data.title, first, data.year)


def valid_isbns(data: RecordData) -> list[str]:
    """The record's valid ISBNs, as ISBN-13."""
    found = []
    for identifier in data.identifiers:
        if identifier.scheme == "isbn":
            result = identifiers.normalize("isbn", identifier.value)
            if result.is_valid:
                found.append(result.value)
    return found
