"""The catalogue writes to the ledger in its own transaction: published metadata, withdrawals."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from kitobxon.catalogue import services
from kitobxon.catalogue.models import RecordStatus
from kitobxon.catalogue.tests.factories import make_record, record_data
from kitobxon.ledger import queries as ledger_queries
from kitobxon.ledger import services as ledger
from kitobxon.ledger.models import Entry

pytestmark = pytest.mark.django_db


def _kinds(subject: str) -> list[str]:
    return list(ledger_queries.entries_about(subject).values_list("kind", flat=True))


def test_publishing_a_record_enters_its_fingerprint_in_the_ledger() -> None:
    record = make_record()
    entry = ledger_queries.entries_about(f"record:{record.pk}").get()
    assert entry.kind == "metadata.published"
    assert json.loads(entry.body)["data"] == {"fingerprint": record.fingerprint}
    assert ledger.integrate() == 1
    assert ledger_queries.entry_at(0) == entry


def test_a_draft_is_not_published_and_an_unchanged_reimport_adds_nothing() -> None:
    draft = services.save_records([record_data(title="Qoralama")], by=None, status="draft")
    assert _kinds(f"record:{draft[0].record_id}") == []
    record = make_record()
    services.save_records([record_data()], by=None)
    assert _kinds(f"record:{record.pk}") == ["metadata.published"]


def test_withdrawing_and_republishing_are_both_recorded() -> None:
    record = make_record()
    services.set_status(record, RecordStatus.WITHDRAWN, by=None, reason="duplicate")
    services.set_status(record, RecordStatus.PUBLISHED, by=None)
    assert _kinds(f"record:{record.pk}") == [
        "metadata.published",
        "metadata.withdrawn",
        "metadata.published",
    ]


def test_an_import_batch_enters_one_entry_per_published_record() -> None:
    batch = [record_data(title=f"Kitob {n}", identifiers=[], work_key="") for n in range(25)]
    saved = services.save_records(batch, by=None)
    assert Entry.objects.filter(kind="metadata.published").count() == len(saved) == 25


def test_a_failed_change_leaves_no_entry() -> None:
    record = make_record()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.set_status(record, RecordStatus.WITHDRAWN, by=None)
        raise RuntimeError("interrupted")
    assert _kinds(f"record:{record.pk}") == ["metadata.published"]


def test_the_ledger_names_published_records_only() -> None:
    from kitobxon.ledger import subjects

    record = make_record(title="Kecha va kunduz")
    described = subjects.describe(f"record:{record.pk}")
    assert described is not None
    assert (described.title, described.url) == ("Kecha va kunduz", f"/records/{record.pk}/")
    services.set_status(record, RecordStatus.DRAFT, by=None)
    assert subjects.describe(f"record:{record.pk}") is None
    assert subjects.describe("record:abc") is None
