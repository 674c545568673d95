"""OAI-PMH 2.0 provider at /oai."""

from django.urls import URLPattern, path

from kitobxon.protocols.oai import views

urlpatterns: list[URLPattern] = [path("oai", views.endpoint, name="oai")]
