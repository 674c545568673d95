from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from kitobxon.core.i18n import in_language


class ResourceType(models.TextChoices):
    BOOK = "book", _("Book")
    TEXTBOOK = "textbook", _("E-textbook")
    ARTICLE = "article", _("Article")
    JOURNAL = "journal", _("Journal")
    ISSUE = "issue", _("Journal issue")
    DISSERTATION = "dissertation", _("Dissertation or thesis")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")
    MAP = "map", _("Map")
    MODEL_3D = "3d_model", _("3D model")
    DATASET = "dataset", _("Dataset")


class Audience(models.TextChoices):
    CHILDREN = "children", _("Children")
    YOUTH = "youth", _("Youth")
    GENERAL = "general", _("General")
    ACADEMIC = "academic", _("Academic")


class RecordStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ContributorRole(models.TextChoices):
    AUTHOR = "author", _("Author")
    EDITOR = "editor", _("Editor")
    TRANSLATOR = "translator", _("Translator")
    ILLUSTRATOR = "illustrator", _("Illustrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    COMPILER = "compiler", _("Compiler")
    NARRATOR = "narrator", _("Narrator")
    DIRECTOR = "director", _("Director")
    CONTRIBUTOR = "contributor", _("Contributor")


class ItemStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    ON_LOAN = "on_loan", _("On loan")
    ON_HOLD_SHELF = "on_hold_shelf", _("On the hold shelf")
    IN_TRANSIT = "in_transit", _("In transit")
    IN_REPAIR = "in_repair", _("In repair")
    LOST = "lost", _("Lost")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LoanType(models.TextChoices):
    """How a copy may be lent; circulation's loan rules are keyed on it."""

    STANDARD = "standard", _("Standard loan")
    SHORT_LOAN = "short_loan", _("Short loan")
    REFERENCE = "reference", _("Reference (not for loan)")


class Branch(models.Model):
    """A library building or service point that holds copies."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    """A person or organisation, with name variants in other scripts."""

    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=500)
    variants = models.JSONField(_("name variants"), default=list, blank=True)
    key = models.CharField(max_length=500, editable=False)

    class Meta:
        verbose_name = _("person or organisation")
        verbose_name_plural = _("people and organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="catalogue_agent_unique_key")
        ]

    def __str__(self) -> str:
        return self.name


class Subject(models.Model):
    """A heading of the controlled subject vocabulary, labelled in several languages."""

    scheme = models.CharField(_("scheme"), max_length=32, default="local")
    label = models.CharField(_("label"), max_length=500)
    labels = models.JSONField(_("labels by language"), default=dict, blank=True)
    key = models.CharField(max_length=500, editable=False)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "key"], name="catalogue_subject_unique_key")
        ]

    def __str__(self) -> str:
        return self.label

    def label_in(self, language: str) -> str:
        return in_language(self.labels, language, self.label)


class Collection(models.Model):
    """A named group of records: a curated or special collection, or a faculty's output.

    A faculty (or department) gathers what the university's own people wrote: dissertations of
    the Faculty of Philology, for example. A collection is gathered by the library: "Rare
    books", "Navoi studies". The code is stable: OAI-PMH set specs and addresses use it.
    """

    class Kind(models.TextChoices):
        COLLECTION = "collection", _("Collection")
        FACULTY = "faculty", _("Faculty or department")

    code = models.SlugField(
        _("code"),
        max_length=64,
        unique=True,
        help_text=_("Letters, digits and hyphens; used in addresses and OAI sets."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COLLECTION)
    name = models.CharField(_("name"), max_length=300)
    names = models.JSONField(_("names by language"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    modified_at = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        verbose_name = _("collection")
        verbose_name_plural = _("collections")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def local_name(self) -> str:
        """The name in the active interface language (or its base language), else the name."""
        return in_language(
            self.names, translation.get_language() or settings.LANGUAGE_CODE, self.name
        )

    @property
    def set_spec(self) -> str:
        return f"{self.kind}:{self.code}"


class Record(models.Model):
    """A bibliographic record: one edition of a work, as a reader finds it."""

    work_key = models.CharField(_("work"), max_length=200, blank=True, db_index=True)
    title = models.CharField(_("title"), max_length=1000)
    subtitle = models.TextField(_("subtitle"), blank=True)
    parallel_titles = models.JSONField(_("parallel titles"), default=list, blank=True)
    title_variants = models.JSONField(_("title in other scripts"), default=list, blank=True)
    responsibility = models.TextField(_("statement of responsibility"), blank=True)
    publisher = models.CharField(_("publisher"), max_length=500, blank=True)
    place = models.CharField(_("place of publication"), max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True, db_index=True)
    edition = models.CharField(_("edition"), max_length=300, blank=True)
    extent = models.CharField(_("extent"), max_length=300, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    resource_type = models.CharField(
        _("resource type"), max_length=16, choices=ResourceType.choices, default=ResourceType.BOOK
    )
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.GENERAL
    )
    series = models.CharField(_("series"), max_length=500, blank=True)
    abstract = models.TextField(_("abstract"), blank=True)
    contents = models.TextField(_("contents"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RecordStatus.choices, default=RecordStatus.PUBLISHED
    )
    control_number = models.CharField(_("control number (001)"), max_length=64, blank=True)
    control_number_source = models.CharField(
        _("control number source (003)"), max_length=64, blank=True
    )
    match_key = models.CharField(max_length=255, blank=True, db_index=True, editable=False)
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    source_format = models.CharField(_("source format"), max_length=16, default="manual")
    source_data = models.BinaryField(_("source record"), blank=True, default=b"")
    subjects = models.ManyToManyField(Subject, related_name="records", blank=True)
    collections = models.ManyToManyField(Collection, related_name="records", blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Not indexed on its own: the keyset index (modified_at, id) serves every lookup and
    # ordering by it, and each imported record would write both.
    modified_at = models.DateTimeField(_("modified"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("record")
        verbose_name_plural = _("records")
        ordering = ["-modified_at", "-id"]
        indexes = [
            models.Index(fields=["control_number", "control_number_source"]),
            # Harvesters page through records in (modified_at, id) order (OAI-PMH keyset).
            models.Index(fields=["modified_at", "id"], name="catalogue_record_keyset"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    def get_absolute_url(self) -> str:
        return reverse("catalogue:record", args=[self.pk])

    @property
    def full_title(self) -> str:
        return f"{self.title} : {self.subtitle}" if self.subtitle else self.title

    @property
    def is_published(self) -> bool:
        return self.status == RecordStatus.PUBLISHED


class Contribution(models.Model):
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="contributions")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="contributions")
    role = models.CharField(
        _("role"), max_length=16, choices=ContributorRole.choices, default=ContributorRole.AUTHOR
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("contributor")
        verbose_name_plural = _("contributors")
        ordering = ["record_id", "position"]

    def __str__(self) -> str:
        return f"{self.agent} ({self.get_role_display()})"


class Identifier(models.Model):
    """ISBN, ISSN, DOI...: kept as given, normalised when valid, flagged when not."""

    class Scheme(models.TextChoices):
        ISBN = "isbn", "ISBN"
        ISSN = "issn", "ISSN"
        DOI = "doi", "DOI"
        OTHER = "other", _("Other")

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(_("scheme"), max_length=8, choices=Scheme.choices)
    value = models.CharField(_("as given"), max_length=200)
    normalized = models.CharField(_("normalised"), max_length=200, db_index=True)
    is_valid = models.BooleanField(_("valid"), default=True)

    class Meta:
        verbose_name = _("identifier")
        verbose_name_plural = _("identifiers")
        ordering = ["record_id", "id"]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.normalized or self.value}"


class Classification(models.Model):
    class Scheme(models.TextChoices):
        UDC = "udc", _("UDC")
        BBK = "bbk", _("BBK")
        DDC = "ddc", _("DDC")
        LCC = "lcc", _("LCC")

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="classifications")
    scheme = models.CharField(_("scheme"), max_length=8, choices=Scheme.choices)
    number = models.CharField(_("number"), max_length=100)

    class Meta:
        verbose_name = _("classification number")
        verbose_name_plural = _("classification numbers")
        ordering = ["record_id", "id"]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.number}"


class Item(models.Model):
    """A copy the library can lend: one barcode on one physical thing."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="items")
    barcode = models.CharField(_("barcode"), max_length=64, unique=True)
    call_number = models.CharField(_("call number"), max_length=100, blank=True)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="items")
    shelf_location = models.CharField(_("shelf location"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.AVAILABLE
    )
    loan_type = models.CharField(
        _("loan type"), max_length=16, choices=LoanType.choices, default=LoanType.STANDARD
    )
    acquired_on = models.DateField(_("acquired on"), null=True, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    modified_at = models.DateTimeField(_("modified"), auto_now=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["branch", "call_number", "barcode"]

    def __str__(self) -> str:
        return self.barcode


class Tombstone(models.Model):
    """What remains of a deleted record: enough for harvesters to learn it is gone."""

    record_id = models.BigIntegerField(_("record number"), unique=True)
    title = models.CharField(_("title"), max_length=1000)
    work_key = models.CharField(_("work"), max_length=200, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), db_index=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("deleted record")
        verbose_name_plural = _("deleted records")
        ordering = ["-deleted_at"]
        indexes = [
            models.Index(fields=["deleted_at", "record_id"], name="catalogue_tombstone_keyset")
        ]

    def __str__(self) -> str:
        return f"#{self.record_id} {self.title}"


class ImportJob(models.Model):
    """One file imported by a librarian from the pages, run by the job worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file_name = models.CharField(_("file"), max_length=300)
    path = models.CharField(max_length=1000)
    format = models.CharField(_("format"), max_length=16, default="auto")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    size = models.BigIntegerField(_("size"), default=0)
    processed_bytes = models.BigIntegerField(default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_bytes / self.size) if self.size else 0
