"""Who may find which accounts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser

from kitobxon.accounts import services
from kitobxon.accounts.models import User
from kitobxon.accounts.queries import readable_users

pytestmark = pytest.mark.django_db


def test_a_reader_finds_only_themselves_and_a_visitor_nobody(
    make_user: Callable[..., User], patron: User
) -> None:
    other = make_user(email="boshqa@example.uz")
    assert list(readable_users(patron)) == [patron]
    assert other not in readable_users(patron)
    assert not readable_users(AnonymousUser()).exists()


def test_librarians_find_every_reader_but_not_erased_accounts(
    make_user: Callable[..., User], librarian: User, patron: User
) -> None:
    gone = make_user(email="ketgan@example.uz")
    services.delete_account(gone, password=None, by=librarian)
    found = set(readable_users(librarian))
    assert {librarian, patron} <= found
    assert gone not in found
