from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "kitobxon.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from kitobxon.core import health
        from kitobxon.search import registry
        from kitobxon.search.queries import index_health
        from kitobxon.search.views import availability_label

        health.CHECKS["search"] = index_health
        registry.register_facet_names({"availability": registry.each_value(availability_label)})
