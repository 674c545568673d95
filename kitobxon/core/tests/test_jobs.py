from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from huey import RedisHuey, SqliteHuey
from huey.api import Huey


def _queue(tmp_path: Path) -> Huey:
    """A queue on the same storage production uses: Redis when configured, else SQLite."""
    name = f"kitobxon-test-{uuid.uuid4().hex}"
    if settings.REDIS_URL:
        return RedisHuey(name=name, url=settings.REDIS_URL)
    return SqliteHuey(name=name, filename=str(tmp_path / "jobs.sqlite3"))


def test_a_job_travels_through_the_real_queue(tmp_path: Path) -> None:
    queue = _queue(tmp_path)
    try:

        @queue.task()
        def add(a: int, b: int) -> int:
            return a + b

        pending = add(2, 3)
        assert queue.pending_count() == 1
        task = queue.dequeue()
        assert task is not None
        queue.execute(task)
        assert pending.get() == 5
        assert queue.pending_count() == 0
    finally:
        queue.storage.flush_all()
