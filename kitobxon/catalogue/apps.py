from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "kitobxon.catalogue"
    label = "catalogue"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        from kitobxon.accounts.models import Role
        from kitobxon.accounts.roles import grant
        from kitobxon.catalogue.search import SOURCE
        from kitobxon.search.registry import register

        register(SOURCE)

        grant(
            Role.LIBRARIAN,
            *(
                f"catalogue.{action}_{model}"
                for action in ("view", "add", "change")
                for model in ("record", "item", "agent", "subject", "branch")
            ),
            "catalogue.view_tombstone",
            "catalogue.view_importjob",
            "catalogue.add_importjob",
            "search.search_everything",
            "search.view_zeroresultquery",
            "ledger.view_ledger_reports",
        )
