"""What each role may do in the back office, kept in step with the database after migrate.

Apps declare the permissions librarians need with ``grant`` in their AppConfig.ready();
``sync_role_groups`` (run after every migrate) makes the groups say exactly that.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from kitobxon.accounts.models import Role

_grants: dict[Role, set[str]] = {
    Role.PATRON: set(),
    Role.LIBRARIAN: {
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "core.view_auditevent",
        # Librarians lift sign-in lockouts for readers at the desk.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    },
    Role.ADMIN: set(),  # administrators are superusers: every permission
}


def grant(role: Role, *permissions: str) -> None:
    """Let ``role`` hold ``permissions`` ("app_label.codename")."""
    _grants[role].update(permissions)


def granted(role: Role) -> frozenset[str]:
    return frozenset(_grants[role])


def sync_role_groups(**kwargs: Any) -> None:
    # post_migrate reaches apps one by one; make every app's permissions exist first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, names in _grants.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for name in sorted(names):
            app_label, codename = name.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
