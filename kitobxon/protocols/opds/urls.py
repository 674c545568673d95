"""OPDS 1.2 (Atom) and 2.0 (JSON) catalogues at /opds/, with borrowing for reading apps."""

from django.urls import URLPattern, path

from kitobxon.protocols.opds import loans, views

urlpatterns: list[URLPattern] = [
    path("opds/", views.root, name="opds-root"),
    path("opds/opensearch.xml", views.opensearch, name="opds-opensearch"),
    path("opds/authentication", views.authentication, name="opds-authentication"),
    path("opds/search/", views.search, name="opds-search"),
    path("opds/list/<str:segment>/", views.listing, name="opds-list"),
    path("opds/by/<str:segment>/", views.facet, name="opds-facet"),
    path("opds/shelf/", views.shelf, name="opds-shelf"),
    path("opds/borrow/<int:record_id>/", loans.borrow, name="opds-borrow"),
    path("opds/revoke/<int:record_id>/", loans.revoke, name="opds-revoke"),
    path("opds/files/<str:token>/<str:name>", loans.fulfil, name="opds-file"),
    path("opds/open/<int:file_id>/<str:name>", loans.open_access, name="opds-open"),
    path("opds/v2/", views.root2, name="opds2-root"),
    path("opds/v2/search/", views.search2, name="opds2-search"),
    path("opds/v2/list/<str:segment>/", views.listing2, name="opds2-list"),
    path("opds/v2/by/<str:segment>/", views.facet2, name="opds2-facet"),
    path("opds/v2/shelf/", views.shelf2, name="opds2-shelf"),
    path("opds/v2/borrow/<int:record_id>/", loans.borrow2, name="opds2-borrow"),
    path("opds/v2/revoke/<int:record_id>/", loans.revoke2, name="opds2-revoke"),
]
