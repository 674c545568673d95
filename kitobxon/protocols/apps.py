"""Protocols: OAI-PMH provider and harvester, OPDS, SRU, schema.org and Zotero."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtocolsConfig(AppConfig):
    name = "kitobxon.protocols"
    label = "protocols"
    verbose_name = _("Protocols")

    def ready(self) -> None:
        from kitobxon.catalogue.panels import register_record_panel
        from kitobxon.protocols import tasks
        from kitobxon.protocols.web.views import record_panel, result_extras
        from kitobxon.search.registry import register_hit_extras

        register_record_panel(record_panel)
        register_hit_extras(result_extras)
        # The harvest jobs register with the queue when their module is imported.
        assert tasks
