from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "kitobxon.catalogue"
    label = "catalogue"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        from kitobxon.accounts.models import Role
        from kitobxon.accounts.roles import grant
        from kitobxon.catalogue.queries import describe_for_ledger
        from kitobxon.catalogue.search import SOURCE
        from kitobxon.ledger import subjects
        from kitobxon.search.registry import register

        register(SOURCE)
        subjects.register("record", describe_for_ledger)

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
