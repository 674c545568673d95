"""Writes of the search app: the anonymous count of queries that found nothing."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from kitobxon.search import analysis
from kitobxon.search.models import ZeroResultQuery


def count_zero_result(text: str) -> None:
    """Count a query that found nothing; only its folded words are kept, never who asked."""
    words = analysis.fold(text)[:200]
    if not words:
        return
    day = timezone.localdate()
    if ZeroResultQuery.objects.filter(day=day, query=words).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            ZeroResultQuery.objects.create(day=day, query=words, count=1)
    except IntegrityError:
        ZeroResultQuery.objects.filter(day=day, query=words).update(count=F("count") + 1)
