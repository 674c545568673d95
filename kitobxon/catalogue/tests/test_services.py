from __future__ import annotations

import hashlib
import pickle

import pytest

from kitobxon.catalogue import services
from kitobxon.catalogue.data import ContributorData, IdentifierData
from kitobxon.catalogue.errors import BarcodeTaken, InvalidRecord, RecordHasItems
from kitobxon.catalogue.models import (
    Agent,
    Identifier,
    Item,
    ItemStatus,
    Record,
    RecordStatus,
    Subject,
    Tombstone,
)
from kitobxon.catalogue.tests.factories import branch, make_item, make_record, record_data
from kitobxon.core.models import AuditEvent


@pytest.mark.django_db
def test_a_saved_record_keeps_its_description_contributors_and_identifiers() -> None:
    record = make_record()
    assert record.title == "Oʻtkan kunlar" and record.year == 2019
    contribution = record.contributions.get()
    assert contribution.agent.name == "Qodiriy, Abdulla"
    assert contribution.agent.variants == ["Қодирий, Абдулла"]
    isbn = record.identifiers.get()
    assert isbn.normalized == "9789943269118" and isbn.is_valid
    assert record.subjects.get().labels == {"ru": "Узбекская литература"}
    assert record.classifications.get().number == "821.512.133"
    event = AuditEvent.objects.get(object_type="catalogue.record", object_id=str(record.pk))
    assert event.action == "record.created"


@pytest.mark.django_db
def test_an_invalid_isbn_is_kept_and_flagged_not_dropped() -> None:
    record = make_record(identifiers=[IdentifierData("isbn", "978-9943-26-911-0")])
    isbn = record.identifiers.get()
    assert not isbn.is_valid
    assert isbn.value == "978-9943-26-911-0"


@pytest.mark.django_db
def test_the_same_record_imported_again_updates_instead_of_duplicating() -> None:
    first = make_record(control_number="ocm123", control_number_source="OCoLC")
    again = services.save_records(
        [record_data(control_number="ocm123", control_number_source="OCoLC", year=2020)],
        by=None,
    )[0]
    assert not again.created and again.record.pk == first.pk
    assert Record.objects.count() == 1
    first.refresh_from_db()
    assert first.year == 2020
    event = AuditEvent.objects.filter(action="record.updated").get()
    assert event.changes["year"] == [2019, 2020]


@pytest.mark.django_db
def test_a_record_saved_with_the_older_pickled_fingerprint_is_still_unchanged() -> None:
    data = record_data(control_number="ocm7", control_number_source="OCoLC")
    first = services.save_records([data], by=None)[0]
    older = hashlib.sha256(pickle.dumps(data, protocol=5)).hexdigest()
    Record.objects.filter(pk=first.record_id).update(fingerprint=older)
    again = record_data(control_number="ocm7", control_number_source="OCoLC")
    assert services.save_records([again], by=None)[0].changed is False
    changed = record_data(control_number="ocm7", control_number_source="OCoLC", year=2020)
    assert services.save_records([changed], by=None)[0].changed is True


@pytest.mark.django_db
def test_records_match_on_isbn_then_on_title_author_and_year() -> None:
    by_isbn = make_record()
    same_isbn = record_data(title="Otkan kunlar (qayta nashr)")
    assert services.save_records([same_isbn], by=None)[0].record.pk == by_isbn.pk

    other = make_record(title="Mehrobdan chayon", identifiers=[], work_key="mehrobdan-chayon")
    same_key = record_data(title="Mehrobdan  chayon.", identifiers=[], work_key="mehrobdan")
    assert services.save_records([same_key], by=None)[0].record.pk == other.pk
    assert Record.objects.count() == 2


@pytest.mark.django_db
def test_authorities_are_shared_and_gain_variants() -> None:
    make_record()
    make_record(
        title="Mehrobdan chayon",
        identifiers=[],
        contributors=[ContributorData("Qodiriy, Abdulla", "author", ["Кадыри, Абдулла"])],
    )
    agent = Agent.objects.get()
    assert agent.variants == ["Қодирий, Абдулла", "Кадыри, Абдулла"]
    assert Subject.objects.count() == 1


