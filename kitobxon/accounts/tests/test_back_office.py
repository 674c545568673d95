from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kitobxon.accounts import services
from kitobxon.accounts.models import Role, User
from kitobxon.core.models import AuditEvent


@pytest.mark.django_db
def test_a_patron_cannot_open_the_back_office(patron_client: Client) -> None:
    for url in (reverse("admin:index"), reverse("admin:accounts_user_changelist")):
        response = patron_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_a_patron_cannot_sign_in_to_the_back_office(client: Client, patron: User) -> None:
    from conftest import PASSWORD

    response = client.post(
        reverse("admin:login"),
        {"username": patron.email, "password": PASSWORD, "next": reverse("admin:index")},
    )
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_a_librarian_manages_readers_but_not_roles_and_permissions(
    librarian: User, patron: User
) -> None:
    client = Client()
    client.force_login(librarian)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_user_change", args=[patron.pk])).status_code == 200
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_personalaccesstoken_changelist")).status_code == 403


@pytest.mark.django_db
def test_roles_set_back_office_access_and_leave_an_audit_trail(patron: User, make_user) -> None:
    admin = make_user(Role.ADMIN)
    services.set_role(patron, Role.LIBRARIAN, by=admin)
    patron.refresh_from_db()
    assert patron.role == Role.LIBRARIAN and patron.is_staff and not patron.is_superuser
    assert patron.has_perm("accounts.change_user")
    services.set_role(patron, Role.PATRON, by=admin)
    patron = User.objects.get(pk=patron.pk)
    assert patron.role == Role.PATRON and not patron.is_staff
    assert not patron.has_perm("accounts.change_user")
    changes = [
        e.changes["role"]
        for e in AuditEvent.objects.filter(
            action="account.role_changed", object_id=str(patron.pk)
        ).order_by("id")
    ]
    assert changes[-2:] == [["patron", "librarian"], ["librarian", "patron"]]


@pytest.mark.django_db
def test_a_user_s_role_is_read_once_and_follows_their_groups_on_the_same_instance(
    patron: User, make_user
) -> None:
    admin = make_user(Role.ADMIN)
    reader = User.objects.get(pk=patron.pk)
    with CaptureQueriesContext(connection) as reads:
        assert reader.role == Role.PATRON
        assert not reader.is_librarian and not reader.is_librarian
    assert len(reads.captured_queries) == 1  # the groups, once
    assert not reader.has_perm("accounts.view_user")

    services.set_role(reader, Role.LIBRARIAN, by=admin)  # the same instance, changed
    assert reader.role == Role.LIBRARIAN and reader.is_librarian
    assert reader.has_perm("accounts.view_user")  # Django's permission cache forgotten too
    reader.groups.clear()  # as erasing the account does
    assert reader.role == Role.PATRON
    assert not reader.has_perm("accounts.view_user")
    reader.is_superuser = True
    assert reader.role == Role.ADMIN


@pytest.mark.django_db
def test_a_librarian_can_lift_a_readers_sign_in_lockout(librarian: User) -> None:
    assert librarian.has_perm("axes.view_accessattempt")
    assert librarian.has_perm("axes.delete_accessattempt")
    client = Client()
    client.force_login(librarian)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
