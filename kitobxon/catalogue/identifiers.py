"""ISBN, ISSN and DOI: validated and normalised with python-stdnum.

An identifier that fails validation is kept as given and flagged, never dropped: a
cataloguer may need to see the misprinted ISBN on the book's back cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from stdnum import isbn, issn
from stdnum.exceptions import ValidationError

_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_QUALIFIER = re.compile(r"\s*[(:;].*$")


@dataclass(frozen=True)
class Normalized:
    value: str  # canonical form: ISBN-13 digits, ISSN with hyphen, DOI in lower case
    is_valid: bool


def _isbn13_check(digits12: str) -> str:
    """The EAN check digit: the digits weighted 1, 3, 1, 3..."""
    total = sum(map(int, digits12[0::2])) + 3 * sum(map(int, digits12[1::2]))
    return str((10 - total % 10) % 10)


def _plain_isbn13(raw: str) -> str | None:
    """The common case, an ISBN-13 already in digits, checked without stdnum's general path
    (same rule: 978/979 prefix and the EAN check digit)."""
    digits = raw.replace("-", "").replace(" ", "")
    if len(digits) == 13 and digits.isdigit() and digits[:3] in ("978", "979"):
        return digits if _isbn13_check(digits[:12]) == digits[12] else None
    return None


@lru_cache(maxsize=200_000)
def normalize(scheme: str, value: str) -> Normalized:
    raw = value.strip()
    if scheme == "isbn" and (plain := _plain_isbn13(raw)) is not None:
        return Normalized(plain, True)
    if scheme == "isbn":
        candidate = _QUALIFIER.sub("", raw)
        try:
            return Normalized(isbn.to_isbn13(isbn.validate(candidate)), True)
        except ValidationError:
            return Normalized(isbn.compact(candidate), False)
    if scheme == "issn":
        try:
            return Normalized(issn.format(issn.validate(raw)), True)
        except ValidationError:
            return Normalized(issn.compact(raw), False)
    if scheme == "doi":
        match = _DOI.match(raw)
        return Normalized(match.group(1).lower(), True) if match else Normalized(raw, False)
    return Normalized(raw, True)


def looks_like(text: str) -> tuple[str, str] | None:
    """What an identifier typed in a search box is, with its canonical form (or None)."""
    for scheme in ("isbn", "issn", "doi"):
        result = normalize(scheme, text)
        if result.is_valid and (scheme != "doi" or text.strip().lower().count("10.") >= 1):
            return scheme, result.value
    return None
