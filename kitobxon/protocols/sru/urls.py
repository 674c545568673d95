"""SRU 2.0 with CQL at /sru, and the copy-cataloguing client."""

from django.urls import URLPattern, path

from kitobxon.protocols.sru import copy, views

urlpatterns: list[URLPattern] = [
    path("sru", views.sru, name="sru"),
    path("cataloguing/copy/", copy.copy_cataloguing, name="sru-copy"),
]
