from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kitobxon.accounts.models import User

HTML_LANG = {"uz": "uz-Latn", "uz-cyrl": "uz-Cyrl", "kaa": "kaa-Latn", "ru": "ru", "en": "en"}


def _translated(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.mark.django_db
def test_the_home_page_speaks_uzbek_to_a_new_visitor(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="uz-Latn">' in html
    assert response["Content-Language"] == "uz"
    skip = _translated("uz", "Skip to content")
    assert skip != "Skip to content" and skip in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_the_language_switch_reaches_every_interface_language(
    client: Client, language: str
) -> None:
    response = client.post(
        reverse("accounts:set_language"), {"language": language, "next": "/accounts/login/"}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    page = client.get("/accounts/login/")
    html = page.content.decode()
    assert f'<html lang="{HTML_LANG[language]}">' in html
    heading = _translated(language, "Forgot your password?")
    assert heading in html
    if language != "en":
        assert heading != "Forgot your password?"


@pytest.mark.django_db
def test_switching_language_keeps_it_as_the_readers_preference(
    patron_client: Client, patron: User
) -> None:
    patron_client.post(reverse("accounts:set_language"), {"language": "uz-cyrl", "next": "/"})
    patron.refresh_from_db()
    assert patron.preferred_language == "uz-cyrl"


@pytest.mark.django_db
def test_the_language_switch_refuses_to_redirect_elsewhere(client: Client) -> None:
    response = client.post(
        reverse("accounts:set_language"), {"language": "ru", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_a_missing_page_is_explained_in_the_readers_language(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert _translated("ru", "Page not found") in html
    assert re.search("[А-Яа-я]", _translated("ru", "Page not found"))


@pytest.mark.django_db
def test_a_server_error_page_is_in_the_readers_language(settings) -> None:
    settings.ROOT_URLCONF = "tests.failing_urls"
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "kaa"
    response = client.get("/boom/")
    assert response.status_code == 500
    assert _translated("kaa", "Something went wrong") in response.content.decode()
    assert _translated("kaa", "Something went wrong") != "Something went wrong"


@pytest.mark.django_db
def test_a_forged_form_is_refused_with_an_explanation(patron: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(patron)
    response = client.post(reverse("accounts:profile"), {"full_name": "X"})
    assert response.status_code == 403
    assert _translated("uz", "The form has expired") in response.content.decode()


@pytest.mark.django_db
def test_every_form_field_has_a_label(client: Client) -> None:
    for url in ("/", reverse("accounts:login"), reverse("accounts:register")):
        html = client.get(url).content.decode()
        ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html)
        assert ids, url
        for field_id in ids:
            assert f'for="{field_id}"' in html, (url, field_id)


@pytest.mark.django_db
def test_user_text_is_escaped(patron_client: Client, patron: User) -> None:
    User.objects.filter(pk=patron.pk).update(full_name="<script>alert(1)</script> Ali")
    html = patron_client.get(reverse("accounts:profile")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
