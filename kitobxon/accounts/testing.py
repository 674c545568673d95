"""Fixtures for apps whose tests read sentences in English unless a test chooses another language:
refusals through an active language, pages through the language cookie (as a browser sends it),
readers whose own language is English. A conftest imports them to switch them on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from kitobxon.accounts.models import User


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    # A request ends by going back to the default language, so English is the default too.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def client() -> Client:
    """pytest-django's client, reading pages in English."""
    english = Client()
    english.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return english


@pytest.fixture
def patron_client(patron: User) -> Client:
    english = Client()
    english.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    english.force_login(patron)
    return english


@pytest.fixture
def make_user(make_user: Callable[..., User]) -> Callable[..., User]:
    """The project's reader factory, with English as the readers' own language by default."""

    def make(*args: Any, language: str = "en", **kwargs: Any) -> User:
        return make_user(*args, language=language, **kwargs)

    return make
