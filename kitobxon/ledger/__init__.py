"""The integrity ledger: a Merkle transparency log (RFC 9162) with signed checkpoints.

Apps call ``kitobxon.ledger.services.record(...)`` inside their own transaction.
"""
