"""The digital library's jobs: text extraction after an upload, and the daily embargo reindex."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from kitobxon.digital.models import DigitalFile
from kitobxon.search import indexing

#: The embargo job runs at this local time (hour, minute), just after midnight.
EMBARGO_TIME = (0, 10)
#: Embargoes lifted this many days back are reindexed again, in case a run was missed.
EMBARGO_CATCH_UP_DAYS = 2


@db_task(retries=2, retry_delay=30)
def extract_file_task(file_id: int) -> str:
    """Extract the text and thumbnail of one file; a file removed meanwhile is skipped.

    A broken file ends as ``failed`` without an exception; only storage or database trouble
    raises, and then huey tries again.
    """
    from kitobxon.digital.services.extraction import extract_file

    file = DigitalFile.objects.filter(pk=file_id).first()
    if file is None:
        return "gone"
    extract_file(file)
    return str(DigitalFile.objects.values_list("text_status", flat=True).get(pk=file_id))


def schedule_extraction(file_id: int) -> None:
    """Call inside the upload's transaction: the job starts only once the file row is committed."""
    transaction.on_commit(lambda: extract_file_task(file_id))


def is_embargo_time(timestamp: datetime) -> bool:
    """True at EMBARGO_TIME in the library's time zone (huey hands a naive UTC or local time)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    local = timestamp.replace(tzinfo=UTC if HUEY.utc else zone).astimezone(zone)
    return (local.hour, local.minute) == EMBARGO_TIME


@db_periodic_task(is_embargo_time)
def reindex_lifted_embargoes() -> int:
    """Reindex records whose file's embargo ended today: their text becomes searchable.

    Library rule: an embargoed file opens on its ``embargo_until`` date, and until then its
    pages are searchable by librarians only. Reindexing is idempotent, so the last few days are
    included again and a missed run costs nothing.
    """
    today = timezone.localdate()
    record_ids = list(
        DigitalFile.objects.filter(
            embargo_until__range=(today - timedelta(days=EMBARGO_CATCH_UP_DAYS), today)
        )
        .values_list("record_id", flat=True)
        .distinct()
        .order_by("record_id")
    )
    with transaction.atomic():
        indexing.enqueue("record", record_ids)
    return len(record_ids)
