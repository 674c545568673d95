"""The rules a new library starts with (amounts in so'm). Librarians change them later.

Segment rules name the standard loan type, so that the short-loan rule (any reader) still
wins for short-loan copies under the matching order (segment beats loan type). Reference
copies are never lent, so they need no rule.
"""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    # segment, loan type, period, unit, max items, renewals, renewal period, fine/day, max fine, grace
    ("any", "any", 14, "days", 5, 1, 14, "500", "10000", 1),
    ("student", "standard", 14, "days", 10, 3, 14, "1000", "30000", 1),
    ("pupil", "standard", 7, "days", 3, 1, 7, "500", "10000", 2),
    ("researcher", "standard", 30, "days", 20, 2, 30, "1000", "50000", 1),
    ("teacher", "standard", 30, "days", 20, 2, 30, "1000", "50000", 1),
    ("any", "short_loan", 3, "hours", 2, 1, 3, "5000", "50000", 0),
]


def add_defaults(apps, schema_editor):
    LoanRule = apps.get_model("circulation", "LoanRule")
    for segment, loan_type, period, unit, items, renewals, renewal, fine, cap, grace in DEFAULTS:
        LoanRule.objects.get_or_create(
            segment=segment,
            loan_type=loan_type,
            branch=None,
            defaults={
                "loan_period": period,
                "period_unit": unit,
                "max_items": items,
                "renewals_allowed": renewals,
                "renewal_period": renewal,
                "renew_overdue_days": 7,
                "holds_allowed": True,
                "fine_per_day": Decimal(fine),
                "max_fine": Decimal(cap),
                "grace_days": grace,
            },
        )


def remove_defaults(apps, schema_editor):
    LoanRule = apps.get_model("circulation", "LoanRule")
    for segment, loan_type, *_rest in DEFAULTS:
        LoanRule.objects.filter(segment=segment, loan_type=loan_type, branch=None).delete()


class Migration(migrations.Migration):
    dependencies = [("circulation", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
