"""The ledger's JSON API: entries and RFC 9162 proofs, open to everyone.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
The log names no reader, so nothing here needs a sign-in. Hashes are standard base64, the
encoding of C2SP checkpoints, so a client compares them with the signed root as they are.
"""

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.errors import HttpError

from kitobxon.ledger import queries
from kitobxon.ledger.errors import TreeTooSmall
from kitobxon.ledger.schemas import (
    FILE_KINDS,
    SHA256_HEX,
    ConsistencyOut,
    ConsistencyParams,
    EntryOut,
    FileEntryOut,
    HeadOut,
    InclusionOut,
    b64,
    entry_out,
    file_entries_out,
)

router = Router(tags=["ledger"])


@router.get(
    "/ledger/head", response=HeadOut, url_name="ledger_head", summary="The tree's size and root now"
)
def head(request: HttpRequest) -> dict[str, Any]:
    """The integrated tree now. Its signed form is the checkpoint at /ledger/checkpoint."""
    now = queries.head()
    return {"size": now.size, "root_hash": b64(now.root_hash)}


@router.get(
    "/ledger/entries/{index}",
    response=EntryOut,
    url_name="ledger_entry",
    summary="One entry of the log",
)
def entry(request: HttpRequest, index: int) -> dict[str, Any]:
    """The entry at a leaf index, with its body exactly as hashed; 404 until it is integrated."""
    found = queries.entry_at(index)
    if found is None:
        raise Http404
    return entry_out(found)


@router.get(
    "/ledger/proof/inclusion",
    response=InclusionOut,
    url_name="ledger_inclusion",
    summary="RFC 9162 inclusion proof",
)
def inclusion(request: HttpRequest, index: int, size: int | None = None) -> dict[str, Any]:
    """The path from leaf ``index`` to the root of the tree of ``size`` leaves (default: now)."""
    if size is None:
        size = queries.head().size
    if not 0 <= index < size:
        raise HttpError(
            422,
            _("Entry %(index)s is not in a tree of %(size)s entries.")
            % {"index": index, "size": size},
        )
    try:
        proof = queries.inclusion_proof(index, size)
    except TreeTooSmall as error:
        raise HttpError(422, error.message) from error
    leaf = queries.entry_at(index)
    if leaf is None:  # the head counted it, so only a damaged table gets here
        raise Http404
    return {
        "index": index,
        "size": size,
        "leaf_hash": b64(bytes(leaf.leaf_hash)),
        "proof": [b64(node) for node in proof],
    }


@router.get(
    "/ledger/proof/consistency",
    response=ConsistencyOut,
    by_alias=True,
    url_name="ledger_consistency",
    summary="RFC 9162 consistency proof",
)
def consistency(request: HttpRequest, params: Query[ConsistencyParams]) -> dict[str, Any]:
    """Proof that the tree of ``to`` leaves extends the tree of ``from`` leaves."""
    first, second = params.first, params.to
    if not 0 < first <= second:
        raise HttpError(
            422,
            _("A consistency proof goes from a smaller tree to a larger one, from size 1 up."),
        )
    try:
        proof = queries.consistency_proof(first, second)
    except TreeTooSmall as error:
        raise HttpError(422, error.message) from error
    return {"from": first, "to": second, "proof": [b64(node) for node in proof]}


@router.get(
    "/ledger/files/{sha256}",
    response=list[FileEntryOut],
    url_name="ledger_files",
    summary="Entries registering a file with these bytes",
)
def files(request: HttpRequest, sha256: str) -> list[dict[str, Any]]:
    """Is this file authentic? Every registration of these bytes, oldest first."""
    if not SHA256_HEX.fullmatch(sha256.lower()):
        raise HttpError(422, _("A SHA-256 hash is 64 hexadecimal digits."))
    return file_entries_out(queries.entries_with_file(sha256).filter(kind__in=FILE_KINDS))
