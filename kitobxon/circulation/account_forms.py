"""Forms of the reader's own account pages. They validate input; the services decide."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kitobxon.catalogue.models import Branch


class PlaceHoldForm(forms.Form):
    pickup_branch = forms.ModelChoiceField(
        label=_("Pick up at"), queryset=Branch.objects.all(), empty_label=None
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["pickup_branch"]
        assert isinstance(field, forms.ModelChoiceField)
        # Read the branches once, however often the template draws the select.
        field.choices = [(branch.pk, str(branch)) for branch in Branch.objects.all()]


class SuspendHoldForm(forms.Form):
    until = forms.DateField(
        label=_("Skip me until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "You keep your place in the queue; the copy goes to the next reader meanwhile."
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        tomorrow = timezone.localdate() + timedelta(days=1)
        self.fields["until"].widget.attrs["min"] = tomorrow.isoformat()

    def clean_until(self) -> date:
        until: date = self.cleaned_data["until"]
        if until <= timezone.localdate():
            raise forms.ValidationError(_("Choose a date in the future."))
        return until


class KeepHistoryForm(forms.Form):
    """Opting in needs nothing more; opting out forgets the past, so it asks to confirm."""

    keep = forms.BooleanField(required=False, widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label=_("I understand that the history kept so far will be erased and cannot be restored."),
        required=False,
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not data.get("keep") and not data.get("confirm"):
            self.add_error(
                "confirm", _("Tick the box to confirm that your reading history will be erased.")
            )
        return data
