"""Stateless resumption tokens: the list request and a keyset cursor, signed.

Nothing is kept on the server, so a token survives restarts and works on any worker. The
token carries the verb, format, set and window of the original request, the (datestamp,
record number) of the last entry handed out, the list's size and position, and its expiry;
``django.core.signing`` makes it tamper-evident. An expired, tampered or foreign token is
``badResumptionToken``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing

LIFETIME = timedelta(hours=24)
_SALT = "kitobxon.protocols.oai.resumption"


class BadToken(Exception):
    """The token is expired, tampered with or not ours."""


@dataclass(frozen=True)
class Resumption:
    verb: str
    prefix: str
    set_spec: str
    since: datetime | None
    before: datetime | None
    after: tuple[datetime, int]
    size: int  # completeListSize, counted on the first page
    cursor: int  # entries handed out before the next page
    expires: datetime


def _stamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def expiry(now: datetime | None = None) -> datetime:
    """When a token issued ``now`` expires, to the second."""
    return ((now or datetime.now(UTC)) + LIFETIME).replace(microsecond=0)


def encode(resumption: Resumption) -> str:
    payload = {
        "v": resumption.verb,
        "p": resumption.prefix,
        "s": resumption.set_spec,
        "f": _stamp(resumption.since),
        "u": _stamp(resumption.before),
        "a": [_stamp(resumption.after[0]), resumption.after[1]],
        "n": resumption.size,
        "c": resumption.cursor,
        "x": int(resumption.expires.timestamp()),
    }
    return signing.dumps(payload, salt=_SALT, compress=True)


def decode(token: str, *, now: datetime | None = None) -> Resumption:
    try:
        payload = signing.loads(token, salt=_SALT)
        stamp, number = payload["a"]
        resumption = Resumption(
            verb=str(payload["v"]),
            prefix=str(payload["p"]),
            set_spec=str(payload["s"]),
            since=_moment(payload["f"]),
            before=_moment(payload["u"]),
            after=(datetime.fromisoformat(stamp), int(number)),
            size=int(payload["n"]),
            cursor=int(payload["c"]),
            expires=datetime.fromtimestamp(int(payload["x"]), UTC),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadToken(str(error)) from error
    if resumption.expires <= (now or datetime.now(UTC)):
        raise BadToken("expired")
    return resumption
