"""Search keeps two tables: the outbox of changes to index, and anonymous zero-result counts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingChange(models.Model):
    """An object whose index entry must be refreshed (or removed).

    Written in the same transaction as the change itself, so the index can lag the database but
    never lose a change: the job worker drains these rows in batches (indexing.drain).
    """

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pending index change")
        verbose_name_plural = _("pending index changes")
        permissions = [("search_everything", _("Can find unpublished and restricted entries"))]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class ZeroResultQuery(models.Model):
    """A query that found nothing, counted per day. No reader is stored, only the folded words."""

    day = models.DateField(_("day"))
    query = models.CharField(_("query"), max_length=200)
    count = models.PositiveIntegerField(_("times"), default=0)

    class Meta:
        verbose_name = _("query without results")
        verbose_name_plural = _("queries without results")
        constraints = [
            models.UniqueConstraint(fields=["day", "query"], name="search_zero_result_per_day")
        ]
        ordering = ["-day", "-count"]

    def __str__(self) -> str:
        return self.query
