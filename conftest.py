"""Fixtures shared by every app's tests: readers and staff made through the services."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from django.test import Client

from kitobxon.accounts import services
from kitobxon.accounts.models import Role, Segment, User

PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(
        role: Role = Role.PATRON,
        *,
        email: str | None = None,
        segment: Segment = Segment.STUDENT,
        language: str = "uz",
        password: str = PASSWORD,
    ) -> User:
        n = next(_serial)
        user = User.objects.create_user(
            email or f"reader{n}@example.org",
            password,
            full_name=f"Reader Number{n}",
            segment=segment,
            preferred_language=language,
        )
        return services.set_role(user, role, by=None)

    return make


@pytest.fixture
def patron(make_user: Callable[..., User]) -> User:
    return make_user(Role.PATRON)


@pytest.fixture
def librarian(make_user: Callable[..., User]) -> User:
    return make_user(Role.LIBRARIAN)


@pytest.fixture
def patron_client(patron: User) -> Client:
    client = Client()
    client.force_login(patron)
    return client


@pytest.fixture(autouse=True)
def _own_search_index(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test indexes into its own embedded index (PostgreSQL entries roll back anyway)."""
    settings.SEARCH_INDEX_DIR = tmp_path_factory.mktemp("search")
