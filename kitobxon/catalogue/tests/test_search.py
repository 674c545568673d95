"""The catalogue's search documents: a rebuild reads them as the outbox's drain does."""

from __future__ import annotations

import itertools

import pytest

from kitobxon.catalogue import search, services
from kitobxon.catalogue.data import ContributorData, SubjectData
from kitobxon.catalogue.models import Collection, ItemStatus, RecordStatus
from kitobxon.catalogue.tests.factories import make_item, make_record


@pytest.mark.django_db
def test_a_rebuild_loads_the_same_documents_in_the_same_order_as_the_drain() -> None:
    faculty = services.create_collection(
        code="philology", kind=Collection.Kind.FACULTY, name="Filologiya", by=None
    )
    rare = services.create_collection(
        code="rare", kind=Collection.Kind.COLLECTION, name="Nodir kitoblar", by=None
    )
    navoiy = ContributorData("Navoiy, Alisher", "author", ["Навоий, Алишер"])
    qodiriy = ContributorData("Qodiriy, Abdulla", "author", [])
    poetry = SubjectData("Sheʼriyat", {"ru": "Поэзия"})
    novels = SubjectData("Roman", {})
    records = [
        make_record(
            title=f"Kitob {n}",
            contributors=[navoiy, qodiriy][: 1 + n % 2],
            subjects=[[poetry], [novels, poetry], []][n % 3],
            identifiers=[],
            work_key=f"kitob-{n}",
        )
        for n in range(7)
    ]
    make_item(records[1])
    services.set_item_status(make_item(records[1], "nukus"), ItemStatus.WITHDRAWN, by=None)
    make_item(records[4])
    services.set_record_collections(records[2], [faculty, rare], by=None)
    services.delete_record(records[3], by=None)
    services.set_status(records[0], RecordStatus.DRAFT, by=None)  # now the newest of its page

    drained = [search.load(ids) for ids in search.all_ids(2)]
    rebuilt = list(search.load_all(2))
    assert rebuilt == drained
    assert len(list(itertools.chain(*rebuilt))) == 6
