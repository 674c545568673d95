"""The ledger's JSON API: entries and RFC 9162 proofs, open to everyone."""

from ninja import Router

router = Router(tags=["ledger"])
