"""Sickle, a third-party harvester, harvests the whole demo library over HTTP.

The demo catalogue (`kitobxon demo`, what `make run` serves: about 2,700 records from MARC,
CSV and the project's own records) is the catalogue a visiting harvester would meet first; a
handful of factory records cannot show that real MARC and real Uzbek text come out valid.
Every page, in both formats, is validated against the OAI-PMH schemas, and every published
record and every tombstone is accounted for against the database.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from kitobxon.catalogue import services
from kitobxon.catalogue.models import Record, RecordStatus, Tombstone
from kitobxon.protocols.tests.test_oai_provider import OAI, identifier, oai_schema, valid


@pytest.mark.django_db(transaction=True)
def test_sickle_harvests_the_whole_demo_library_in_both_formats(live_server: Any) -> None:
    sickle = pytest.importorskip("sickle")
    oai_schema()
    call_command("demo", stdout=io.StringIO())
    # The demo deletes nothing: withdraw one of its records and delete one without copies, so
    # the harvest has tombstones of both kinds to report.
    demo = Record.objects.filter(status=RecordStatus.PUBLISHED).order_by("pk")
    services.set_status(demo[0], RecordStatus.WITHDRAWN, by=None)
    services.delete_record(demo.filter(items__isnull=True).reverse()[0], by=None)

    published = {
        identifier(pk)
        for pk in Record.objects.filter(status=RecordStatus.PUBLISHED).values_list("pk", flat=True)
    }
    deleted = {identifier(pk) for pk in Tombstone.objects.values_list("record_id", flat=True)}
    assert len(published) > 2500 and len(deleted) == 2
    assert not published & deleted

    pages: list[str] = []

    class ValidatingSickle(sickle.Sickle):  # type: ignore[name-defined]
        """Sickle that checks each response it receives against the schemas."""

        def harvest(self, **kwargs: Any) -> Any:
            response = super().harvest(**kwargs)
            root = valid(response.http_response.content)
            assert root.find(f"{OAI}error") is None, response.raw[:2000]
            pages.append(kwargs.get("metadataPrefix") or "resumed")
            return response

    harvester = ValidatingSickle(f"{live_server.url}/oai", max_retries=0)
    for metadata_prefix in ("oai_dc", "marc21"):
        pages.clear()
        seen: dict[str, bool] = {}
        for record in harvester.ListRecords(metadataPrefix=metadata_prefix, ignore_deleted=False):
            assert record.header.identifier not in seen, record.header.identifier
            seen[record.header.identifier] = record.header.deleted
            if not record.header.deleted:
                assert record.xml.find(f"{OAI}metadata") is not None
        assert {i for i, gone in seen.items() if not gone} == published
        assert {i for i, gone in seen.items() if gone} == deleted
        # 100 a page: every page but the last is full, and each was fetched once.
        assert len(pages) == -(-len(seen) // 100)
