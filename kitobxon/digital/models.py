"""Digital files of records, who may open them, digital loans, reading positions, watermarks.

Rows change only through ``services``. A file is reached only through a signed URL
(``delivery``) issued after ``policy.decide`` said yes; its bytes never move once stored, and
the ledger registers their SHA-256 (``file:<id>``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kitobxon.catalogue.models import Record


class FileKind(models.TextChoices):
    PDF = "pdf", _("PDF document")
    EPUB = "epub", _("EPUB e-book")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")
    CAPTIONS = "captions", _("Captions (WebVTT)")
    IMAGE = "image", _("Image")
    MODEL_3D = "3d", _("3D model")


class Access(models.TextChoices):
    """Who may open a file (an embargo, when set, comes first: librarians only until then)."""

    OPEN = "open", _("Open to all")
    REGISTERED = "registered", _("Registered readers")
    SEGMENTS = "segments", _("Chosen reader segments")
    CAMPUS = "campus", _("Campus networks")
    LICENSED = "licensed", _("Digital loan (licensed)")
    LIBRARIANS = "librarians", _("Librarians only")


class TextStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for extraction")
    EXTRACTED = "extracted", _("Text extracted")
    SCANNED = "scanned", _("Scanned, no text layer")
    OCR = "ocr", _("Text recognised (OCR)")
    FAILED = "failed", _("Extraction failed")
    NONE = "none", _("No text (not a document)")


class DigitalFile(models.Model):
    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="digital_files")
    kind = models.CharField(_("kind"), max_length=16, choices=FileKind.choices)
    label = models.CharField(_("file label"), max_length=300, blank=True)
    original_name = models.CharField(_("uploaded as"), max_length=300)
    #: The file's name in the default storage: files/<sha256[:2]>/<sha256>.<ext>.
    name = models.CharField(max_length=300, editable=False)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.BigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    #: For captions: the video (or audio) they belong to.
    caption_for = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="captions"
    )
    caption_language = models.CharField(_("captions language"), max_length=16, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    text_status = models.CharField(
        _("text"), max_length=16, choices=TextStatus.choices, default=TextStatus.PENDING
    )
    #: Warnings found on upload, e.g. {"javascript": "OpenAction"} for a PDF with scripts.
    flags = models.JSONField(_("warnings"), default=dict, blank=True)
    thumbnail = models.CharField(max_length=300, blank=True, editable=False)
    access = models.CharField(
        _("who may open it"), max_length=16, choices=Access.choices, default=Access.REGISTERED
    )
    segments = models.JSONField(_("reader segments"), default=list, blank=True)
    embargo_until = models.DateField(_("embargoed until"), null=True, blank=True)
    downloadable = models.BooleanField(_("may be downloaded"), default=False)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    modified_at = models.DateTimeField(_("modified"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["record_id", "position", "id"]
        verbose_name = _("digital file")
        verbose_name_plural = _("digital files")
        permissions = [("manage_digital", _("Can upload and manage digital files and licences"))]

    def __str__(self) -> str:
        return self.label or self.original_name

    @property
    def subject(self) -> str:
        """The ledger subject of this file's bytes."""
        return f"file:{self.pk}"

    def warnings(self) -> list[str]:
        """The upload and extraction warnings, as sentences for the librarian."""
        sentences = []
        for key, detail in (self.flags or {}).items():
            if key == "javascript":
                sentences.append(
                    gettext(
                        "This PDF runs JavaScript (%(where)s); "
                        "the reader opens it with scripting off."
                    )
                    % {"where": detail}
                )
            elif key == "extraction":
                sentences.append(gettext("Text extraction: %(reason)s") % {"reason": detail})
            else:
                sentences.append(f"{key}: {detail}")
        return sentences


class PageText(models.Model):
    """The extracted text of one page (PDF) or one spine document (EPUB), numbered from 1."""

    file = models.ForeignKey(DigitalFile, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["file_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["file", "number"], name="digital_page_once"),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}:{self.number}"


class Licence(models.Model):
    """A licence for a title: N readers may borrow it at once, each for ``loan_days``."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="licences")
    copies = models.PositiveIntegerField(_("concurrent loans"))
    loan_days = models.PositiveSmallIntegerField(_("loan period in days"), default=14)
    valid_until = models.DateField(_("licence valid until"), null=True, blank=True)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            models.UniqueConstraint(fields=["record"], name="digital_one_licence_per_record"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.copies}"


class DigitalLoanState(models.TextChoices):
    ACTIVE = "active", _("Reading")
    RETURNED = "returned", _("Returned")
    EXPIRED = "expired", _("Ended on its due date")


class DigitalLoan(models.Model):
    """A reader reading a licensed title online; once it has ended for a while the loan forgets
    its reader (``services.loans.forget_ended``): reading history is the reader's, not ours."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="loans")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digital_loans",
    )
    state = models.CharField(
        max_length=16, choices=DigitalLoanState.choices, default=DigitalLoanState.ACTIVE
    )
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["licence", "reader"],
                condition=Q(state="active"),
                name="digital_one_active_loan_per_reader",
            ),
        ]

    def __str__(self) -> str:
        return f"digital-loan:{self.pk}"


class WaitState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Copy free for you")
    FULFILLED = "fulfilled", _("Borrowed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Lapsed")


class WaitlistEntry(models.Model):
    """A reader waiting for a licensed copy; first come, first served."""

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="waitlist")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digital_waits"
    )
    state = models.CharField(max_length=16, choices=WaitState.choices, default=WaitState.WAITING)
    created_at = models.DateTimeField(db_index=True)
    #: When offered, the copy is kept for this reader until then.
    offered_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["licence", "reader"],
                condition=Q(state__in=["waiting", "offered"]),
                name="digital_one_wait_per_reader",
            ),
        ]

    def __str__(self) -> str:
        return f"digital-wait:{self.pk}"


class ReadingPosition(models.Model):
    """Where a reader stopped in a file (page, EPUB CFI or media seconds), on every device."""

    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_positions"
    )
    file = models.ForeignKey(DigitalFile, on_delete=models.CASCADE, related_name="+")
    position = models.CharField(max_length=500)
    progress = models.FloatField(default=0.0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reader", "file"], name="digital_one_position"),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}@{self.position}"


class Watermark(models.Model):
    """One watermarked download: the fingerprint printed on it leads back to the reader."""

    fingerprint = models.CharField(max_length=32, unique=True)
    file = models.ForeignKey(DigitalFile, on_delete=models.CASCADE, related_name="watermarks")
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watermarks"
    )
    created_at = models.DateTimeField(db_index=True)
    sha256 = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.fingerprint
