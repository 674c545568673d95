"""The back office shows harvest sources and runs read-only; the harvest page changes them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kitobxon.protocols.models import HarvestRun, HarvestSource


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(HarvestSource)
class HarvestSourceAdmin(_ReadOnly):
    list_display = ("name", "base_url", "metadata_prefix", "set_spec", "schedule", "last_status")
    list_filter = ("schedule", "active", "last_status")


@admin.register(HarvestRun)
class HarvestRunAdmin(_ReadOnly):
    list_display = ("source", "started_at", "status", "harvested", "updated", "deleted", "rejected")
    list_filter = ("status",)
