"""A URL that fails, to see the 500 page; used by test_pages only."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a deliberate failure")


urlpatterns = [path("boom/", boom), path("", include("config.urls"))]
handler500 = "kitobxon.core.views.server_error"
