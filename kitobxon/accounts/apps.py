from typing import Any

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kitobxon.accounts"
    label = "accounts"
    verbose_name = _("Readers and staff")

    def ready(self) -> None:
        from kitobxon.accounts import privacy  # noqa: F401  (registers the account sections)
        from kitobxon.accounts.roles import sync_role_groups

        # Permissions exist only after migrate has run, so the groups follow it.
        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="kitobxon.accounts.roles")
        from kitobxon.accounts.models import User

        m2m_changed.connect(
            _forget_role, sender=User.groups.through, dispatch_uid="kitobxon.accounts.forget_role"
        )


def _forget_role(instance: Any, action: str, **kwargs: Any) -> None:
    """A user whose groups changed through them answers ``role`` afresh."""
    if action.startswith("post_") and hasattr(instance, "forget_role"):
        instance.forget_role()
