from django.apps import AppConfig
from django.db.models.signals import post_migrate
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
