"""What a ledger entry is about, in words: a registry the apps above the ledger fill in.

The ledger names subjects as ``"<prefix>:<id>"`` ("record:12") but may not import the apps
that own them. Each app registers a resolver for its prefix when it starts
(``subjects.register("record", describe_record)``), and the ledger's pages and API ask
:func:`describe` for a title and a link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Described:
    """A subject as a reader sees it: its title and the page about it."""

    title: str
    url: str


Resolver = Callable[[str], "Described | None"]

_resolvers: dict[str, Resolver] = {}


def register(prefix: str, describe: Resolver) -> None:
    """Let ``describe(id)`` name subjects ``"<prefix>:<id>"``; a later call replaces it."""
    _resolvers[prefix.rstrip(":")] = describe


def unregister(prefix: str) -> None:
    _resolvers.pop(prefix.rstrip(":"), None)


def describe(subject: str) -> Described | None:
    """The title and link of a subject, or None when no app knows it (or it is gone).

    The resolver gets the part after the prefix ("12" for "record:12"). A link that is neither
    a path on this site nor http(s) is dropped, so no page ever offers a ``javascript:`` link.
    """
    prefix, colon, rest = subject.partition(":")
    resolver = _resolvers.get(prefix)
    if not colon or resolver is None:
        return None
    described = resolver(rest)
    if described is not None and not _safe_link(described.url):
        described = replace(described, url="")
    return described


def _safe_link(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme:
        return parts.scheme in {"http", "https"} and bool(parts.netloc)
    return url.startswith("/") and not url.startswith("//") and "\\" not in url
