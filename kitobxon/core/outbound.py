"""Requests the library makes to addresses librarians type: only to the public internet.

Harvest sources and copy-cataloguing servers are URLs a librarian enters, and the server fetches
them. Unchecked, such a URL reaches what only the server can reach — its own loopback, the
campus network, the cloud's metadata service at 169.254.169.254 (server-side request forgery).
So every request through `open_url` is http or https, and connects only when every address its
host resolves to is publicly routable: none loopback, private, link-local, multicast, reserved,
unspecified, shared (100.64.0.0/10), IPv6 site-local or unique-local, nor an IPv6 form that
carries such an IPv4 address (IPv4-mapped, 6to4).

The check is made when the connection is opened, on the addresses the connection then uses, so
a name cannot resolve to a public address for the check and a private one for the connection
(DNS rebinding); TLS still verifies the certificate for the host name. Redirects are followed
(at most `MAX_REDIRECTS`) only to http or https, and each opens its connection through the same
check. Proxies named in the environment are not used: the check must see the address it
connects to.

An administrator lets the library reach such addresses with ``KITOBXON_OUTBOUND_ALLOW`` (host
names, IP addresses, CIDR ranges: settings.OUTBOUND_ALLOW) or all of them with
``KITOBXON_OUTBOUND_ALLOW_PRIVATE=1`` (settings.OUTBOUND_ALLOW_PRIVATE).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.request
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kitobxon.core.errors import DomainError

SCHEMES = {"http": 80, "https": 443}
MAX_REDIRECTS = 5
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

KINDS = {
    "unspecified": gettext_lazy("unspecified"),
    "loopback": gettext_lazy("loopback"),
    "link-local": gettext_lazy("link-local"),
    "multicast": gettext_lazy("multicast"),
    "site-local": gettext_lazy("site-local"),
    "reserved": gettext_lazy("reserved"),
    "private": gettext_lazy("private network"),
    "not global": gettext_lazy("not publicly routable"),
}


class OutboundRefused(DomainError):
    """The library does not fetch this address; the message says why, in the reader's language."""


def forbidden_kind(address: IPAddress) -> str | None:
    """Why ``address`` is not on the public internet ("loopback", "private" …), or None.

    ``is_global`` alone is not enough: Python counts multicast and IPv6 site-local addresses as
    global, and an IPv4-mapped IPv6 address as reserved whatever it carries, so an embedded
    IPv4 address is judged as itself.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return forbidden_kind(address.ipv4_mapped)
        if address.sixtofour is not None and forbidden_kind(address.sixtofour):
            return forbidden_kind(address.sixtofour)
        if address.is_site_local:
            return "site-local"
    for kind, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not global", not address.is_global),
    ):
        if flag:
            return kind
    return None


def _allowance() -> tuple[set[str], list[IPNetwork]]:
    """The host names and networks settings.OUTBOUND_ALLOW lets the library reach."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in getattr(settings, "OUTBOUND_ALLOW", ()):
        entry = entry.strip().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return names, networks


def _allowed(host: str, address: IPAddress, names: set[str], networks: list[IPNetwork]) -> bool:
    if getattr(settings, "OUTBOUND_ALLOW_PRIVATE", False):
        return True
    if host.lower().rstrip(".") in names:
        return True
    forms: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        forms.append(address.ipv4_mapped)
    return any(form in network for form in forms for network in networks)


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, once each, after refusing them if ANY is forbidden.

    Raises `OutboundRefused`; a name that does not resolve raises `OSError` (socket.gaierror),
    a failure to connect rather than a refusal.
    """
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise OSError(f"{host} has no address")
    names, networks = _allowance()
    for each in addresses:
        address = ipaddress.ip_address(each)
        kind = forbidden_kind(address)
        if kind is not None and not _allowed(host, address, names, networks):
            shown = each.split("%", 1)[0]
            place = shown if shown == host else f"{host} ({shown})"
            raise OutboundRefused(
                _(
                    "%(place)s is not a public internet address (%(kind)s); the library does not "
                    "fetch from it. An administrator can allow it with KITOBXON_OUTBOUND_ALLOW."
                )
                % {"place": place, "kind": KINDS[kind]}
            )
    return addresses


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise OutboundRefused(_("Only http:// and https:// addresses can be fetched."))
    if not parts.hostname:
        raise OutboundRefused(_("The address has no host name."))
    try:
        return parts.hostname, parts.port or SCHEMES[scheme]
    except ValueError:
        raise OutboundRefused(_("The address has an invalid port.")) from None


def check_url(url: str) -> None:
    """Refuse ``url`` unless it is http(s) and its host leads only to allowed addresses.

    Raises `OutboundRefused`, or `OSError` when the host name does not resolve.
    """
    checked_addresses(*_host_and_port(url))


def validate_url(url: str) -> None:
    """A form validator: `check_url`, except that a name that does not resolve now is let
    through (it may resolve tomorrow; the fetch checks again and says so)."""
    try:
        check_url(url)
    except OutboundRefused as refused:
        raise ValidationError(refused.message, code="outbound") from None
    except OSError:
        pass


def _connect(address: tuple[str, int], timeout: Any, source_address: Any = None) -> socket.socket:
    """`socket.create_connection` to the checked addresses of the host, never to a new lookup."""
    host, port = address
    *others, last = checked_addresses(host, port)
    for each in others:
        try:
            return socket.create_connection((each, port), timeout, source_address)
        except OSError:
            continue
    return socket.create_connection((last, port), timeout, source_address)


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a checked address; the TLS handshake still names and verifies the host."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_CheckedHTTPConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        super().__init__()
        self.tls = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_CheckedHTTPSConnection, req, context=self.tls)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Each redirect's target is checked before urllib looks at it (its own rule lets ftp by)."""

    max_redirections = MAX_REDIRECTS

    def http_error_302(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
    ) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location:
            target = urljoin(req.full_url, location)
            try:
                check_url(target)
            except OutboundRefused as refused:
                raise OutboundRefused(
                    _("The server redirected to %(url)s. %(reason)s")
                    % {"url": target, "reason": refused.message}
                ) from None
            except OSError:
                pass  # the connection will fail and say why
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def open_url(request: str | urllib.request.Request, *, timeout: float) -> http.client.HTTPResponse:
    """`urllib.request.urlopen`, for addresses librarians give: checked as the module says.

    Raises `OutboundRefused` (never retried: asking again will not help) and whatever urlopen
    raises (`urllib.error.HTTPError`, `URLError`, `TimeoutError`).
    """
    _host_and_port(request.full_url if isinstance(request, urllib.request.Request) else request)
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.UnknownHandler(),
        _CheckedHTTPHandler(),
        _CheckedHTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _CheckedRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    response: http.client.HTTPResponse = opener.open(request, timeout=timeout)
    return response
