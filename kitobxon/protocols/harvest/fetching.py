"""Fetching OAI-PMH pages over HTTP, patiently.

Repositories are other libraries' servers: they restart, time out and ask harvesters to slow
down. A page is retried on connection errors, 5xx answers and ``429 Too Many Requests`` with
exponential backoff; a 503 or 429 with ``Retry-After`` (seconds or an HTTP date) waits as long as
the repository asks, up to ``max_wait``. Other client errors (4xx) are not retried: asking again
will not help, nor is an address the library refuses to reach (`kitobxon.core.outbound`: only
public internet addresses unless settings allow others, redirects included).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from kitobxon.core import outbound

USER_AGENT = "Kitobxon-harvester/1 (+https://github.com/kitobxon)"
MAX_PAGE_BYTES = 64 << 20
TOO_MANY_REQUESTS = 429


class FetchError(Exception):
    """The repository could not be reached or kept failing; the message says how."""


@dataclass
class Fetcher:
    """GETs OAI-PMH requests; ``sleep`` and ``now`` are the clock, replaceable for a bench."""

    timeout: float = 60.0
    attempts: int = 5
    backoff: float = 2.0  # first wait in seconds, doubled after each failure
    max_wait: float = 3600.0  # the longest Retry-After honoured before giving up
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    retries: int = 0

    def get(self, base_url: str, params: Mapping[str, str]) -> bytes:
        url = f"{base_url}?{urllib.parse.urlencode(params)}"
        problem = ""
        for attempt in range(self.attempts):
            wait = self.backoff * (2**attempt)
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
            self.requests += 1
            try:
                with outbound.open_url(request, timeout=self.timeout) as response:
                    body: bytes = response.read(MAX_PAGE_BYTES + 1)
                if len(body) > MAX_PAGE_BYTES:
                    raise FetchError(f"{url}: the page is larger than {MAX_PAGE_BYTES} bytes")
                return body
            except outbound.OutboundRefused as refused:
                raise FetchError(f"{url}: {refused.message}") from refused
            except urllib.error.HTTPError as error:
                if error.code < 500 and error.code != TOO_MANY_REQUESTS:
                    raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from error
                problem = f"HTTP {error.code} {error.reason}"
                asked = retry_after(error.headers.get("Retry-After"))
                if asked is not None:
                    if asked > self.max_wait:
                        raise FetchError(
                            f"{url}: the repository asks to wait {asked:.0f} s (Retry-After), "
                            f"longer than {self.max_wait:.0f} s"
                        ) from error
                    wait = asked
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                problem = f"connection failed: {reason}"
            if attempt + 1 < self.attempts:
                self.retries += 1
                self.sleep(wait)
        raise FetchError(f"{url}: {problem} (gave up after {self.attempts} attempts)")


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
