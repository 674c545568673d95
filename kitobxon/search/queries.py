"""Who may see what in search: a reader's principals, matched against each entry's visibility."""

from __future__ import annotations

from typing import Any

from kitobxon.search.backends import get_backend
from kitobxon.search.documents import PUBLIC, STAFF
from kitobxon.search.models import ZeroResultQuery

REGISTERED = "registered"


def principals(user: Any) -> frozenset[str]:
    """The visibility tokens of a reader: public, registered, their segment, staff.

    Entries list who may see them (`visible_to`) and who may read their full text
    (`pages_visible_to`); a search only matches entries sharing one of these tokens.
    """
    tokens = {PUBLIC}
    if user is not None and getattr(user, "is_authenticated", False):
        tokens.add(REGISTERED)
        segment = getattr(user, "segment", "")
        if segment:
            tokens.add(f"segment:{segment}")
        if user.has_perm("search.search_everything"):
            tokens.add(STAFF)
    return frozenset(tokens)


def readable_zero_result_queries(user: Any) -> Any:
    if not user.has_perm("search.view_zeroresultquery"):
        return ZeroResultQuery.objects.none()
    return ZeroResultQuery.objects.all()


def index_health() -> str | None:
    """The index answers a query (and, for the embedded backend, its directory is readable),
    and was built for this release: an index of an older schema answers, but refuses changes
    until `kitobxon reindex`, so the catalogue's edits wait in the outbox."""
    try:
        backend = get_backend()
        backend.count()
        if backend.outdated:
            return "search index built by an older release: run `kitobxon reindex`"
    except Exception as exc:
        return f"search index unreachable: {exc}"
    return None
