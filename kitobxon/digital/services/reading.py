"""Where a reader stopped in a file, kept so that any of their devices opens it there.

Library rule: a reading position belongs to the reader alone. It is one row per reader and
file (a PDF page number, an EPUB CFI, or media seconds, with progress 0..1), replaced by every
save; the library keeps no history of it. The reader pages save it every few seconds, so it is
neither an audit event nor a ledger entry: either would turn into the reading log that patron
privacy forbids. The reader can erase all of it (``forget_positions``, the privacy page).
"""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kitobxon.digital import errors
from kitobxon.digital.models import DigitalFile, ReadingPosition

#: As long as the column; an EPUB CFI is rarely longer than 200 characters.
MAX_POSITION = ReadingPosition._meta.get_field("position").max_length or 500


def save_position(
    file: DigitalFile, reader: Any, *, position: str, progress: float
) -> ReadingPosition:
    """Remember that ``reader`` is at ``position`` in ``file`` (``progress`` from 0 to 1).

    One statement (INSERT … ON CONFLICT DO UPDATE on the one-position-per-reader constraint), so
    two devices saving at the same moment cannot both insert: the last save wins.
    """
    if not getattr(reader, "is_authenticated", False):
        raise errors.DigitalError(_("Sign in to keep your place in a file."))
    position = position.strip()
    if not position:
        raise errors.DigitalError(_("A reading position cannot be empty."))
    if len(position) > MAX_POSITION:
        raise errors.DigitalError(
            _("A reading position may be at most %(count)d characters long.")
            % {"count": MAX_POSITION}
        )
    if not (math.isfinite(progress) and 0.0 <= progress <= 1.0):
        raise errors.DigitalError(_("Progress must be a number from 0 to 1."))
    row = ReadingPosition(
        reader_id=reader.pk,
        file_id=file.pk,
        position=position,
        progress=progress,
        updated_at=timezone.now(),
    )
    with transaction.atomic():
        ReadingPosition.objects.bulk_create(
            [row],
            update_conflicts=True,
            unique_fields=["reader", "file"],
            update_fields=["position", "progress", "updated_at"],
        )
    return row


def forget_positions(reader: Any) -> int:
    """Erase every reading position of ``reader``; returns how many there were."""
    with transaction.atomic():
        deleted, _by_model = ReadingPosition.objects.filter(reader_id=reader.pk).delete()
    return deleted
