from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kitobxon.core import outbound
from kitobxon.protocols.models import HarvestSource


class HarvestSourceForm(forms.ModelForm):
    base_url = forms.URLField(
        label=_("base URL"),
        max_length=500,
        assume_scheme="https",
        validators=[outbound.validate_url],  # a refused address is said at once, not at the run
    )

    class Meta:
        model = HarvestSource
        fields = [
            "name",
            "base_url",
            "metadata_prefix",
            "set_spec",
            "schedule",
            "hour",
            "weekday",
            "active",
        ]
