"""The byte server sends exactly the bytes asked for, with the headers that keep them safe."""

from __future__ import annotations

import os
import resource
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory
from django.utils.translation import gettext as _

from kitobxon.accounts.models import User
from kitobxon.digital import delivery, samples
from kitobxon.digital.models import Access, DigitalFile
from kitobxon.digital.services import access
from kitobxon.digital.tests import factories

#: A real WebM followed by filler: larger than three 256 KB chunks, so spans cross chunk edges.
FILLER = 900_000


@pytest.fixture(autouse=True)
def _fresh_grants(settings: Any) -> None:
    """Each test its own cache: "granted today" keys name the file and reader ids, which a
    rolled-back SQLite database hands out again (clearing a shared Redis would hit others)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"grants-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture(scope="module")
def video_bytes() -> bytes:
    return samples.video("webm") + os.urandom(FILLER)


@pytest.fixture
def video(db: None, video_bytes: bytes) -> DigitalFile:
    return factories.attach(data=video_bytes, name="Kino kechasi.webm", access=Access.REGISTERED)


def link_for(user: Any, file: DigitalFile, purpose: str = "view") -> str:
    request = RequestFactory().get("/")
    request.user = user
    return access.open_file(request, file, purpose=purpose)


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


@pytest.fixture
def fetch(patron: User, patron_client: Client, video: DigitalFile) -> Callable[..., Any]:
    url = link_for(patron, video)

    def get(method: str = "get", **headers: str) -> Any:
        return getattr(patron_client, method)(url, headers=headers)

    return get


def test_the_whole_file_is_sent_with_its_validators_and_safe_headers(
    fetch: Callable[..., Any], video: DigitalFile, video_bytes: bytes
) -> None:
    response = fetch()
    assert response.status_code == 200
    assert body(response) == video_bytes
    assert response["Content-Length"] == str(len(video_bytes))
    assert response["Content-Type"] == "video/webm"
    assert response["ETag"] == f'"{video.sha256}"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"].startswith("private, max-age=")
    assert "public" not in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline;")
    assert "Kino kechasi.webm" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=262140-262150", 262140, 262150),  # across the first chunk edge
        ("bytes=100-700000", 100, 700000),  # three chunks
        ("bytes=500000-", 500000, None),
        ("bytes=-1", -1, None),
        ("bytes=-300000", -300000, None),
        ("bytes=-99999999", 0, None),  # longer than the file: all of it
        ("bytes=10-99999999", 10, None),  # the end is clipped
        ("BYTES = 5-9", 5, 9),  # the unit is case-insensitive, whitespace optional
    ],
)
def test_a_single_range_sends_exactly_those_bytes(
    fetch: Callable[..., Any], video_bytes: bytes, header: str, start: int, end: int | None
) -> None:
    size = len(video_bytes)
    first = start if start >= 0 else size + start
    last = size - 1 if end is None else end
    response = fetch(Range=header)
    assert response.status_code == 206
    assert body(response) == video_bytes[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert response["Content-Length"] == str(last - first + 1)


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0", "bytes=999999999-1000000000"])
def test_an_unsatisfiable_range_is_416_with_the_size(
    fetch: Callable[..., Any], video_bytes: bytes, header: str
) -> None:
    response = fetch(Range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(video_bytes)}"


def test_several_ranges_at_once_are_refused_with_a_reason(
    fetch: Callable[..., Any], video_bytes: bytes
) -> None:
    response = fetch(Range="bytes=0-1,5-9")
    assert response.status_code == 416
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Range"] == f"bytes */{len(video_bytes)}"
    assert _("Only one byte range may be requested at a time.") in response.content.decode()


@pytest.mark.parametrize(
    "header",
    ["bytes=9-5", "bytes=abc", "bytes=-", "items=0-5", "bytes 0-5", "bytes=0-5-7", "bytes="],
)
def test_a_malformed_range_is_ignored_and_everything_sent(
    fetch: Callable[..., Any], video_bytes: bytes, header: str
) -> None:
    response = fetch(Range=header)
    assert response.status_code == 200
    assert body(response) == video_bytes


def test_head_answers_the_headers_without_the_bytes(
    fetch: Callable[..., Any], video_bytes: bytes
) -> None:
    whole = fetch("head")
    assert whole.status_code == 200
    assert whole.content == b""
    assert whole["Content-Length"] == str(len(video_bytes))
    part = fetch("head", Range="bytes=10-19")
    assert part.status_code == 206
    assert part.content == b""
    assert part["Content-Range"] == f"bytes 10-19/{len(video_bytes)}"
    assert part["Content-Length"] == "10"


def test_other_methods_are_not_allowed(
    patron: User, patron_client: Client, video: DigitalFile
) -> None:
    assert patron_client.post(link_for(patron, video)).status_code == 405


def test_if_none_match_with_the_etag_is_304(fetch: Callable[..., Any], video: DigitalFile) -> None:
    tag = f'"{video.sha256}"'
    assert fetch(If_None_Match=tag).status_code == 304
    assert fetch(If_None_Match=f'"other", W/{tag}').status_code == 304
    assert fetch(If_None_Match="*").status_code == 304
    assert fetch(If_None_Match='"other"').status_code == 200


def test_if_range_keeps_the_range_only_while_the_etag_matches(
    fetch: Callable[..., Any], video: DigitalFile, video_bytes: bytes
) -> None:
    same = fetch(Range="bytes=0-9", If_Range=f'"{video.sha256}"')
    assert same.status_code == 206
    assert body(same) == video_bytes[:10]
    changed = fetch(Range="bytes=0-9", If_Range='"0000"')
    assert changed.status_code == 200
    assert body(changed) == video_bytes
    dated = fetch(Range="bytes=0-9", If_Range="Wed, 21 Oct 2015 07:28:00 GMT")
    assert dated.status_code == 200


def test_a_download_link_sends_the_file_as_an_attachment(
    patron: User, patron_client: Client, video_bytes: bytes
) -> None:
    file = factories.attach(
        data=video_bytes, name="film.webm", access=Access.OPEN, downloadable=True
    )
    response = patron_client.get(link_for(patron, file, "download"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert body(response) == video_bytes


def test_the_storage_path_never_appears_in_any_response(
    settings: Any, patron: User, patron_client: Client, video: DigitalFile
) -> None:
    url = link_for(patron, video)
    assert video.name not in url
    responses = [
        patron_client.get(url),
        patron_client.get(url, headers={"Range": "bytes=0-99"}),
        patron_client.get(url, headers={"Range": "bytes=0-1,3-4"}),
        patron_client.head(url),
        patron_client.get(url, headers={"If-None-Match": f'"{video.sha256}"'}),
    ]
    folder = video.name.rsplit("/", 1)[0]
    for response in responses:
        text = "\n".join(f"{k}: {v}" for k, v in response.items())
        if not response.streaming:
            text += response.content.decode("latin-1")
        assert folder not in text
        assert str(settings.MEDIA_ROOT) not in text


@pytest.mark.parametrize(
    ("mode", "header"), [("x-accel-redirect", "X-Accel-Redirect"), ("x-sendfile", "X-Sendfile")]
)
def test_behind_a_web_server_the_bytes_are_handed_over_after_the_check(
    settings: Any,
    patron: User,
    patron_client: Client,
    make_user: Callable[..., User],
    video: DigitalFile,
    mode: str,
    header: str,
) -> None:
    settings.DIGITAL_SENDFILE = mode
    settings.DIGITAL_SENDFILE_PREFIX = "/protected-files/"
    url = link_for(patron, video)
    response = patron_client.get(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200
    assert response.content == b""
    expected = {
        "x-accel-redirect": f"/protected-files/{video.name}",
        "x-sendfile": default_storage.path(video.name),
    }[mode]
    assert response[header] == expected
    assert response["Content-Type"] == "video/webm"
    assert response["Content-Security-Policy"] == "sandbox"
    # The check still comes first: another reader's client gets no hand-over.
    stranger = Client()
    stranger.force_login(make_user())
    refused = stranger.get(url)
    assert refused.status_code == 403
    assert not refused.has_header(header)


def _rss_kb() -> int:
    for line in open("/proc/self/status").read().splitlines():  # noqa: SIM115
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_a_1_gb_file_streams_in_flat_memory(
    settings: Any, librarian: User, video: DigitalFile
) -> None:
    gigabyte = 1024**3
    name = "files/gb/one-gigabyte.webm"
    path = default_storage.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as sparse:  # a sparse file: no disk space, zeros when read
        sparse.write(samples.video("webm"))
        sparse.truncate(gigabyte)
    # Bytes placed in storage by hand (attaching 1 GB would spool and hash it): only the row's
    # name and size differ from the uploaded video.
    DigitalFile.objects.filter(pk=video.pk).update(name=name, size=gigabyte)
    video.refresh_from_db()
    client = Client()
    client.force_login(librarian)
    try:
        response: Any = client.get(link_for(librarian, video))
        assert response.status_code == 200
        assert response["Content-Length"] == str(gigabyte)
        rss_before = _rss_kb()
        tracemalloc.start()
        sent = 0
        for chunk in response.streaming_content:
            sent += len(chunk)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        response.close()
        rss_growth_mb = (_rss_kb() - rss_before) / 1024
    finally:
        os.remove(path)
    assert sent == gigabyte
    assert peak < 4 * 1024 * 1024, f"peak Python allocation {peak} bytes"
    assert rss_growth_mb < 32, f"RSS grew by {rss_growth_mb:.1f} MB"


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("", 10, None),
        ("bytes=0-4", 10, delivery.Span(0, 4)),
        ("bytes=-3", 10, delivery.Span(7, 9)),
        ("bytes=4-", 10, delivery.Span(4, 9)),
        ("bytes=0-4,", 10, delivery.Span(0, 4)),  # an empty list element is no second range
        ("bytes=-3", 0, None),  # nothing to cut from an empty file
        ("bytes=0-" + "9" * 25, 10, None),  # not a position in any file we hold
    ],
)
def test_requested_span_reads_rfc_9110_ranges(
    header: str, size: int, expected: delivery.Span | None
) -> None:
    assert delivery.requested_span(header, size) == expected


def test_requested_span_refuses_ranges_past_the_end_and_several_ranges() -> None:
    for header in ("bytes=10-", "bytes=-0", "bytes=0-1, 3-4", "bytes=0-0,-1"):
        with pytest.raises(delivery.RangeRefused):
            delivery.requested_span(header, 10)


def test_an_upload_name_with_control_characters_still_makes_a_safe_header(
    patron: User, patron_client: Client, video_bytes: bytes
) -> None:
    file = factories.attach(data=video_bytes, name="Oʻtkan\r\nkunlar «1».webm")
    response = patron_client.get(link_for(patron, file), headers={"Range": "bytes=0-0"})
    assert response.status_code == 206
    disposition = response["Content-Disposition"]
    assert "\n" not in disposition and "\r" not in disposition
    assert disposition.startswith("inline; filename*=utf-8''")
