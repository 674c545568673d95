"""Harvest sources and their runs: the only tables of the protocols app.

A harvest source is another library's OAI-PMH repository that librarians have chosen to copy
records from; each run leaves a row with its counts and errors so the page can show what
happened.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Schedule(models.TextChoices):
    NEVER = "never", _("only when run by hand")
    DAILY = "daily", _("every day")
    WEEKLY = "weekly", _("every week")


class MetadataPrefix(models.TextChoices):
    OAI_DC = "oai_dc", "Dublin Core (oai_dc)"
    MARC21 = "marc21", "MARCXML (marc21)"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    PARTIAL = "partial", _("done with errors")
    FAILED = "failed", _("failed")


class HarvestSource(models.Model):
    name = models.CharField(_("name"), max_length=200)
    base_url = models.URLField(_("base URL"), max_length=500)
    metadata_prefix = models.CharField(
        _("metadata format"),
        max_length=16,
        choices=MetadataPrefix.choices,
        default=MetadataPrefix.OAI_DC,
    )
    set_spec = models.CharField(_("set"), max_length=200, blank=True)
    schedule = models.CharField(
        _("schedule"), max_length=8, choices=Schedule.choices, default=Schedule.NEVER
    )
    hour = models.PositiveSmallIntegerField(_("hour"), default=2)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), default=0, help_text=_("0 is Monday; used by weekly harvests")
    )
    active = models.BooleanField(_("active"), default=True)
    last_response_date = models.CharField(
        _("last harvested datestamp"),
        max_length=32,
        blank=True,
        help_text=_("the responseDate of the last successful harvest; the next one starts here"),
    )
    last_status = models.CharField(
        _("last status"), max_length=16, choices=RunStatus.choices, blank=True
    )
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("harvest source")
        verbose_name_plural = _("harvest sources")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["base_url", "metadata_prefix", "set_spec"],
                name="protocols_harvestsource_unique_feed",
            ),
            models.CheckConstraint(
                condition=models.Q(hour__lte=23), name="protocols_harvestsource_hour_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="protocols_harvestsource_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class HarvestRun(models.Model):
    source = models.ForeignKey(
        HarvestSource, on_delete=models.CASCADE, related_name="runs", verbose_name=_("source")
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    from_date = models.CharField(
        pgettext_lazy("harvest run", "changes since"), max_length=32, blank=True
    )
    response_date = models.CharField(_("response date"), max_length=32, blank=True)
    harvested = models.PositiveIntegerField(_("harvested"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    deleted = models.PositiveIntegerField(pgettext_lazy("harvest run", "deleted"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    errors = models.TextField(_("errors"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )

    class Meta:
        verbose_name = _("harvest run")
        verbose_name_plural = _("harvest runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"
