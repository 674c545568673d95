"""Files in an S3-compatible store: checked by the app, then sent by the store itself.

moto's server stands in for the store on a free local port; everything else is real: the upload
goes through ``attach_file`` into the bucket, the link through ``open_file``, and the redirect is
followed by urllib, as a browser would, to a presigned URL that the store checks.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.storage import default_storage
from django.test import Client, RequestFactory

from kitobxon.accounts.models import User
from kitobxon.digital import delivery, samples
from kitobxon.digital.models import Access, DigitalFile
from kitobxon.digital.services import access
from kitobxon.digital.tests import factories

KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
#: urllib without any proxy from the environment: the store is on this machine.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def store_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(
    db: None, settings: Any, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    name = f"kitobxon-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=store_url, region_name="us-east-1", **_keys()).create_bucket(
        Bucket=name
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": store_url,
                "region_name": "us-east-1",
                "access_key": KEYS["AWS_ACCESS_KEY_ID"],
                "secret_key": KEYS["AWS_SECRET_ACCESS_KEY"],
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": True,
            },
        },
    }
    yield name


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": KEYS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": KEYS["AWS_SECRET_ACCESS_KEY"],
    }


def link_for(user: User, file: DigitalFile, purpose: str = "view") -> str:
    request = RequestFactory().get("/")
    request.user = user
    return access.open_file(request, file, purpose=purpose)


def fetch(url: str, **headers: str) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our own store's URL)
    with DIRECT.open(request, timeout=30) as answer:
        return answer.status, answer.headers, answer.read()


def lifetime(url: str) -> float:
    """Seconds the presigned URL lives (query signatures v4 or v2)."""
    query = parse_qs(urlsplit(url).query)
    if "X-Amz-Expires" in query:
        return float(query["X-Amz-Expires"][0])
    return float(query["Expires"][0]) - time.time()


@pytest.fixture
def film() -> bytes:
    return samples.video("webm") + os.urandom(300_000)


def test_the_upload_lands_in_the_bucket_under_its_digest(
    bucket: str, store_url: str, film: bytes
) -> None:
    file = factories.attach(data=film, name="film.webm")
    assert default_storage.__class__.__name__ == "S3Storage"
    stored = boto3.client("s3", endpoint_url=store_url, region_name="us-east-1", **_keys())
    body = stored.get_object(Bucket=bucket, Key=file.name)["Body"].read()
    assert body == film


def test_the_app_checks_then_redirects_to_a_short_presigned_url(
    bucket: str, store_url: str, film: bytes, patron: User, patron_client: Client
) -> None:
    file = factories.attach(data=film, name="Kino.webm", access=Access.REGISTERED)
    response = patron_client.get(link_for(patron, file))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{store_url}/{bucket}/{file.name}?")
    assert 0 < lifetime(location) <= delivery.PRESIGNED_SECONDS
    assert response["Cache-Control"] == "private, no-store"

    status, headers, body = fetch(location)
    assert status == 200
    assert body == film
    assert headers["Content-Type"] == "video/webm"
    assert headers["Content-Disposition"].startswith("inline;")
    assert "Kino.webm" in headers["Content-Disposition"]


def test_a_range_goes_through_the_presigned_url(
    bucket: str, film: bytes, patron: User, patron_client: Client
) -> None:
    file = factories.attach(data=film, name="film.webm")
    location = patron_client.get(link_for(patron, file))["Location"]
    status, headers, body = fetch(location, Range="bytes=1000-200999")
    assert status == 206
    assert body == film[1000:201000]
    assert headers["Content-Range"] == f"bytes 1000-200999/{len(film)}"


def test_a_download_link_presigns_an_attachment(
    bucket: str, film: bytes, patron: User, patron_client: Client
) -> None:
    file = factories.attach(data=film, name="film.webm", access=Access.OPEN, downloadable=True)
    location = patron_client.get(link_for(patron, file, "download"))["Location"]
    _status, headers, _body = fetch(location)
    assert headers["Content-Disposition"].startswith("attachment;")


def test_a_refused_reader_gets_no_presigned_url(
    bucket: str, film: bytes, patron: User, make_user: Any
) -> None:
    file = factories.attach(data=film, name="film.webm")
    url = link_for(patron, file)
    stranger = Client()
    stranger.force_login(make_user())
    response = stranger.get(url)
    assert response.status_code == 403
    assert not response.has_header("Location")
    assert bucket not in response.content.decode()


def test_the_bucket_refuses_an_unsigned_request(
    bucket: str, store_url: str, film: bytes, patron: User, patron_client: Client
) -> None:
    file = factories.attach(data=film, name="film.webm")
    location = patron_client.get(link_for(patron, file))["Location"]
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        fetch(location.split("?")[0])
    assert unsigned.value.code == 403


def _directives(header: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.parametrize("kind", ["pdf", "video", "3d"])
def test_reader_pages_allow_the_store_s_origin_for_their_bytes(
    bucket: str, store_url: str, patron_client: Client, kind: str
) -> None:
    data, name = {
        "pdf": (samples.pdf(["Sahifa"]), "kitob.pdf"),
        "video": (samples.video("webm"), "kino.webm"),
        "3d": (samples.glb(), "koza.glb"),
    }[kind]
    file = factories.attach(data=data, name=name, access=Access.OPEN)
    response = patron_client.get(f"/digital/files/{file.pk}/")
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    for directive in ("connect-src", "media-src", "img-src"):
        assert policy[directive][0] == "'self'"
        assert policy[directive][-1] == store_url
    assert store_url not in policy["script-src"]


def test_with_local_storage_reader_pages_allow_only_their_own_origin(
    settings: Any, tmp_path: Any, patron_client: Client
) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    file = factories.attach(access=Access.OPEN)
    header = patron_client.get(f"/digital/files/{file.pk}/")["Content-Security-Policy"]
    policy = _directives(header)
    assert "connect-src" not in policy  # default-src 'self' covers it
    assert policy["img-src"] == ["'self'", "data:"]
