"""An upload larger than anything the library accepts is refused from its declared length,
before a byte of the body is read or spooled to disk; the refusal says why."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import encode_multipart

from kitobxon.accounts.models import User
from kitobxon.digital import samples
from kitobxon.digital.models import DigitalFile
from kitobxon.digital.tests.factories import record

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BOUNDARY = "kitobxon-upload-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture(autouse=True)
def _small_limit(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.UPLOAD_MAX_MB = 1  # with the form's allowance, bodies over 2 MB are refused


class Body(io.BytesIO):
    """A request body that remembers whether anybody read it."""

    touched = False

    def read(self, *args, **kwargs) -> bytes:
        self.touched = True
        return super().read(*args, **kwargs)

    def readline(self, *args, **kwargs) -> bytes:
        self.touched = True
        return super().readline(*args, **kwargs)


def environ(body: Body) -> Any:
    """The WSGI input the request reads its body from."""
    return {"wsgi.input": body}


def multipart(size: int, **fields: object) -> bytes:
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * size)
    return encode_multipart(BOUNDARY, {"upload": upload, **fields})


def signed_in(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_the_api_refuses_an_oversized_upload_without_reading_it(librarian: User) -> None:
    target = record()
    data = multipart(3 * MB, access="open")
    body = Body(data)
    response = signed_in(librarian).post(
        f"/api/digital/records/{target.pk}/files",
        data,
        content_type=MULTIPART,
        **environ(body),
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "This upload is 3.0 MB; the largest file the library accepts is 1 MB."
    }
    assert not body.touched
    assert not DigitalFile.objects.exists()


def test_the_librarian_page_refuses_an_oversized_upload_with_the_reason(
    librarian: User,
) -> None:
    target = record()
    data = multipart(3 * MB, action="upload", access="open")
    body = Body(data)
    client = signed_in(librarian)
    response = client.post(
        f"/digital/records/{target.pk}/files/",
        data,
        content_type=MULTIPART,
        **environ(body),
    )
    assert response.status_code == 413  # before the CSRF check, which would read the form
    assert not response.has_header("Connection")  # WSGI forbids hop-by-hop headers
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "This upload is 3.0 MB; the largest file the library accepts is 1 MB." in html
    assert not body.touched
    assert not DigitalFile.objects.exists()


def test_an_upload_under_the_limit_is_read_and_stored(librarian: User) -> None:
    target = record()
    client = Client()
    client.force_login(librarian)
    upload = SimpleUploadedFile("kitob.pdf", samples.pdf(["Kichik"]))
    response = client.post(
        f"/api/digital/records/{target.pk}/files", {"upload": upload, "access": "open"}
    )
    assert response.status_code == 201, response.content
    assert DigitalFile.objects.filter(record=target).count() == 1
