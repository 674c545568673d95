"""Forms of the librarian's file pages: upload, who may open a file, the licence."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kitobxon.accounts.models import Segment
from kitobxon.digital.models import Access, DigitalFile

DATE = forms.DateInput(attrs={"type": "date"})


class SegmentsField(forms.MultipleChoiceField):
    """Reader segments, refused with every unknown one named at once."""

    def validate(self, value: Any) -> None:
        unknown = sorted(set(value) - set(Segment.values))
        if unknown:
            raise ValidationError(
                _("Unknown reader segment: %(segments)s"),
                code="invalid_choice",
                params={"segments": ", ".join(unknown)},
            )
        super().validate(value)


class PolicyFields(forms.Form):
    """Who may open a file: the rules of the librarian's page and of the files API alike."""

    access = forms.ChoiceField(
        label=_("Who may open it"),
        choices=Access.choices,
        error_messages={"invalid_choice": _("Unknown access policy.")},
    )
    segments = SegmentsField(
        label=_("Reader segments"),
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only for “Chosen reader segments”."),
    )
    embargo_until = forms.DateField(
        label=_("Embargoed until"),
        required=False,
        widget=DATE,
        help_text=_("Until this day only librarians may open the file."),
    )
    downloadable = forms.BooleanField(
        label=_("Readers may download a copy (PDFs are watermarked for each reader)"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Segments refused already (absent from the data) are not also missing.
        if data.get("access") == Access.SEGMENTS and data.get("segments") == []:
            self.add_error("segments", _("Choose at least one reader segment."))
        return data


class UploadForm(PolicyFields):
    upload = forms.FileField(label=_("File"))
    label = forms.CharField(label=_("Label"), max_length=300, required=False)
    caption_for = forms.TypedChoiceField(
        label=_("Captions for"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("For a WebVTT captions file: the video or audio it belongs to."),
    )
    caption_language = forms.CharField(label=_("Captions language"), max_length=16, required=False)
    field_order = ["upload", "label", "access", "segments", "embargo_until", "downloadable"]

    def __init__(self, *args: Any, media: list[DigitalFile] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.media_files = {f.pk: f for f in media or []}
        self.fields["caption_for"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (f.pk, str(f)) for f in self.media_files.values()
        ]


class FileForm(PolicyFields):
    label = forms.CharField(label=_("Label"), max_length=300, required=False)
    field_order = ["label", "access", "segments", "embargo_until", "downloadable"]


class LicenceForm(forms.Form):
    copies = forms.IntegerField(label=_("Concurrent loans"), min_value=1, max_value=100_000)
    loan_days = forms.IntegerField(label=_("Loan period in days"), min_value=1, max_value=365)
    valid_until = forms.DateField(label=_("Licence valid until"), required=False, widget=DATE)
    supplier = forms.CharField(label=_("Supplier"), max_length=200, required=False)
