"""Forms of the lending desk. They validate input; the services decide and refuse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kitobxon.catalogue.models import Branch, LoanType
from kitobxon.circulation import errors
from kitobxon.circulation.models import LoanRule, OpeningHours


class ScanForm(forms.Form):
    """One scan at the desk: a library card number or an item barcode (typed or scanned)."""

    code = forms.CharField(
        label=_("Barcode"),
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "inputmode": "numeric",
                "enterkeyhint": "go",
            }
        ),
    )

    def clean_code(self) -> str:
        return "".join(str(self.cleaned_data["code"]).split())


class DeskBranchForm(forms.Form):
    branch = forms.ModelChoiceField(
        label=_("Desk branch"), queryset=Branch.objects.all(), empty_label=None
    )


class ReaderSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Card number, name or e-mail"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "type": "search"}),
    )


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (so'm)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class WaiveForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (so'm)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class BlockForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
    until = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: until a librarian lifts the block."),
    )


class DamageForm(forms.Form):
    note = forms.CharField(label=_("What is damaged"), max_length=250)
    amount = forms.DecimalField(
        label=_("Charge (so'm)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Charged to the reader who has the copy on loan."),
    )


class LoanTypeForm(forms.Form):
    loan_type = forms.ChoiceField(label=_("Loan type"), choices=LoanType.choices)


class LoanRuleForm(forms.ModelForm):
    """One cell of the rules matrix; ``services.save_rule`` saves it."""

    class Meta:
        model = LoanRule
        fields = [
            "segment",
            "loan_type",
            "branch",
            "loan_period",
            "period_unit",
            "max_items",
            "renewals_allowed",
            "renewal_period",
            "renew_overdue_days",
            "holds_allowed",
            "fine_per_day",
            "max_fine",
            "grace_days",
        ]

    def clean_loan_period(self) -> int:
        period = int(self.cleaned_data["loan_period"])
        if period < 1:
            raise forms.ValidationError(_("The loan period must be at least 1."))
        return period

    def clean(self) -> dict[str, Any]:
        """One rule per cell: said here as the service's sentence, so that the database
        constraints are not reported in their own words (the service still refuses a race)."""
        data = super().clean() or {}
        if "segment" in data and "loan_type" in data:
            taken = LoanRule.objects.filter(
                segment=data["segment"], loan_type=data["loan_type"], branch=data.get("branch")
            ).exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error("segment", str(errors.RuleExists.default_message))
        return data


class OpeningHoursForm(forms.Form):
    """A branch's hours on one weekday; both empty closes the branch that day."""

    weekday = forms.TypedChoiceField(
        label=_("Weekday"),
        choices=OpeningHours.Weekday.choices,
        coerce=int,
        widget=forms.HiddenInput,
    )
    opens = forms.TimeField(
        label=_("Opens"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes = forms.TimeField(
        label=_("Closes"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("opens") is None) != (data.get("closes") is None):
            raise forms.ValidationError(
                _("Give both the opening and the closing time, or neither to close that day.")
            )
        return data


class ClosureDayForm(forms.Form):
    """Adding a day already closed updates its reason (``services.add_closure_day``)."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200)
    branch = forms.ModelChoiceField(
        label=_("Branch"),
        queryset=Branch.objects.all(),
        required=False,
        empty_label=_("Every branch"),
    )
