from __future__ import annotations

from typing import Any

from django.contrib import admin

from kitobxon.catalogue import services
from kitobxon.catalogue.models import (
    Agent,
    Branch,
    Collection,
    ImportJob,
    Item,
    Record,
    Subject,
    Tombstone,
)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "address"]
    search_fields = ["name", "code"]


class ItemInline(admin.TabularInline):
    model = Item
    extra = 0
    fields = ["barcode", "branch", "call_number", "shelf_location", "status"]
    readonly_fields = ["barcode", "status"]
    show_change_link = True

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False  # copies are added on the cataloguing page, through the services


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    """Read-mostly: records are written through the cataloguing pages and imports."""

    list_display = ["title", "year", "resource_type", "status", "modified_at"]
    list_filter = ["status", "resource_type", "audience"]
    search_fields = ["title", "subtitle", "control_number", "identifiers__normalized"]
    readonly_fields = [f.name for f in Record._meta.fields if f.name != "id"]
    exclude = ["source_data", "subjects", "collections"]
    inlines = [ItemInline]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["barcode", "record", "branch", "call_number", "status"]
    list_filter = ["status", "branch"]
    search_fields = ["barcode", "call_number", "record__title"]
    readonly_fields = [f.name for f in Item._meta.fields if f.name != "id"]

    def has_add_permission(self, request: object) -> bool:
        return False


class AuthorityAdmin(admin.ModelAdmin):
    """Name and subject authorities: edits go through the services and are audited."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        services.save_authority(obj, changed=list(form.changed_data), by=request.user)

    def delete_model(self, request: Any, obj: Any) -> None:
        services.delete_authority(obj, by=request.user)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # records point at authorities; merge them instead (to come)


@admin.register(Agent)
class AgentAdmin(AuthorityAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "key"]
    fields = ["kind", "name", "variants"]


@admin.register(Subject)
class SubjectAdmin(AuthorityAdmin):
    list_display = ["label", "scheme"]
    list_filter = ["scheme"]
    search_fields = ["label", "key"]
    fields = ["scheme", "label", "labels"]


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    """Collections and faculties; edits go through the services (audited, datestamps kept)."""

    list_display = ["name", "kind", "code"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    fields = ["code", "kind", "name", "names", "description"]

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        fields = {
            name: form.cleaned_data[name]
            for name in ("code", "kind", "name", "names", "description")
        }
        if change:
            original = Collection.objects.get(pk=obj.pk)
            services.update_collection(original, by=request.user, **fields)
        else:
            obj.pk = services.create_collection(**fields, by=request.user).pk

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # delete on the cataloguing page, which asks about the records in it


@admin.register(Tombstone)
class TombstoneAdmin(admin.ModelAdmin):
    list_display = ["record_id", "title", "deleted_at", "reason"]
    readonly_fields = ["record_id", "title", "work_key", "deleted_at", "reason"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["file_name", "status", "imported", "updated", "rejected", "created_at"]
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "id"]

    def has_add_permission(self, request: object) -> bool:
        return False
