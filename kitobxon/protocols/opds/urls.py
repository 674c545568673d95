"""OPDS 1.2 (Atom) and 2.0 (JSON) catalogues at /opds/."""

from django.urls import URLPattern, path

from kitobxon.protocols.opds import views

urlpatterns: list[URLPattern] = [
    path("opds/", views.root, name="opds-root"),
    path("opds/opensearch.xml", views.opensearch, name="opds-opensearch"),
    path("opds/search/", views.search, name="opds-search"),
    path("opds/list/<str:segment>/", views.listing, name="opds-list"),
    path("opds/by/<str:segment>/", views.facet, name="opds-facet"),
    path("opds/v2/", views.root2, name="opds2-root"),
    path("opds/v2/search/", views.search2, name="opds2-search"),
    path("opds/v2/list/<str:segment>/", views.listing2, name="opds2-list"),
    path("opds/v2/by/<str:segment>/", views.facet2, name="opds2-facet"),
]