@pytest.mark.django_db
def test_a_record_without_a_title_or_with_an_impossible_year_is_refused() -> None:
    with pytest.raises(InvalidRecord):
        services.validate(record_data(title="  "))
    with pytest.raises(InvalidRecord):
        services.validate(record_data(year=3025))
    with pytest.raises(InvalidRecord):
        services.validate(record_data(resource_type="scroll"))


@pytest.mark.django_db
def test_withdrawing_leaves_a_tombstone_and_republishing_removes_it() -> None:
    record = make_record()
    services.set_status(record, RecordStatus.WITHDRAWN, by=None, reason="lost edition")
    tombstone = Tombstone.objects.get(record_id=record.pk)
    assert tombstone.reason == "lost edition" and tombstone.deleted_at == record.modified_at
    services.set_status(record, RecordStatus.PUBLISHED, by=None)
    assert not Tombstone.objects.filter(record_id=record.pk).exists()


@pytest.mark.django_db
def test_deleting_refuses_a_record_with_copies_and_leaves_a_tombstone_otherwise() -> None:
    record = make_record()
    item = make_item(record)
    with pytest.raises(RecordHasItems):
        services.delete_record(record, by=None)
    Item.objects.filter(pk=item.pk).delete()
    record_id = record.pk
    services.delete_record(record, by=None)
    assert not Record.objects.filter(pk=record_id).exists()
    assert Tombstone.objects.get(record_id=record_id).reason == "deleted"


@pytest.mark.django_db
def test_copies_get_unique_checked_barcodes() -> None:
    from kitobxon.accounts.models import is_valid_card_number

    record = make_record()
    items = [make_item(record) for _ in range(5)]
    barcodes = {i.barcode for i in items}
    assert len(barcodes) == 5
    assert all(len(b) == 14 and is_valid_card_number(b) for b in barcodes)
    with pytest.raises(BarcodeTaken):
        services.add_item(record, by=None, branch=branch(), barcode=items[0].barcode)


@pytest.mark.django_db
def test_item_status_changes_are_audited() -> None:
    item = make_item(make_record())
    services.set_item_status(item, ItemStatus.IN_REPAIR, by=None)
    item.refresh_from_db()
    assert item.status == ItemStatus.IN_REPAIR
    event = AuditEvent.objects.get(action="item.status_changed", object_id=str(item.pk))
    assert event.changes == {"status": ["available", "in_repair"]}


@pytest.mark.django_db(transaction=True)
def test_a_copy_said_to_be_locked_must_be_inside_the_callers_transaction() -> None:
    from django.db import transaction

    item = make_item(make_record())
    with pytest.raises(RuntimeError):
        services.set_item_status(item, ItemStatus.LOST, by=None, locked=True)
    with transaction.atomic():
        services.set_item_status(item, ItemStatus.LOST, by=None, locked=True)
    item.refresh_from_db()
    assert item.status == ItemStatus.LOST
    assert (
        AuditEvent.objects.filter(action="item.status_changed", object_id=str(item.pk)).count() == 1
    )


@pytest.mark.django_db
def test_a_duplicate_within_one_batch_is_saved_once() -> None:
    saved = services.save_records(
        [record_data(year=2019), record_data(year=2019, edition="2-nashr")], by=None
    )
    assert Record.objects.count() == 1
    assert len(saved) == 1 and saved[0].record.edition == "2-nashr"
    assert Identifier.objects.count() == 1


@pytest.mark.django_db
def test_editions_without_a_work_key_are_grouped_by_title_and_author() -> None:
    first = make_record(work_key="", identifiers=[], year=1996, publisher="Sharq")
    second = make_record(
        work_key="", identifiers=[], year=2019, publisher="Gʻafur Gʻulom", title="Oʻtkan Kunlar."
    )
    other = make_record(
        work_key="", identifiers=[], title="Mehrobdan chayon", year=2019, publisher="Sharq"
    )
    assert first.pk != second.pk
    assert first.work_key == second.work_key == "otkan kunlar|qodiriy"
    assert other.work_key != first.work_key
    explicit = make_record(work_key="otkan-kunlar", title="Минувшие дни", identifiers=[])
    assert explicit.work_key == "otkan-kunlar"
