"""Digital library: files, extraction, access policies, digital loans, readers, watermarks."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitalConfig(AppConfig):
    name = "kitobxon.digital"
    label = "digital"
    verbose_name = _("Digital library")

    def ready(self) -> None:
        from kitobxon.accounts import privacy
        from kitobxon.accounts.models import Role
        from kitobxon.accounts.roles import grant
        from kitobxon.catalogue import search as catalogue_search
        from kitobxon.catalogue.covers import register_cover_source
        from kitobxon.catalogue.panels import register_record_panel
        from kitobxon.digital import loan_tasks, search, tasks
        from kitobxon.digital.privacy import SECTION
        from kitobxon.digital.views.files import record_cover
        from kitobxon.digital.views.panel import record_panel
        from kitobxon.search import registry

        grant(Role.LIBRARIAN, "digital.manage_digital")
        privacy.register(SECTION)
        catalogue_search.extend_documents(search.extend)
        registry.register_facet_names({"access": registry.each_value(search.access_label)})
        register_record_panel(record_panel)
        register_cover_source(record_cover)
        # The jobs register with the queue when their modules are imported.
        assert loan_tasks and tasks
