"""The outbound guard against real local servers: what it refuses with the allowance off, that
the same servers answer with it on (so a refusal is the guard's doing), redirects, and that the
connection goes to the address that was checked."""

from __future__ import annotations

import ipaddress
import socket
import threading
import urllib.error
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from kitobxon.core import outbound
from kitobxon.core.outbound import OutboundRefused, check_url, forbidden_kind, open_url

NOTHING_ALLOWED = override_settings(OUTBOUND_ALLOW=[], OUTBOUND_ALLOW_PRIVATE=False)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The refusals are asserted in English (the site's default language is Uzbek)."""
    with translation.override("en"):
        yield


class Server:
    """A local HTTP server on ``host``: ``answer(path) -> (status, headers, body)``."""

    def __init__(
        self, host: str, answer: Callable[[str], tuple[int, dict[str, str], bytes]]
    ) -> None:
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Host", "")))
                status, headers, body = answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self.httpd = server_class((host, 0), Handler)
        self.port: int = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(host: str = "127.0.0.1", answer: Callable[..., Any] | None = None) -> Server:
        started.append(Server(host, answer or (lambda path: (200, {}, b"answered"))))
        return started[-1]

    yield start
    for each in started:
        each.close()


def fetch(url: str) -> bytes:
    with open_url(url, timeout=2) as response:
        body: bytes = response.read()
    return body


LOCAL = [
    ("http://127.0.0.1:{port}/", "127.0.0.1", "loopback"),
    ("http://localhost:{port}/", "127.0.0.1", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/", "127.0.0.1", "loopback"),
    ("http://[::1]:{port}/", "::1", "loopback"),
]


@pytest.mark.parametrize(("template", "host", "kind"), LOCAL)
def test_loopback_servers_are_refused_without_the_allowance(
    serve: Callable[..., Server], template: str, host: str, kind: str
) -> None:
    server = serve(host)
    url = template.format(port=server.port)

    with NOTHING_ALLOWED, pytest.raises(OutboundRefused, match=f"\\({kind}\\)"):
        fetch(url)
    with NOTHING_ALLOWED, pytest.raises(OutboundRefused, match=kind):
        check_url(url)

    assert server.requests == []


@pytest.mark.parametrize(("template", "host", "kind"), LOCAL)
def test_the_same_servers_answer_when_the_test_settings_allow_the_loopback(
    serve: Callable[..., Server], template: str, host: str, kind: str
) -> None:
    server = serve(host)
    url = template.format(port=server.port)

    check_url(url)
    assert fetch(url) == b"answered"
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://10.1.2.3/oai", "private network"),
        ("http://192.168.0.10:8080/sru", "private network"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "link-local"),
        ("http://[fd00::1]/", "private network"),
        ("http://0.0.0.0:8000/", "unspecified"),
    ],
)
def test_private_and_metadata_addresses_are_refused_before_any_connection(
    url: str, kind: str
) -> None:
    with NOTHING_ALLOWED, pytest.raises(OutboundRefused, match=kind):
        fetch(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:70/", "//example.org/"]
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    with override_settings(OUTBOUND_ALLOW_PRIVATE=True):
        with pytest.raises(OutboundRefused, match="Only http:// and https://"):
            fetch(url)
        with pytest.raises(OutboundRefused, match="Only http:// and https://"):
            check_url(url)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1", None),
        ("::ffff:8.8.8.8", None),  # Python calls every IPv4-mapped address reserved
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "not global"),  # shared address space: neither private nor global
        ("224.0.0.1", "multicast"),  # is_global is true for multicast
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),  # noqa: S104
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),  # is_global is true for site-local
        ("fd12:3456::1", "private"),  # unique local
        ("ff02::1", "multicast"),
        ("2002:7f00:1::", "loopback"),  # 6to4 carrying 127.0.0.1
    ],
)
def test_every_kind_of_address_that_is_not_public_is_named(address: str, kind: str | None) -> None:
    assert forbidden_kind(ipaddress.ip_address(address)) == kind


