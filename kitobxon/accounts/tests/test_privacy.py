from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from kitobxon.accounts import services
from kitobxon.accounts.models import PersonalAccessToken, User
from kitobxon.core.models import AuditEvent


@pytest.mark.django_db
def test_a_reader_downloads_everything_held_about_them(patron_client: Client, patron: User) -> None:
    token, secret = services.create_access_token(patron, name="phone")
    response = patron_client.get(reverse("accounts:export_data"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["profile"]["email"] == patron.email
    assert data["profile"]["card_number"] == patron.card_number
    assert data["access_tokens"][0]["name"] == "phone"
    assert secret not in response.content.decode()
    assert token.digest not in response.content.decode()


@pytest.mark.django_db
def test_the_export_needs_a_signed_in_reader(client: Client) -> None:
    response = client.get(reverse("accounts:export_data"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_deleting_the_account_needs_the_password(patron_client: Client, patron: User) -> None:
    response = patron_client.post(
        reverse("accounts:privacy"), {"password": "wrong", "confirm": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    patron.refresh_from_db()
    assert patron.is_active and patron.erased_at is None


@pytest.mark.django_db
def test_deleting_the_account_erases_personal_data_and_keeps_an_anonymous_row(
    patron_client: Client, patron: User
) -> None:
    services.create_access_token(patron, name="phone")
    email, card = patron.email, patron.card_number
    response = patron_client.post(
        reverse("accounts:privacy"), {"password": PASSWORD, "confirm": "on"}
    )
    assert response.status_code == 302
    erased = User.objects.get(pk=patron.pk)
    assert erased.email is None and erased.full_name == "" and erased.faculty == ""
    assert erased.card_number == f"erased-{patron.pk}"
    assert not erased.is_active and not erased.has_usable_password()
    assert erased.erased_at is not None
    assert not PersonalAccessToken.objects.filter(user=erased).exists()
    assert not User.objects.filter(email=email).exists()
    assert not User.objects.filter(card_number=card).exists()
    event = AuditEvent.objects.get(action="account.erased", object_id=str(patron.pk))
    assert event.actor is None
    assert "_auth_user_id" not in patron_client.session
    relogin = Client().post(reverse("accounts:login"), {"username": email, "password": PASSWORD})
    assert relogin.status_code == 200
