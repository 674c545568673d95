"""The protocols tests read sentences in English unless a test chooses another language."""

from kitobxon.accounts.testing import _english, client, make_user, patron_client

__all__ = ["_english", "client", "make_user", "patron_client"]
