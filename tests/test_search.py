"""Search over the real catalogue: records reach the index through the outbox and come back
through the page, the API and the command line, each reader seeing only what they may see."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from kitobxon.accounts.models import User
from kitobxon.catalogue import services
from kitobxon.catalogue.data import ContributorData, IdentifierData, SubjectData
from kitobxon.catalogue.models import ItemStatus, Record, RecordStatus, ResourceType
from kitobxon.catalogue.tests.factories import branch, make_item, make_record
from kitobxon.search import indexing
from kitobxon.search.models import PendingChange, ZeroResultQuery

pytestmark = pytest.mark.django_db


def _library() -> dict[str, Record]:
    records = {
        "otkan": make_record(),
        "tili": make_record(
            title="Oʻzbek tili",
            subtitle="darslik",
            contributors=[ContributorData("Karimov, Nodir")],
            subjects=[SubjectData("Tilshunoslik")],
            identifiers=[IdentifierData("isbn", "9789943000018")],
            year=2015,
            work_key="ozbek-tili",
            abstract="",
        ),
        "cyrillic": make_record(
            title="Ўзбек тилининг изоҳли луғати",
            subtitle="",
            contributors=[ContributorData("Маъруфов, З.")],
            subjects=[SubjectData("Lugʻatlar")],
            identifiers=[],
            year=1981,
            work_key="izohli-lugat",
            abstract="",
        ),
        "russian": make_record(
            title="Минувшие дни",
            subtitle="роман",
            languages=["rus"],
            contributors=[ContributorData("Кадыри, Абдулла")],
            subjects=[SubjectData("Узбекская литература")],
            identifiers=[],
            year=2008,
            work_key="otkan-kunlar",
            resource_type="book",
            abstract="",
        ),
        "article": make_record(
            title="English for librarians",
            subtitle="",
            languages=["eng"],
            contributors=[ContributorData("Smith, Anne")],
            subjects=[SubjectData("Library science")],
            identifiers=[IdentifierData("issn", "0317-8471")],
            year=2021,
            work_key="english-librarians",
            resource_type="article",
            abstract="How libraries teach reading.",
        ),
    }
    indexing.drain()
    return records


def _titles(client: Client, query: str, **params: str) -> list[str]:
    response = client.get("/api/search", {"q": query, **params})
    assert response.status_code == 200, response.content
    return [hit["title"] for hit in response.json()["hits"]]


def test_a_saved_record_is_found_once_its_outbox_row_is_drained(client: Client) -> None:
    make_record(title="Sariq devni minib")
    assert PendingChange.objects.count() == 1
    assert _titles(client, "sariq dev") == []
    indexing.drain()
    assert PendingChange.objects.count() == 0
    assert _titles(client, "sariq dev") == ["Sariq devni minib"]


def test_records_are_indexed_when_their_transaction_commits(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        make_record(title="Yulduzli tunlar")
    assert PendingChange.objects.count() == 0
    assert _titles(client, "yulduzli") == ["Yulduzli tunlar"]


def test_every_spelling_of_uzbek_finds_the_same_records_and_the_exact_form_first(
    client: Client,
) -> None:
    _library()
    both = {"Oʻzbek tili", "Ўзбек тилининг изоҳли луғати"}
    for query in ("ozbek tili", "o'zbek tili", "oʻzbek tili", "ўзбек тили"):
        titles = _titles(client, query)
        assert titles == ["Oʻzbek tili", "Ўзбек тилининг изоҳли луғати"], query
    # The inflected form is itself an exact match for the dictionary's title.
    titles = _titles(client, "o‘zbek tilining")
    assert set(titles) == both
    assert titles[0] == "Ўзбек тилининг изоҳли луғати"


def test_a_russian_translation_is_found_in_cyrillic_and_by_its_stem(client: Client) -> None:
    _library()
    assert _titles(client, "минувший") == ["Минувшие дни"]
    assert _titles(client, "Qodiriy") == ["Oʻtkan kunlar"]


def test_facets_count_under_every_filter(client: Client) -> None:
    _library()
    body = client.get("/api/search", {"q": "", "lang": "uzb"}).json()
    assert body["total"] == 3
    lang = {f["value"]: f["count"] for f in body["facets"]["lang"]}
    assert lang == {"uzb": 3, "rus": 1, "eng": 1}  # the language facet ignores its own filter
    types = {f["value"]: f["count"] for f in body["facets"]["type"]}
    assert types == {"book": 3}
    both = client.get("/api/search", {"lang": ["uzb", "eng"], "type": "article"}).json()
    assert [h["title"] for h in both["hits"]] == ["English for librarians"]
    labels = {f["value"]: f["label"] for f in body["facets"]["lang"]}
    assert labels["uzb"] == "Oʻzbekcha"


def test_an_isbn_or_issn_typed_in_the_box_goes_straight_to_the_record(client: Client) -> None:
    records = _library()
    response = client.get("/search/", {"q": "978-9943-000-01-8"})
    assert response.status_code == 302
    assert response["Location"] == records["tili"].get_absolute_url()
    response = client.get("/search/", {"q": "0317-8471"})
    assert response["Location"] == records["article"].get_absolute_url()


def test_a_barcode_typed_in_the_box_goes_straight_to_the_record(client: Client) -> None:
    record = make_record(title="Shum bola")
    item = make_item(record)
    indexing.drain()
    response = client.get("/search/", {"q": item.barcode})
    assert response["Location"] == record.get_absolute_url()


def test_drafts_are_found_by_librarians_only(client: Client, librarian: User) -> None:
    record = make_record(title="Qoralama kitob")
    services.set_status(record, RecordStatus.DRAFT, by=None)
    indexing.drain()
    assert _titles(client, "qoralama") == []
    client.force_login(librarian)
    assert _titles(client, "qoralama") == ["Qoralama kitob"]


def test_a_withdrawn_or_deleted_record_leaves_the_index(client: Client) -> None:
    kept = make_record(title="Mehrobdan chayon")
    gone = make_record(title="Mehrobdan chayon ikkinchi nashr", work_key="x")
    indexing.drain()
    services.set_status(kept, RecordStatus.WITHDRAWN, by=None)
    services.delete_record(gone, by=None)
    indexing.drain()
    assert _titles(client, "mehrobdan") == []
    assert indexing.differences() == (set(), set(), set())


def test_availability_follows_the_copies(client: Client) -> None:
    record = make_record(title="Kecha va kunduz")
    item = make_item(record)
    indexing.drain()
    assert _titles(client, "kecha", availability="available") == ["Kecha va kunduz"]
    services.set_item_status(item, ItemStatus.ON_LOAN, by=None)
    indexing.drain()
    assert _titles(client, "kecha", availability="available") == []
    assert _titles(client, "kecha", availability="on_loan") == ["Kecha va kunduz"]
    body = client.get("/api/search", {"q": "kecha"}).json()
    assert body["facets"]["branch"] == [{"value": branch().name, "label": "Toshkent", "count": 1}]


def test_facet_values_are_named_in_the_readers_language(client: Client) -> None:
    """Facets a source fills (type) and search itself fills (availability) are named through
    one registry; a value nobody names (an unknown code in the URL) is shown as it is."""
    record = make_record(title="Kecha va kunduz")
    services.set_item_status(make_item(record), ItemStatus.ON_LOAN, by=None)
    indexing.drain()
    for language, expected in (("en", "On loan"), ("ru", "На руках"), ("uz", "Kitobxonda")):
        client.cookies["kitobxon_language"] = language
        body = client.get("/api/search", {"q": "kecha"}).json()
        named = {
            name: {f["value"]: f["label"] for f in values}
            for name, values in body["facets"].items()
        }
        with translation.override(language):
            assert named["availability"] == {"on_loan": translation.gettext("On loan")}
            assert named["type"] == {"book": str(dict(ResourceType.choices)["book"])}
        assert named["availability"]["on_loan"] == expected
        # A hit's own line on the results page names its type the same way.
        html = client.get("/search/", {"q": "kecha"}).content.decode()
        with translation.override(language):
            assert f"· {dict(ResourceType.choices)['book']}" in html
    page = client.get("/search/", {"q": "kecha", "collection": "no-such-code"})
    assert "no-such-code" in page.content.decode()


def test_the_results_page_shows_highlights_facets_and_shareable_urls(client: Client) -> None:
    _library()
    page = client.get("/search/", {"q": "o'zbek tili", "type": "book"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<mark>Oʻzbek</mark> <mark>tili</mark>" in html
    assert 'name="type" value="book" checked' in html
    assert 'hx-push-url="true"' in html
    partial = client.get("/search/", {"q": "o'zbek tili"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()
    assert "<mark>Oʻzbek</mark>" in partial.content.decode()


def test_the_results_page_escapes_what_the_reader_typed(client: Client) -> None:
    _library()
    html = client.get("/search/", {"q": '<script>alert("x")</script>'}).content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html


def test_a_malformed_query_is_searched_as_words_with_a_notice_in_the_readers_language(
    client: Client,
) -> None:
    _library()
    client.cookies["kitobxon_language"] = "en"
    body = client.get("/api/search", {"q": '"oʻzbek tili'}, headers={"Accept-Language": "en"})
    data = body.json()
    assert data["notice"] == "unbalanced-quote"
    assert data["notice_text"] == (
        "A quotation mark was not closed, so the words were searched for instead."
    )
    assert data["hits"][0]["title"] == "Oʻzbek tili"


def test_a_misspelt_query_finds_by_similarity_and_suggests_the_spelling(client: Client) -> None:
    _library()
    data = client.get("/api/search", {"q": "librarains"}).json()
    assert [h["title"] for h in data["hits"]] == ["English for librarians"]
    assert data["fuzzy"] is True
    assert data["did_you_mean"] == "librarians"


def test_autocomplete_offers_titles_authors_and_subjects(client: Client) -> None:
    _library()
    data = client.get("/api/suggest", {"q": "oʻtk"}).json()
    assert data["suggestions"][0] == {"text": "Oʻtkan kunlar", "field": "title"}
    authors = client.get("/api/suggest", {"q": "karim"}).json()["suggestions"]
    assert {"text": "Karimov, Nodir", "field": "author"} in authors
    html = client.get(
        "/search/suggest/",
        {"q": "oʻtk"},
        headers={"HX-Request": "true", "HX-Target": "site-suggestions"},
    )
    assert html.content.decode().startswith(
        '<datalist id="site-suggestions"><option value="Oʻtkan kunlar">'
    )


def test_zero_result_queries_are_counted_without_the_reader(
    patron_client: Client, librarian: User, client: Client
) -> None:
    _library()
    patron_client.get("/api/search", {"q": "Qwxz Zyqv"})
    patron_client.get("/api/search", {"q": "qwxz zyqv"})
    row = ZeroResultQuery.objects.get()
    assert (row.query, row.count) == ("qwxz zyqv", 2)
    assert patron_client.get("/search/zero-results/").status_code == 403
    client.force_login(librarian)
    page = client.get("/search/zero-results/")
    assert page.status_code == 200
    assert "qwxz zyqv" in page.content.decode()


def test_the_search_command_prints_hits_for_scripts() -> None:
    records = _library()
    out = StringIO()
    call_command("search", "o'zbek tili", "--filter", "lang=uzb", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["hits"][0] == {
        "id": f"record:{records['tili'].pk}",
        "title": "Oʻzbek tili",
        "score": data["hits"][0]["score"],
    }
    assert data["total"] == 2
    assert data["hits"][0]["score"] > data["hits"][1]["score"]


def test_reindex_rebuilds_the_index_equal_to_the_database() -> None:
    _library()
    PendingChange.objects.all().delete()
    make_record(title="Faqat bazada")  # not drained: the rebuild must still find it
    out = StringIO()
    call_command("reindex", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["documents"] == 6
    assert indexing.differences() == (set(), set(), set())
    call_command("reindex", "--verify", stdout=StringIO())


def test_the_health_check_asks_the_index(client: Client, settings, tmp_path) -> None:
    assert client.get("/healthz").json()["checks"]["search"] == "ok"
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings.SEARCH_INDEX_DIR = blocker
    body = client.get("/healthz").json()
    assert body["checks"]["search"].startswith("search index unreachable")
