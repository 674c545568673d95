from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kitobxon.accounts import services
from kitobxon.accounts.errors import ConfirmationInvalid
from kitobxon.accounts.models import Role, User, is_valid_card_number

CYRILLIC = re.compile("[А-Яа-яЎўҚқҒғҲҳ]")


Callbacks = Callable[..., AbstractContextManager[list[Callable[[], object]]]]


def _register(client: Client, callbacks: Callbacks, **overrides: str) -> None:
    data = {
        "full_name": "Nodira Azimova",
        "email": "Nodira@Example.org",
        "segment": "student",
        "faculty": "Tarix fakulteti",
        "preferred_language": "uz",
        "password1": "kitob-oqish-2026",
        "password2": "kitob-oqish-2026",
        **overrides,
    }
    with callbacks(execute=True):  # the mail goes out once the account is committed
        response = client.post(reverse("accounts:register"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("accounts:registered")


def _confirmation_link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm/\S+/)", str(message.body))
    assert match, message.body
    return match.group(1)


@pytest.mark.django_db
def test_registration_opens_an_inactive_account_and_mails_a_confirmation_link(
    client: Client, django_capture_on_commit_callbacks: Callbacks
) -> None:
    _register(client, django_capture_on_commit_callbacks)
    user = User.objects.get(email="nodira@example.org")
    assert not user.is_active
    assert user.role == Role.PATRON
    assert is_valid_card_number(user.card_number)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nodira@example.org"]
    assert user.card_number in mail.outbox[0].body

    refused = client.post(
        reverse("accounts:login"),
        {"username": "nodira@example.org", "password": "kitob-oqish-2026"},
    )
    assert refused.status_code == 200
    assert "_auth_user_id" not in client.session

    confirmed = client.get(_confirmation_link(mail.outbox[0]))
    assert confirmed.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.email_confirmed_at is not None


@pytest.mark.django_db
def test_confirmation_mail_speaks_the_readers_language(
    client: Client, django_capture_on_commit_callbacks: Callbacks
) -> None:
    _register(client, django_capture_on_commit_callbacks, preferred_language="ru")
    message = mail.outbox[0]
    assert CYRILLIC.search(str(message.subject)), message.subject
    assert "Confirm your e-mail" not in message.subject


@pytest.mark.django_db
def test_registering_a_known_address_creates_nothing_and_tells_its_owner(
    client: Client, patron: User, django_capture_on_commit_callbacks: Callbacks
) -> None:
    assert patron.email
    _register(client, django_capture_on_commit_callbacks, email=patron.email.upper())
    assert User.objects.filter(email__iexact=patron.email).count() == 1
    assert len(mail.outbox) == 1
    assert reverse("accounts:password_reset") in mail.outbox[0].body
    assert "/accounts/confirm/" not in mail.outbox[0].body


@pytest.mark.django_db
def test_registration_form_reports_mismatched_and_weak_passwords(client: Client) -> None:
    response = client.post(
        reverse("accounts:register"),
        {
            "full_name": "A",
            "email": "a@example.org",
            "segment": "pupil",
            "preferred_language": "uz",
            "password1": "12345678",
            "password2": "12345679",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not User.objects.filter(email="a@example.org").exists()


@pytest.mark.django_db
def test_a_tampered_confirmation_link_is_refused(
    client: Client, django_capture_on_commit_callbacks: Callbacks
) -> None:
    _register(client, django_capture_on_commit_callbacks)
    link = _confirmation_link(mail.outbox[0])
    response = client.get(link[:-3] + "xx/")
    assert response.status_code == 400
    assert not User.objects.get(email="nodira@example.org").is_active


@pytest.mark.django_db
def test_a_confirmation_link_expires_after_three_days(
    patron: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    four_days_ago = time.time() - 4 * 24 * 3600
    monkeypatch.setattr("django.core.signing.time", SimpleNamespace(time=lambda: four_days_ago))
    token = services.confirmation_token(patron)
    monkeypatch.undo()
    with pytest.raises(ConfirmationInvalid):
        services.confirm_email(token)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["kaa", "uz-cyrl", "ru"])
def test_the_password_rules_are_listed_in_the_readers_language(
    client: Client, settings, language: str
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("accounts:register")).content.decode()
    assert "Your password" not in html
    with translation.override(language):
        rule = translation.ngettext(
            "At least %(count)d character.", "At least %(count)d characters.", 10
        ) % {"count": 10}
    assert rule in html and "10" in rule
