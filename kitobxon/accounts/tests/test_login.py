from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client, override_settings
from django.urls import reverse

from conftest import PASSWORD
from kitobxon.accounts.models import User


def _login(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_a_reader_signs_in_with_email_in_any_case(client: Client, patron: User) -> None:
    assert patron.email
    response = _login(client, patron.email.upper())
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == patron.pk


@pytest.mark.django_db
def test_a_reader_signs_in_with_the_library_card_number(client: Client, patron: User) -> None:
    response = _login(client, patron.card_number)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == patron.pk


@pytest.mark.django_db
def test_signing_in_switches_the_interface_to_the_readers_language(
    client: Client, make_user
) -> None:
    reader = make_user(language="kaa")
    response = _login(client, reader.email)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "kaa"
    page = client.get(reverse("accounts:profile"))
    assert page["Content-Language"] == "kaa"


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_message(client: Client, patron: User) -> None:
    response = _login(client, patron.email or "", "not the password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_repeated_failures_lock_the_account_even_against_the_right_password(
    client: Client, patron: User
) -> None:
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, patron.email or "", "guessing")
    response = _login(client, patron.email or "")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_signing_out_needs_a_post(patron_client: Client) -> None:
    assert patron_client.get(reverse("accounts:logout")).status_code == 405
    assert patron_client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in patron_client.session


@pytest.mark.django_db
def test_passwords_are_stored_with_argon2() -> None:
    from config import settings as production

    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        user = User.objects.create_user("argon@example.org", "a long passphrase", full_name="A")
        assert identify_hasher(user.password).algorithm == "argon2"
        assert user.check_password("a long passphrase")
