"""The back office: the rules matrix and the calendar are edited here; loans, holds, money
lines and blocks are shown read-only, since they change only through the services."""

from __future__ import annotations

from django.contrib import admin

from kitobxon.circulation.models import (
    Block,
    Charge,
    ClosureDay,
    Hold,
    Loan,
    LoanRule,
    OpeningHours,
    ReaderPreference,
    Transit,
)


@admin.register(LoanRule)
class LoanRuleAdmin(admin.ModelAdmin):
    list_display = [
        "segment",
        "loan_type",
        "branch",
        "loan_period",
        "period_unit",
        "max_items",
        "renewals_allowed",
        "holds_allowed",
        "fine_per_day",
        "max_fine",
        "grace_days",
    ]
    list_filter = ["segment", "loan_type", "branch"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ["branch", "weekday", "opens", "closes"]
    list_filter = ["branch"]


@admin.register(ClosureDay)
class ClosureDayAdmin(admin.ModelAdmin):
    list_display = ["date", "branch", "reason"]
    list_filter = ["branch"]
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    list_display = ["item", "patron", "state", "loaned_at", "due_at", "renewals", "returned_at"]
    list_filter = ["state", "branch"]
    search_fields = ["item__barcode", "patron__card_number"]
    raw_id_fields = ["item", "patron"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["record", "patron", "state", "pickup_branch", "placed_at", "pickup_by"]
    list_filter = ["state", "pickup_branch"]
    raw_id_fields = ["record", "item", "trapped_item", "patron"]


@admin.register(Transit)
class TransitAdmin(ReadOnlyAdmin):
    list_display = ["item", "from_branch", "to_branch", "sent_at", "received_at"]
    list_filter = ["to_branch"]


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ["patron", "kind", "amount", "note", "created_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["patron__card_number", "note"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["patron", "reason", "created_at", "until", "lifted_at"]


@admin.register(ReaderPreference)
class ReaderPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["patron", "keep_history"]
