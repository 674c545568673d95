"""The ledger's pages: published checkpoints and key, "is this file authentic?", reports."""
