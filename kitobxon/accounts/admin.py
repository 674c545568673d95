from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from kitobxon.accounts.models import PersonalAccessToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["full_name", "email"]
    list_display = ["full_name", "email", "card_number", "segment", "faculty", "is_active"]
    list_filter = ["segment", "is_active", "is_staff", "groups", "preferred_language"]
    search_fields = ["full_name", "email", "card_number", "faculty"]
    readonly_fields = ["last_login", "date_joined", "email_confirmed_at", "erased_at"]
    fieldsets = (
        (None, {"fields": ("email", "card_number", "password")}),
        (
            _("Reader"),
            {
                "fields": (
                    "full_name",
                    "segment",
                    "faculty",
                    "preferred_language",
                    "card_expires_on",
                )
            },
        ),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (
            _("Dates"),
            {"fields": ("date_joined", "last_login", "email_confirmed_at", "erased_at")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "segment", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ["groups"]


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "expires_at"]
    exclude = ["digest"]
    search_fields = ["name", "prefix", "user__email"]

    def has_add_permission(self, request: object) -> bool:
        return False
