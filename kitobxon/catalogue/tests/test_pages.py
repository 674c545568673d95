from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from kitobxon.accounts.models import User
from kitobxon.catalogue import services
from kitobxon.catalogue.models import Item, Record, RecordStatus
from kitobxon.catalogue.tests.factories import branch, make_item, make_record


def _json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_the_record_page_describes_the_edition_its_copies_and_other_editions(
    client: Client,
) -> None:
    record = make_record()
    make_item(record, "toshkent")
    make_item(record, "nukus")
    cyrillic = make_record(
        title="Ўтган кунлар", identifiers=[], languages=["uzb"], year=1992, work_key="otkan-kunlar"
    )
    response = client.get(record.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Oʻtkan kunlar" in html and "Qodiriy, Abdulla" in html
    assert "9789943269118" in html
    assert cyrillic.get_absolute_url() in html and "Ўтган кунлар" in html
    assert [(a.branch, a.available) for a in response.context["availability"]] == [
        ("Nukus", 1),
        ("Toshkent", 1),
    ]
    data = _json_ld(html)
    assert data["@type"] == "Book"
    assert data["name"] == "Oʻtkan kunlar : roman"
    assert data["author"] == [{"@type": "Person", "name": "Qodiriy, Abdulla"}]
    assert data["isbn"] == ["9789943269118"]
    assert '<meta property="og:title" content="Oʻtkan kunlar : roman">' in html


@pytest.mark.django_db
def test_a_dissertation_is_described_as_a_thesis(client: Client) -> None:
    record = make_record(resource_type="dissertation", identifiers=[])
    assert _json_ld(client.get(record.get_absolute_url()).content.decode())["@type"] == "Thesis"


@pytest.mark.django_db
def test_drafts_and_withdrawn_records_are_hidden_from_readers(
    client: Client, patron_client: Client, librarian: User
) -> None:
    draft = make_record(status=RecordStatus.DRAFT)
    services.set_status(draft, RecordStatus.DRAFT, by=None)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert patron_client.get(draft.get_absolute_url()).status_code == 404
    staff = Client()
    staff.force_login(librarian)
    assert staff.get(draft.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_the_record_page_makes_a_fixed_number_of_queries(
    client: Client, django_assert_max_num_queries
) -> None:
    record = make_record()
    for _ in range(5):
        make_item(record)
    with django_assert_max_num_queries(12):
        assert client.get(record.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_a_record_is_exported_from_its_page(client: Client) -> None:
    record = make_record()
    response = client.get(reverse("catalogue:export", args=[record.pk, "ris"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "Oʻtkan kunlar" in response.content.decode()


@pytest.mark.django_db
def test_the_cover_is_a_generated_svg_with_the_title_escaped(client: Client) -> None:
    record = make_record(title="<Kitob & qalam>")
    response = client.get(reverse("catalogue:cover", args=[record.pk]))
    assert response["Content-Type"] == "image/svg+xml"
    body = response.content.decode()
    assert "&lt;Kitob &amp; qalam&gt;" in body and "<Kitob" not in body


@pytest.mark.django_db
def test_patrons_cannot_open_the_cataloguing_pages(patron_client: Client) -> None:
    record = make_record()
    for url in (
        reverse("catalogue:record_create"),
        reverse("catalogue:record_edit", args=[record.pk]),
        reverse("catalogue:item_create", args=[record.pk]),
        reverse("catalogue:imports"),
    ):
        assert patron_client.get(url).status_code == 404, url


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "title": "Kecha va kunduz",
        "contributors": "Choʻlpon | author\nKarimov, Naim | editor",
        "publisher": "Sharq",
        "place": "Toshkent",
        "year": "2018",
        "languages": "uzb",
        "resource_type": "book",
        "audience": "general",
        "subjects": "Oʻzbek adabiyoti",
        "isbn": "",
        "status": "published",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_a_librarian_catalogues_a_record_and_is_warned_about_a_duplicate(
    librarian: User,
) -> None:
    client = Client()
    client.force_login(librarian)
    created = client.post(reverse("catalogue:record_create"), _form())
    assert created.status_code == 302
    record = Record.objects.get()
    assert [(c.agent.name, c.role) for c in record.contributions.all()] == [
        ("Choʻlpon", "author"),
        ("Karimov, Naim", "editor"),
    ]
    assert record.created_by == librarian

    again = client.post(reverse("catalogue:record_create"), _form())
    assert again.status_code == 200
    assert again.context["duplicates"] == [record]
    assert Record.objects.count() == 1
    forced = client.post(reverse("catalogue:record_create"), _form(save_anyway="on"))
    assert forced.status_code == 302
    assert Record.objects.count() == 2


@pytest.mark.django_db
def test_editing_a_record_keeps_what_the_form_does_not_show(librarian: User) -> None:
    record = make_record(title_variants=["Ўтган кунлар"])
    client = Client()
    client.force_login(librarian)
    page = client.get(reverse("catalogue:record_edit", args=[record.pk]))
    form = page.context["form"]
    data = {k: ("" if v is None else str(v)) for k, v in form.initial.items()}
    data["title"] = "Oʻtkan kunlar (tanlangan asarlar)"
    response = client.post(reverse("catalogue:record_edit", args=[record.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    record.refresh_from_db()
    assert record.title == "Oʻtkan kunlar (tanlangan asarlar)"
    assert record.title_variants == ["Ўтган кунлар"]
    assert record.contributions.get().agent.variants == ["Қодирий, Абдулла"]
    assert record.identifiers.get().normalized == "9789943269118"


@pytest.mark.django_db
def test_a_librarian_adds_copies_and_gets_labels(librarian: User) -> None:
    record = make_record()
    nukus = branch("nukus")
    client = Client()
    client.force_login(librarian)
    response = client.post(
        reverse("catalogue:item_create", args=[record.pk]),
        {"branch": nukus.pk, "copies": "3", "call_number": "84(5Ў)", "barcode": ""},
    )
    assert response.status_code == 302
    items = list(Item.objects.filter(record=record))
    assert len(items) == 3 and all(i.branch == nukus for i in items)
    labels = client.get(response["Location"])
    html = labels.content.decode()
    assert all(item.barcode in html for item in items)
    assert "84(5Ў)" in html


def test_contributor_roles_may_be_written_in_any_interface_language() -> None:
    from kitobxon.catalogue.forms import role_words

    words = role_words()
    assert words["editor"] == "editor"
    assert words["редактор"] == "editor"
    assert words["tarjimon"] == "translator"


@pytest.mark.django_db
def test_the_header_search_box_finds_records_by_title_and_name(client: Client) -> None:
    wanted = make_record()
    make_record(title="Mehrobdan chayon", identifiers=[], work_key="")
    response = client.get(reverse("catalogue:records"), {"q": "kunlar qodiriy"})
    assert [r.pk for r in response.context["page"]] == [wanted.pk]
    assert "Oʻtkan kunlar" in response.content.decode()


@pytest.mark.django_db
def test_several_numbers_of_one_classification_survive_an_edit(librarian: User) -> None:
    from kitobxon.catalogue.data import ClassificationData

    record = make_record(
        classifications=[ClassificationData("lcc", "PL55.U8"), ClassificationData("lcc", "PK1")]
    )
    client = Client()
    client.force_login(librarian)
    form = client.get(reverse("catalogue:record_edit", args=[record.pk])).context["form"]
    assert form.initial["lcc"] == "PL55.U8; PK1"
    data = {k: ("" if v is None else str(v)) for k, v in form.initial.items()}
    assert client.post(reverse("catalogue:record_edit", args=[record.pk]), data).status_code == 302
    assert [c.number for c in record.classifications.order_by("id")] == ["PL55.U8", "PK1"]
