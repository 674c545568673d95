from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kitobxon.accounts import services
from kitobxon.accounts.models import PersonalAccessToken, User


def _me(client: Client, secret: str) -> Any:
    return client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.django_db
def test_a_token_made_on_the_profile_page_is_shown_once_and_opens_the_api(
    patron_client: Client, patron: User
) -> None:
    page = patron_client.post(
        reverse("accounts:create_token"), {"name": "Oʻqish ilovasi", "expires_in_days": "30"}
    )
    assert page.status_code == 200
    secret = re.search(r'value="(kbx_[^"]+)"', page.content.decode()).group(1)  # type: ignore[union-attr]
    token = PersonalAccessToken.objects.get(user=patron)
    assert secret not in token.digest and token.prefix in secret

    response = _me(Client(), secret)
    assert response.status_code == 200
    assert response.json() == {
        "id": patron.pk,
        "email": patron.email,
        "card_number": patron.card_number,
        "full_name": patron.full_name,
        "segment": "student",
        "faculty": "",
        "preferred_language": "uz",
        "role": "patron",
        "card_expires_on": None,
        "date_joined": response.json()["date_joined"],
    }
    token.refresh_from_db()
    assert token.last_used_at is not None
    profile = patron_client.get(reverse("accounts:profile"))
    assert secret not in profile.content.decode()


@pytest.mark.django_db
def test_a_revoked_or_expired_token_is_refused(patron: User) -> None:
    revoked, revoked_secret = services.create_access_token(patron, name="old")
    services.revoke_access_token(revoked, by=patron)
    expired, expired_secret = services.create_access_token(patron, name="short")
    PersonalAccessToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for secret in (revoked_secret, expired_secret, "kbx_not-a-token", "plainly-wrong"):
        response = _me(Client(), secret)
        assert response.status_code == 401
        assert "detail" in response.json()


@pytest.mark.django_db
def test_a_reader_cannot_revoke_another_readers_token(patron_client: Client, make_user) -> None:
    other = make_user()
    token, secret = services.create_access_token(other, name="theirs")
    response = patron_client.post(reverse("accounts:revoke_token", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert _me(Client(), secret).status_code == 200


@pytest.mark.django_db
def test_api_errors_speak_the_callers_language(client: Client) -> None:
    english = client.get("/api/me", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    russian = client.get("/api/me", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").json()["detail"]
    uzbek = client.get("/api/me").json()["detail"]
    assert english == "Sign in, or send a valid personal access token."
    assert re.search("[а-я]", russian) and russian != english
    assert uzbek not in (english, russian)


@pytest.mark.django_db
def test_the_browser_session_opens_the_api(patron_client: Client, patron: User) -> None:
    response = patron_client.get("/api/me")
    assert response.status_code == 200
    assert response.json()["card_number"] == patron.card_number


@pytest.mark.django_db
def test_an_inactive_readers_token_is_refused(patron: User) -> None:
    _token, secret = services.create_access_token(patron, name="app")
    User.objects.filter(pk=patron.pk).update(is_active=False)
    assert _me(Client(), secret).status_code == 401


@pytest.mark.django_db
def test_the_openapi_description_and_docs_are_served(client: Client) -> None:
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/me" in schema.json()["paths"]
    assert client.get("/api/docs").status_code == 200
