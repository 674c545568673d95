"""Circulation: loan rules, the calendar, loans, renewals, holds and fines."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CirculationConfig(AppConfig):
    name = "kitobxon.circulation"
    label = "circulation"
    verbose_name = _("Circulation")

    def ready(self) -> None:
        from kitobxon.accounts import privacy
        from kitobxon.accounts.models import Role
        from kitobxon.accounts.roles import grant
        from kitobxon.catalogue.panels import register_record_panel
        from kitobxon.circulation import notices, tasks
        from kitobxon.circulation.privacy import SECTION
        from kitobxon.circulation.views.account import hold_panel

        privacy.register(SECTION)
        register_record_panel(hold_panel)
        notices.subscribe(tasks.email_notice)
        grant(
            Role.LIBRARIAN,
            *(f"circulation.view_{model}" for model in ("loan", "hold", "charge", "transit")),
            *(
                f"circulation.{action}_{model}"
                for action in ("view", "add", "change", "delete")
                for model in ("loanrule", "openinghours", "closureday")
            ),
            "circulation.view_block",
            "circulation.add_block",
            "circulation.change_block",
        )
