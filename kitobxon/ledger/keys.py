"""The ledger's secrets, generated on first run in the data directory (never in the repo)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings


def secret_file(name: str, make: Callable[[], bytes]) -> bytes:
    """The bytes of LEDGER_DIR/name, creating the file with ``make()`` if it does not exist.

    Written to a temporary file and hard-linked into place, so two processes starting together
    agree on one key and neither ever reads a half-written file. Mode 0600.
    """
    directory = Path(settings.LEDGER_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if path.exists():
        return path.read_bytes()
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
    return path.read_bytes()


@cache
def _pseudonym_key(directory: str) -> bytes:
    return secret_file("pseudonym.key", lambda: secrets.token_bytes(32))


def pseudonym_key() -> bytes:
    """The library's secret for reader pseudonyms (HMAC-SHA-256)."""
    return _pseudonym_key(str(settings.LEDGER_DIR))