class Resolver:
    """Made-up names: each lookup of a name takes the next list of ``answers`` (the last one
    repeats) and is counted in ``looked_up``; other names resolve as usual."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.looked_up: dict[str, int] = {}
        self.real = socket.getaddrinfo

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in self.answers:
            return self.real(host, port, *args, **kwargs)
        count = self.looked_up[host] = self.looked_up.get(host, 0) + 1
        addresses = self.answers[host][min(count, len(self.answers[host])) - 1]
        return [info for each in addresses for info in self.real(each, port, *args, **kwargs)]


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    return resolver


def test_a_name_is_refused_if_any_of_its_addresses_is_not_public(names: Resolver) -> None:
    names.answers["mixed.example"] = [["93.184.215.14", "10.0.0.7"]]

    with NOTHING_ALLOWED, pytest.raises(OutboundRefused, match=r"mixed\.example \(10\.0\.0\.7\)"):
        fetch("http://mixed.example/oai")


def test_the_connection_goes_to_the_address_that_was_checked(
    serve: Callable[..., Server], names: Resolver
) -> None:
    """DNS rebinding: the name answers the loopback (allowed in the test settings) once, then
    the metadata address; one lookup serves both the check and the connection."""
    server = serve()
    names.answers["rebind.example"] = [["127.0.0.1"], ["169.254.169.254"]]

    assert fetch(f"http://rebind.example:{server.port}/oai") == b"answered"
    assert server.requests == [("/oai", f"rebind.example:{server.port}")]
    assert names.looked_up == {"rebind.example": 1}


def test_the_allow_list_takes_host_names_addresses_and_ranges(serve: Callable[..., Server]) -> None:
    server = serve()
    by_name, by_address = f"http://localhost:{server.port}/", f"http://127.0.0.1:{server.port}/"

    with override_settings(OUTBOUND_ALLOW=["LOCALHOST."], OUTBOUND_ALLOW_PRIVATE=False):
        assert fetch(by_name) == b"answered"
        with pytest.raises(OutboundRefused):
            fetch(by_address)  # a name allows that name, not its address under another name
    for allowance in (["127.0.0.1"], ["127.0.0.0/30"], ["10.0.0.0/8", " 127.0.0.1/32 "]):
        with override_settings(OUTBOUND_ALLOW=allowance, OUTBOUND_ALLOW_PRIVATE=False):
            assert fetch(by_address) == b"answered" and fetch(by_name) == b"answered"
    with (
        override_settings(OUTBOUND_ALLOW=["127.0.0.2", "::1"], OUTBOUND_ALLOW_PRIVATE=False),
        pytest.raises(OutboundRefused),
    ):
        fetch(by_address)
    with override_settings(OUTBOUND_ALLOW=[], OUTBOUND_ALLOW_PRIVATE=True):
        assert fetch(by_address) == b"answered"
    assert len(server.requests) == 8


def redirect_to(location: str) -> Callable[[str], tuple[int, dict[str, str], bytes]]:
    return lambda path: (302, {"Location": location}, b"")


def test_a_redirect_to_a_refused_address_is_not_followed(serve: Callable[..., Server]) -> None:
    """127.0.0.1 is allowed and redirects to a server on 127.0.0.2, which is not."""
    second = serve("127.0.0.2", lambda path: (200, {}, b"second"))
    first = serve("127.0.0.1", redirect_to(f"http://127.0.0.2:{second.port}/oai"))

    with (
        override_settings(OUTBOUND_ALLOW=["127.0.0.1"], OUTBOUND_ALLOW_PRIVATE=False),
        pytest.raises(OutboundRefused, match=r"redirected to http://127\.0\.0\.2:") as refused,
    ):
        fetch(f"http://127.0.0.1:{first.port}/oai")
    assert "127.0.0.2 is not a public internet address (loopback)" in str(refused.value)
    assert len(first.requests) == 1 and second.requests == []

    with override_settings(OUTBOUND_ALLOW=["127.0.0.1", "127.0.0.2"]):
        assert fetch(f"http://127.0.0.1:{first.port}/oai") == b"second"
    assert len(second.requests) == 1


def test_a_redirect_to_another_scheme_is_refused(serve: Callable[..., Server]) -> None:
    server = serve(answer=redirect_to("file:///etc/passwd"))

    with pytest.raises(OutboundRefused, match="redirected to file:///etc/passwd"):
        fetch(f"http://127.0.0.1:{server.port}/")


def test_redirects_are_followed_at_most_five_times(serve: Callable[..., Server]) -> None:
    def onwards(path: str) -> tuple[int, dict[str, str], bytes]:
        step = int(path.strip("/") or 0)
        return redirect_to(f"/{step + 1}")(path) if step < 20 else (200, {}, b"end")

    server = serve(answer=onwards)

    with pytest.raises(urllib.error.HTTPError) as error:
        fetch(f"http://127.0.0.1:{server.port}/")
    assert error.value.code == 302
    assert [path for path, _ in server.requests] == ["/", "/1", "/2", "/3", "/4", "/5"]


def test_the_form_validator_refuses_at_once_and_lets_unknown_names_through() -> None:
    with NOTHING_ALLOWED:
        with pytest.raises(ValidationError, match="link-local"):
            outbound.validate_url("http://169.254.169.254/oai")
        outbound.validate_url("https://no-such-host.invalid/oai")  # may resolve tomorrow
