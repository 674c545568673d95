from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.models import (
    Audience,
    Branch,
    Collection,
    ContributorRole,
    LoanType,
    RecordStatus,
    ResourceType,
)


def role_words() -> dict[str, str]:
    """Every way a cataloguer may write a role: its code, or its name in any UI language."""
    words = {role.value: role.value for role in ContributorRole}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words.update({str(role.label).lower(): role.value for role in ContributorRole})
    return words


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class CollectionChoiceField(forms.ModelMultipleChoiceField):
    """Collections and faculties, each named in the cataloguer's language, with its kind."""

    def label_from_instance(self, obj: Collection) -> str:
        return f"{obj.local_name} ({obj.get_kind_display()})"


class RecordForm(forms.Form):
    """The cataloguer's form: one screen, the fields in the order of a title page."""

    title = forms.CharField(label=_("Title"), max_length=1000)
    subtitle = forms.CharField(label=_("Subtitle"), required=False)
    parallel_titles = forms.CharField(
        label=_("Parallel titles"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, for example the title in another language or script."),
    )
    responsibility = forms.CharField(label=_("Statement of responsibility"), required=False)
    contributors = forms.CharField(
        label=_("Contributors"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: Surname, Forename | role (author, editor, translator, illustrator, "
            "supervisor, compiler, narrator, director)."
        ),
    )
    publisher = forms.CharField(label=_("Publisher"), max_length=500, required=False)
    place = forms.CharField(label=_("Place of publication"), max_length=300, required=False)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1, max_value=2100)
    edition = forms.CharField(label=_("Edition"), max_length=300, required=False)
    extent = forms.CharField(
        label=_("Extent"), max_length=300, required=False, help_text=_("For example: 384 p.")
    )
    languages = forms.CharField(
        label=_("Languages"),
        required=False,
        help_text=_("ISO 639-2 codes separated by commas: uzb, kaa, rus, eng."),
    )
    resource_type = forms.ChoiceField(label=_("Resource type"), choices=ResourceType.choices)
    audience = forms.ChoiceField(
        label=_("Audience"), choices=Audience.choices, initial=Audience.GENERAL
    )
    subjects = forms.CharField(
        label=_("Subjects"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One subject heading per line."),
    )
    collections = CollectionChoiceField(
        label=_("Collections and faculties"),
        queryset=Collection.objects.order_by("kind", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The faculty whose work this is, and the library's collections it is in."),
    )
    isbn = forms.CharField(
        label=_("ISBN"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line. An invalid ISBN is kept and flagged."),
    )
    issn = forms.CharField(label=_("ISSN"), required=False)
    doi = forms.CharField(label=_("DOI"), required=False)
    udc = forms.CharField(
        label=_("UDC"), required=False, max_length=300, help_text=_("Several: separate with ;")
    )
    bbk = forms.CharField(
        label=_("BBK"), required=False, max_length=300, help_text=_("Several: separate with ;")
    )
    ddc = forms.CharField(
        label=_("DDC"), required=False, max_length=300, help_text=_("Several: separate with ;")
    )
    lcc = forms.CharField(
        label=_("LCC"), required=False, max_length=300, help_text=_("Several: separate with ;")
    )
    series = forms.CharField(label=_("Series"), max_length=500, required=False)
    abstract = forms.CharField(
        label=_("Abstract"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    contents = forms.CharField(
        label=_("Contents"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    work_key = forms.CharField(
        label=_("Work"),
        max_length=200,
        required=False,
        help_text=_("The same key on every edition and translation of one work."),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=RecordStatus.choices, initial=RecordStatus.PUBLISHED
    )
    save_anyway = forms.BooleanField(
        label=_("Save even though it looks like a duplicate"), required=False
    )

    def clean_contributors(self) -> list[ContributorData]:
        result = []
        words = role_words()
        for line in _lines(self.cleaned_data["contributors"]):
            name, _sep, role = line.partition("|")
            role_value = words.get(role.strip().lower() or "author")
            if role_value is None:
                raise forms.ValidationError(
                    _("Unknown role “%(role)s” in: %(line)s"),
                    params={"role": role.strip(), "line": line},
                )
            result.append(ContributorData(name=name.strip(), role=role_value))
        return result

    def clean_languages(self) -> list[str]:
        codes = [c.strip().lower() for c in self.cleaned_data["languages"].split(",")]
        for code in codes:
            if code and (len(code) != 3 or not code.isalpha()):
                raise forms.ValidationError(
                    _("“%(code)s” is not a three-letter language code."), params={"code": code}
                )
        return [c for c in codes if c]

    def to_data(self, base: RecordData | None = None) -> RecordData:
        d = self.cleaned_data
        identifiers = [IdentifierData("isbn", v) for v in _lines(d["isbn"])]
        identifiers += [IdentifierData(s, d[s].strip()) for s in ("issn", "doi") if d[s].strip()]
        data = RecordData(
            title=d["title"],
            subtitle=d["subtitle"],
            parallel_titles=_lines(d["parallel_titles"]),
            title_variants=list(base.title_variants) if base else [],
            responsibility=d["responsibility"],
            contributors=d["contributors"],
            publisher=d["publisher"],
            place=d["place"],
            year=d["year"],
            edition=d["edition"],
            extent=d["extent"],
            languages=d["languages"],
            resource_type=d["resource_type"],
            audience=d["audience"],
            subjects=[SubjectData(label=s) for s in _lines(d["subjects"])],
            classifications=[
                ClassificationData(s, number.strip())
                for s in ("udc", "bbk", "ddc", "lcc")
                for number in d[s].split(";")
                if number.strip()
            ],
            identifiers=identifiers,
            series=d["series"],
            abstract=d["abstract"],
            contents=d["contents"],
            notes=d["notes"],
            work_key=d["work_key"],
        )
        if base is not None:
            data.control_number = base.control_number
            data.control_number_source = base.control_number_source
            # Keep the variants already known for each contributor.
            known = {c.name: c for c in base.contributors}
            for c in data.contributors:
                if c.name in known:
                    c.variants = known[c.name].variants
                    c.is_organisation = known[c.name].is_organisation
            labels = {s.label: s for s in base.subjects}
            data.subjects = [labels.get(s.label, s) for s in data.subjects]
        return data

    @classmethod
    def initial_for(cls, data: RecordData, status: str) -> dict[str, Any]:
        by_scheme: dict[str, list[str]] = {}
        for i in data.identifiers:
            by_scheme.setdefault(i.scheme, []).append(i.value)
        classes: dict[str, list[str]] = {}
        for c in data.classifications:
            classes.setdefault(c.scheme, []).append(c.number)
        return {
            "title": data.title,
            "subtitle": data.subtitle,
            "parallel_titles": "\n".join(data.parallel_titles),
            "responsibility": data.responsibility,
            "contributors": "\n".join(f"{c.name} | {c.role}" for c in data.contributors),
            "publisher": data.publisher,
            "place": data.place,
            "year": data.year,
            "edition": data.edition,
            "extent": data.extent,
            "languages": ", ".join(data.languages),
            "resource_type": data.resource_type,
            "audience": data.audience,
            "subjects": "\n".join(s.label for s in data.subjects),
            "isbn": "\n".join(by_scheme.get("isbn", [])),
            "issn": ", ".join(by_scheme.get("issn", [])),
            "doi": ", ".join(by_scheme.get("doi", [])),
            **{s: "; ".join(classes.get(s, [])) for s in ("udc", "bbk", "ddc", "lcc")},
            "series": data.series,
            "abstract": data.abstract,
            "contents": data.contents,
            "notes": data.notes,
            "work_key": data.work_key,
            "status": status,
        }


def _language_field(code: str) -> str:
    return "name_" + code.replace("-", "_")


class CollectionForm(forms.Form):
    """A collection or faculty: its code, kind, and its name in each interface language."""

    code = forms.SlugField(
        label=_("Code"),
        max_length=64,
        help_text=_(
            "Lower-case letters, digits and hyphens, for example navoi-studies. Harvesters see "
            "it in OAI-PMH set names, so change it only when you must."
        ),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Collection.Kind.choices,
        initial=Collection.Kind.COLLECTION,
        help_text=_(
            "A faculty or department gathers what its people wrote (dissertations, for "
            "example); a collection is one the library curates."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, language in settings.LANGUAGES:
            self.fields[_language_field(code)] = forms.CharField(
                label=_("Name in %(language)s") % {"language": language},
                max_length=300,
                required=False,
            )
        self.order_fields(
            ["code", "kind", "name", *(_language_field(c) for c, _l in settings.LANGUAGES)]
        )

    @property
    def names(self) -> dict[str, str]:
        return {
            code: self.cleaned_data[_language_field(code)].strip()
            for code, _language in settings.LANGUAGES
            if self.cleaned_data.get(_language_field(code), "").strip()
        }

    def to_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "code": d["code"],
            "kind": d["kind"],
            "name": d["name"],
            "names": self.names,
            "description": d["description"],
        }

    @staticmethod
    def initial_for(collection: Collection) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "code": collection.code,
            "kind": collection.kind,
            "name": collection.name,
            "description": collection.description,
        }
        for code, _language in settings.LANGUAGES:
            initial[_language_field(code)] = collection.names.get(code, "")
        return initial


class ItemForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.all())
    barcode = forms.CharField(
        label=_("Barcode"),
        max_length=64,
        required=False,
        help_text=_("Leave empty to generate one."),
    )
    copies = forms.IntegerField(
        label=_("Number of copies"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=_("With an empty barcode, this many copies are added."),
    )
    call_number = forms.CharField(label=_("Call number"), max_length=100, required=False)
    loan_type = forms.TypedChoiceField(
        label=_("Loan type"),
        choices=LoanType.choices,
        initial=LoanType.STANDARD,
        required=False,
        empty_value=LoanType.STANDARD,
        help_text=_("Which loan rules apply. Reference copies are never lent."),
    )
    shelf_location = forms.CharField(label=_("Shelf location"), max_length=200, required=False)
    acquired_on = forms.DateField(
        label=_("Acquired on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    price = forms.DecimalField(label=_("Price"), required=False, max_digits=12, decimal_places=2)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"))
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("auto", _("Recognise automatically")),
            ("marc21", "MARC21"),
            ("marcxml", "MARCXML"),
            ("dc", "Dublin Core"),
            ("csv", "CSV"),
            ("bibtex", "BibTeX"),
            ("ris", "RIS"),
        ],
    )
