from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from config.api import api
from kitobxon.core import views as core_views

admin.site.site_header = _("Kitobxon back office")
admin.site.site_title = _("Kitobxon back office")
admin.site.index_title = _("Library administration")

urlpatterns = [
    # The API and the probes first: their requests need not try every page's pattern.
    path("api/", api.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_views.metrics_view, name="metrics"),
    path("", include("kitobxon.core.urls")),
    path("accounts/", include("kitobxon.accounts.urls")),
    path("", include("kitobxon.catalogue.urls")),
    path("", include("kitobxon.search.urls")),
    path("", include("kitobxon.ledger.urls")),
    path("", include("kitobxon.circulation.urls")),
    path("", include("kitobxon.digital.urls")),
    path("", include("kitobxon.protocols.urls")),
    path("staff/", admin.site.urls),
]

handler400 = "kitobxon.core.views.bad_request"
handler403 = "kitobxon.core.views.permission_denied"
handler404 = "kitobxon.core.views.page_not_found"
handler500 = "kitobxon.core.views.server_error"
