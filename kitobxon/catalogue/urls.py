from django.urls import path

from kitobxon.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("records/", views.record_list, name="records"),
    path("records/<int:record_id>/", views.record_detail, name="record"),
    path("records/<int:record_id>/cover.svg", views.record_cover, name="cover"),
    path("records/<int:record_id>/export/<str:format>/", views.record_export, name="export"),
    path("cataloguing/records/new/", views.record_create, name="record_create"),
    path("cataloguing/records/<int:record_id>/edit/", views.record_edit, name="record_edit"),
    path("cataloguing/records/<int:record_id>/marc/", views.record_marc, name="record_marc"),
    path("cataloguing/records/<int:record_id>/items/new/", views.item_create, name="item_create"),
    path("cataloguing/items/<int:item_id>/", views.item_detail, name="item"),
    path("cataloguing/labels/", views.labels, name="labels"),
    path("cataloguing/collections/", views.collection_list, name="collections"),
    path("cataloguing/collections/new/", views.collection_create, name="collection_create"),
    path(
        "cataloguing/collections/<int:collection_id>/edit/",
        views.collection_edit,
        name="collection_edit",
    ),
    path(
        "cataloguing/collections/<int:collection_id>/delete/",
        views.collection_delete,
        name="collection_delete",
    ),
    path("cataloguing/imports/", views.import_list, name="imports"),
    path("cataloguing/imports/<int:job_id>/", views.import_detail, name="import_detail"),
    path("cataloguing/imports/<int:job_id>/rejects/", views.import_rejects, name="import_rejects"),
]
