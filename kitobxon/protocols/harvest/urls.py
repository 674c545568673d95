from django.urls import URLPattern, path

from kitobxon.protocols.harvest import views

urlpatterns: list[URLPattern] = [
    path("harvest/", views.source_list, name="harvest"),
    path("harvest/add/", views.source_add, name="harvest-add"),
    path("harvest/<int:source_id>/", views.source_detail, name="harvest-source"),
    path("harvest/<int:source_id>/edit/", views.source_edit, name="harvest-edit"),
    path("harvest/<int:source_id>/run/", views.source_run, name="harvest-run"),
]
