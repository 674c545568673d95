"""Reference managers find records: COinS and unAPI on record and results pages, alternates to
MARCXML/DC."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from lxml import etree

from kitobxon.accounts.models import Role
from kitobxon.catalogue.data import ContributorData, IdentifierData
from kitobxon.catalogue.models import Record, RecordStatus
from kitobxon.catalogue.tests.factories import make_record, record_data
from kitobxon.protocols.web.coins import BOOK, DC, JOURNAL, context_object
from kitobxon.protocols.web.views import result_extras
from kitobxon.search import indexing

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


def test_the_record_page_dublin_core_alternate_leads_to_the_record_in_dublin_core(
    client: Client,
) -> None:
    record = make_record()
    page = etree.HTML(client.get(record.get_absolute_url()).content)
    (link,) = page.xpath("//head/link[@rel='alternate'][@title='Dublin Core']")
    assert link.get("type") == "application/xml"
    response = client.get(link.get("href"))
    assert response.status_code == 200
    collection = etree.fromstring(response.content)
    names = {"dc": "http://purl.org/dc/elements/1.1/"}
    assert collection.tag == "collection"
    (dc,) = collection
    assert dc.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert dc.xpath("dc:title/text()", namespaces=names) == ["Oʻtkan kunlar : roman"]
    assert dc.xpath("dc:creator/text()", namespaces=names) == ["Qodiriy, Abdulla"]


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


# --- results pages --------------------------------------------------------------------------

SPAN = re.compile(r'<span class="Z3988" title="([^"]*)"></span>')
UNAPI_ID = re.compile(r'<abbr class="unapi-id" title="(record:\d+)"></abbr>')


def spans(page: str) -> list[dict[str, list[str]]]:
    return [parse_qs(html.unescape(title)) for title in SPAN.findall(page)]


def _shelf() -> dict[str, Record]:
    """Three published records found by ``kitob``, one of them with markup in its names, and a
    draft that is found by the same word only by librarians."""
    shelf = {
        "alpha": make_record(
            title="Alpha kitob",
            subtitle="",
            contributors=[ContributorData("Karimov, Nodir")],
            year=2001,
            identifiers=[],
            work_key="alpha",
        ),
        "tricky": make_record(
            title='Kitob & "qalam" <b>',
            subtitle="",
            contributors=[ContributorData("O'Brien, <Pat> & Co")],
            year=2002,
            identifiers=[],
            work_key="tricky",
        ),
        "gamma": make_record(
            title="Gamma kitob",
            subtitle="tarix",
            contributors=[ContributorData("Tosheva, Lola")],
            year=2003,
            identifiers=[IdentifierData("isbn", "978-3-16-148410-0")],
            work_key="gamma",
        ),
        "draft": make_record(
            title="Yashirin qoralama kitob",
            subtitle="",
            year=2004,
            identifiers=[],
            work_key="yashirin",
        ),
    }
    Record.objects.filter(pk=shelf["draft"].pk).update(status=RecordStatus.DRAFT)
    indexing.enqueue("record", [shelf["draft"].pk])
    indexing.drain()
    return shelf


def test_a_results_page_carries_a_coins_span_and_unapi_id_per_readable_record(
    client: Client,
) -> None:
    shelf = _shelf()
    response = client.get("/search/", {"q": "kitob"})
    assert response.status_code == 200
    page = response.content.decode()
    found = {kev["rft.btitle"][0]: kev for kev in spans(page)}
    assert len(SPAN.findall(page)) == 3
    assert sorted(found) == ["Alpha kitob", "Gamma kitob : tarix", 'Kitob & "qalam" <b>']
    assert found['Kitob & "qalam" <b>']["rft.au"] == ["O'Brien, <Pat> & Co"]
    assert (found["Alpha kitob"]["rft.au"], found["Alpha kitob"]["rft.date"]) == (
        ["Karimov, Nodir"],
        ["2001"],
    )
    gamma = found["Gamma kitob : tarix"]
    assert (gamma["rft.au"], gamma["rft.date"]) == (["Tosheva, Lola"], ["2003"])
    assert gamma["rft_id"] == [f"http://testserver/records/{shelf['gamma'].pk}/"]
    assert sorted(UNAPI_ID.findall(page)) == sorted(
        f"record:{shelf[name].pk}" for name in ("alpha", "tricky", "gamma")
    )
    assert '<link rel="unapi-server" type="application/xml" title="unAPI" href="/unapi">' in page
    assert 'Kitob & "qalam" <b>' not in page
    assert "qoralama" not in page.lower()


def test_the_results_span_is_the_record_page_span(client: Client) -> None:
    record = make_record()
    indexing.drain()
    results = client.get("/search/", {"q": "kunlar"}).content.decode()
    record_page = client.get(record.get_absolute_url()).content.decode()
    assert SPAN.findall(results) == SPAN.findall(record_page)
    assert len(SPAN.findall(results)) == 1


def test_an_htmx_swap_of_the_results_carries_the_spans(client: Client) -> None:
    _shelf()
    partial = client.get("/search/", {"q": "kitob"}, headers={"HX-Request": "true"})
    page = partial.content.decode()
    assert "<html" not in page
    assert len(SPAN.findall(page)) == 3
    assert len(UNAPI_ID.findall(page)) == 3


def test_a_record_turned_draft_before_the_index_catches_up_gets_no_span(client: Client) -> None:
    shelf = _shelf()
    Record.objects.filter(pk=shelf["alpha"].pk).update(status=RecordStatus.DRAFT)  # not reindexed
    page = client.get("/search/", {"q": "kitob"}).content.decode()
    assert f'href="/records/{shelf["alpha"].pk}/"' in page  # still a hit, from the index
    titles = sorted(kev["rft.btitle"][0] for kev in spans(page))
    assert titles == ["Gamma kitob : tarix", 'Kitob & "qalam" <b>']
    assert f"record:{shelf['alpha'].pk}" not in page


def test_a_librarian_gets_the_span_of_a_draft(make_user: Any) -> None:
    shelf = _shelf()
    librarian = Client()
    librarian.force_login(make_user(Role.LIBRARIAN))
    page = librarian.get("/search/", {"q": "kitob"}).content.decode()
    assert "Yashirin qoralama kitob" in [kev["rft.btitle"][0] for kev in spans(page)]
    assert f"record:{shelf['draft'].pk}" in page


def test_the_spans_of_a_page_cost_three_queries_however_many_hits(
    django_assert_num_queries: Any,
) -> None:
    records = [
        make_record(title=f"Kitob {n}", work_key=f"kitob-{n}", identifiers=[]) for n in range(6)
    ]
    request = RequestFactory().get("/search/")
    request.user = AnonymousUser()
    hits = [{"kind": "record", "id": str(r.pk), "key": f"record:{r.pk}"} for r in records]
    with django_assert_num_queries(3):
        extras = result_extras(request, hits)
    assert sorted(extras) == sorted(h["key"] for h in hits)
    with django_assert_num_queries(3):
        assert len(result_extras(request, hits[:2])) == 2
    with django_assert_num_queries(0):
        assert result_extras(request, [{"kind": "item", "id": "1", "key": "item:1"}]) == {}


def test_a_results_page_costs_the_same_queries_for_three_records_and_for_six(
    client: Client,
) -> None:
    _shelf()

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/search/", {"q": "kitob"}).status_code == 200
        return len(captured)

    three = count()
    for n in range(3):
        make_record(title=f"Yana kitob {n}", work_key=f"yana-{n}", identifiers=[])
    indexing.drain()
    six = count()
    assert len(SPAN.findall(client.get("/search/", {"q": "kitob"}).content.decode())) == 6
    assert six == three
