"""Reference managers find records: COinS and unAPI on record pages, alternates to MARCXML/DC."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs

import pytest
from django.test import Client
from lxml import etree

from kitobxon.catalogue.data import ContributorData, IdentifierData
from kitobxon.catalogue.models import RecordStatus
from kitobxon.catalogue.tests.factories import make_record, record_data
from kitobxon.protocols.web.coins import BOOK, DC, JOURNAL, context_object

pytestmark = pytest.mark.django_db


def test_a_book_is_a_book_context_object_with_its_isbn_and_authors() -> None:
    kev = parse_qs(context_object(record_data(), record_id="https://lib.example/records/1/"))
    assert kev["ctx_ver"] == ["Z39.88-2004"]
    assert kev["rft_val_fmt"] == [BOOK]
    assert kev["rft.btitle"] == ["Oʻtkan kunlar : roman"]
    assert kev["rft.au"] == ["Qodiriy, Abdulla"]
    assert kev["rft.isbn"] == ["978-9943-26-911-8"]
    assert (kev["rft.date"], kev["rft.pub"], kev["rft.place"]) == (
        ["2019"],
        ["Sharq"],
        ["Toshkent"],
    )
    assert kev["rft_id"] == ["https://lib.example/records/1/"]


def test_articles_are_journal_context_objects_and_other_kinds_dublin_core() -> None:
    article = record_data(
        resource_type="article",
        identifiers=[IdentifierData("issn", "0317-8471"), IdentifierData("doi", "10.1000/182")],
    )
    kev = parse_qs(context_object(article))
    assert (kev["rft_val_fmt"], kev["rft.genre"]) == ([JOURNAL], ["article"])
    assert kev["rft.atitle"] == ["Oʻtkan kunlar : roman"]
    assert kev["rft.issn"] == ["0317-8471"]
    assert kev["rft_id"] == ["info:doi/10.1000/182"]
    video = parse_qs(
        context_object(record_data(resource_type="video", contributors=[ContributorData("Ali")]))
    )
    assert (video["rft_val_fmt"], video["rft.type"], video["rft.creator"]) == (
        [DC],
        ["video"],
        ["Ali"],
    )


def test_the_record_page_carries_coins_unapi_and_alternates(client: Client) -> None:
    record = make_record()
    page = client.get(record.get_absolute_url()).content.decode()
    span = re.search(r'<span class="Z3988" title="([^"]+)"></span>', page)
    assert span is not None
    assert parse_qs(html.unescape(span.group(1)))["rft.btitle"] == ["Oʻtkan kunlar : roman"]
    assert f'<abbr class="unapi-id" title="record:{record.pk}"></abbr>' in page
    assert '<link rel="unapi-server" type="application/xml" title="unAPI" href="/unapi">' in page
    marcxml = f"/records/{record.pk}/export/marcxml/"
    assert f'type="application/marcxml+xml" title="MARCXML" href="{marcxml}"' in page
    alternate = client.get(marcxml)
    assert etree.fromstring(alternate.content).tag.endswith("collection")
    ld = re.search(r'<script type="application/ld\+json">(.+?)</script>', page, re.S)
    assert ld is not None and json.loads(ld.group(1))["@context"]


def test_unapi_lists_formats_and_sends_a_record_in_one(client: Client) -> None:
    record = make_record()
    formats = etree.fromstring(client.get("/unapi").content)
    assert [f.get("name") for f in formats] == ["marcxml", "oai_dc", "ris", "bibtex"]
    for_record = client.get("/unapi", {"id": f"record:{record.pk}"})
    assert for_record.status_code == 300
    assert etree.fromstring(for_record.content).get("id") == f"record:{record.pk}"
    ris = client.get("/unapi", {"id": f"record:{record.pk}", "format": "ris"}, follow=True)
    assert ris.status_code == 200 and b"TI  - " in ris.content
    assert client.get("/unapi", {"id": f"record:{record.pk}", "format": "pdf"}).status_code == 406
    assert client.get("/unapi", {"id": "item:1"}).status_code == 404


def test_unapi_does_not_reveal_a_draft(client: Client) -> None:
    draft = make_record(title="Qoralama")
    draft.status = RecordStatus.DRAFT
    draft.save(update_fields=["status"])
    assert client.get("/unapi", {"id": f"record:{draft.pk}"}).status_code == 404
