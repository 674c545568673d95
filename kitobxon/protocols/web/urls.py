from django.urls import URLPattern, path

from kitobxon.protocols.web import views

urlpatterns: list[URLPattern] = [path("unapi", views.unapi, name="unapi")]
