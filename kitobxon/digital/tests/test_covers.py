"""A record's cover is its first file's thumbnail for a viewer who may open that file; anyone
else gets the drawn cover, on the page and in og:image alike."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from kitobxon.accounts.models import Role, User
from kitobxon.digital import samples
from kitobxon.digital.models import Access
from kitobxon.digital.tests.factories import attach, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


def covers(client: Client, record_id: int) -> tuple[str, str]:
    """The record page's cover image and its og:image."""
    html = client.get(f"/records/{record_id}/").content.decode()
    [img] = re.findall(r'<img class="cover" src="([^"]+)"', html)
    [og] = re.findall(r'<meta property="og:image" content="([^"]+)"', html)
    return img, og


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_open_file_s_thumbnail_is_everyone_s_cover_and_the_og_image(
    django_capture_on_commit_callbacks,
) -> None:
    target = record()
    with django_capture_on_commit_callbacks(execute=True):
        first = attach(target, samples.pdf(["Muqova"]), access=Access.OPEN)
        attach(target, samples.pdf(["Ikkinchi"]), name="second.pdf", access=Access.OPEN)
    thumbnail = f"/digital/files/{first.pk}/thumbnail"
    img, og = covers(Client(), target.pk)
    assert img == thumbnail
    assert og == f"http://testserver{thumbnail}"
    response = Client().get(img)
    assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")


def test_a_viewer_who_may_not_open_the_file_gets_the_drawn_cover(
    make_user, django_capture_on_commit_callbacks
) -> None:
    target = record()
    with django_capture_on_commit_callbacks(execute=True):
        registered = attach(target, samples.pdf(["Aʼzolar"]), access=Access.REGISTERED)
        attach(target, samples.pdf(["Ichki"]), name="staff.pdf", access=Access.LIBRARIANS)
    drawn = f"/records/{target.pk}/cover.svg"
    assert covers(Client(), target.pk) == (drawn, f"http://testserver{drawn}")
    assert Client().get(drawn)["Content-Type"] == "image/svg+xml"
    reader = signed_in(make_user(Role.PATRON))
    assert covers(reader, target.pk)[0] == f"/digital/files/{registered.pk}/thumbnail"


def test_the_cover_skips_a_file_the_viewer_may_not_open_for_one_they_may(
    make_user, django_capture_on_commit_callbacks
) -> None:
    target = record()
    with django_capture_on_commit_callbacks(execute=True):
        attach(target, samples.pdf(["Litsenziya"]), access=Access.LICENSED)
        open_file = attach(target, samples.pdf(["Ochiq"]), name="open.pdf", access=Access.OPEN)
    assert covers(Client(), target.pk)[0] == f"/digital/files/{open_file.pk}/thumbnail"


def test_a_record_whose_files_have_no_thumbnail_keeps_the_drawn_cover() -> None:
    target = record()
    attach(target, access=Access.OPEN)  # extraction has not run: no thumbnail yet
    assert covers(Client(), target.pk)[0] == f"/records/{target.pk}/cover.svg"
