"""Collections and faculties: the services, the librarians' pages, the record pages and the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import User
from kitobxon.accounts.testing import _english, client, make_user, patron_client
from kitobxon.catalogue import services
from kitobxon.catalogue.models import Collection, Record, RecordStatus, Tombstone
from kitobxon.catalogue.tests.factories import make_record, record_data
from kitobxon.core.models import AuditEvent
from kitobxon.core.testing import race, session_queries
from kitobxon.search import indexing
from kitobxon.search.models import PendingChange

__all__ = ["_english", "client", "make_user", "patron_client"]

T0 = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the services' clock."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


@pytest.fixture
def philology(db: None) -> Collection:
    return services.create_collection(
        code="philology",
        kind=Collection.Kind.FACULTY,
        name="Filologiya fakulteti",
        names={"en": "Faculty of Philology", "ru": "Филологический факультет"},
        by=None,
    )


@pytest.fixture
def rare(db: None) -> Collection:
    return services.create_collection(
        code="rare-books",
        kind=Collection.Kind.COLLECTION,
        name="Nodir kitoblar",
        names={"en": "Rare books"},
        description="Qoʻlyozmalar va toshbosma kitoblar.",
        by=None,
    )


@pytest.fixture
def staff(librarian: User) -> Client:
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english.force_login(librarian)
    return english


def book(title: str) -> Record:
    return make_record(title=title, identifiers=[], work_key=title.lower())


def audit_actions(obj: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


# --- Services -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_collection_is_created_with_its_names_and_audited(
    philology: Collection, rare: Collection
) -> None:
    philology.refresh_from_db()
    assert (philology.code, philology.kind, philology.set_spec) == (
        "philology",
        "faculty",
        "faculty:philology",
    )
    with translation.override("ru"):
        assert philology.local_name == "Филологический факультет"
    with translation.override("en-gb"):
        assert philology.local_name == "Faculty of Philology"
    with translation.override("kaa"):
        assert philology.local_name == "Filologiya fakulteti"  # no Karakalpak name: the name
    assert audit_actions(rare) == ["collection.created"]


@pytest.mark.django_db
def test_a_collection_code_must_be_a_free_slug_and_its_kind_known(rare: Collection) -> None:
    with pytest.raises(services.CollectionCodeTaken):
        services.create_collection(code="rare-books", kind="faculty", name="Boshqa", by=None)
    for code in ("Rare Books", "rare_books!", "", "x" * 65):
        with pytest.raises(services.InvalidCollection):
            services.create_collection(code=code, kind="collection", name="X", by=None)
    with pytest.raises(services.InvalidCollection):
        services.create_collection(code="museum", kind="museum", name="Muzey", by=None)
    with pytest.raises(services.InvalidCollection):
        services.create_collection(code="blank", kind="collection", name="  ", by=None)
    assert Collection.objects.count() == 1


@pytest.mark.django_db
def test_putting_a_record_in_collections_gives_it_a_new_datestamp(
    philology: Collection, rare: Collection, at: Callable[[datetime], None]
) -> None:
    at(T0)
    record = book("Devonu lugʻotit turk")
    at(T0 + timedelta(hours=1))
    assert services.set_record_collections(record, [philology, rare], by=None)
    record.refresh_from_db()
    assert record.modified_at == T0 + timedelta(hours=1)
    assert set(record.collections.values_list("code", flat=True)) == {"philology", "rare-books"}

    at(T0 + timedelta(hours=2))
    assert not services.set_record_collections(record, [rare, philology], by=None)
    record.refresh_from_db()
    assert record.modified_at == T0 + timedelta(hours=1)  # nothing changed, nothing to harvest

    assert services.set_record_collections(record, [rare], by=None)
    record.refresh_from_db()
    assert record.modified_at == T0 + timedelta(hours=2)
    changes = list(
        AuditEvent.objects.filter(action="record.collections_changed", object_id=str(record.pk))
        .order_by("at")
        .values_list("changes", flat=True)
    )
    assert changes == [
        {"added": ["philology", "rare-books"], "removed": []},
        {"added": [], "removed": ["philology"]},
    ]


@pytest.mark.django_db
def test_a_new_code_moves_the_records_to_a_new_set_and_a_new_datestamp(
    rare: Collection, at: Callable[[datetime], None]
) -> None:
    at(T0)
    inside, outside = book("Boburnoma"), book("Xamsa")
    services.set_record_collections(inside, [rare], by=None)
    at(T0 + timedelta(days=1))
    services.update_collection(rare, description="Yangi tavsif", by=None)
    inside.refresh_from_db()
    assert inside.modified_at == T0  # the description is not in any record's header
    services.update_collection(rare, code="nodir", by=None)
    inside.refresh_from_db()
    outside.refresh_from_db()
    assert inside.modified_at == T0 + timedelta(days=1)
    assert outside.modified_at == T0
    assert audit_actions(rare) == ["collection.created", "collection.changed", "collection.changed"]
    other = services.create_collection(code="other", kind="collection", name="Boshqa", by=None)
    with pytest.raises(services.CollectionCodeTaken):
        services.update_collection(other, code="nodir", by=None)


@pytest.mark.django_db
def test_a_collection_with_records_is_deleted_only_when_they_are_taken_out(
    rare: Collection, philology: Collection, at: Callable[[datetime], None]
) -> None:
    at(T0)
    record = book("Boburnoma")
    services.set_record_collections(record, [rare, philology], by=None)
    with pytest.raises(services.CollectionNotEmpty):
        services.delete_collection(rare, by=None)
    assert Collection.objects.filter(pk=rare.pk).exists()
    at(T0 + timedelta(days=1))
    services.delete_collection(rare, by=None, detach=True)
    record.refresh_from_db()
    assert list(record.collections.all()) == [philology]
    assert record.modified_at == T0 + timedelta(days=1)
    empty = services.create_collection(code="empty", kind="collection", name="Boʻsh", by=None)
    services.delete_collection(empty, by=None)
    assert set(Collection.objects.values_list("code", flat=True)) == {"philology"}
    assert AuditEvent.objects.filter(action="collection.deleted").count() == 2


@pytest.mark.django_db
def test_a_published_record_returned_to_draft_leaves_a_tombstone_until_republished(
    at: Callable[[datetime], None],
) -> None:
    at(T0)
    record = book("Sarob")
    at(T0 + timedelta(days=1))
    services.set_status(record, RecordStatus.DRAFT, by=None)
    tombstone = Tombstone.objects.get(record_id=record.pk)
    assert (tombstone.deleted_at, tombstone.reason) == (T0 + timedelta(days=1), "draft")
    at(T0 + timedelta(days=2))
    services.set_status(record, RecordStatus.PUBLISHED, by=None)
    assert not Tombstone.objects.filter(record_id=record.pk).exists()

    data = record_data(title="Qoralama", identifiers=[], work_key="q")
    never = services.save_records([data], by=None, status=RecordStatus.DRAFT, targets=[None])
    services.set_status(never[0].record, RecordStatus.DRAFT, by=None)
    services.set_status(never[0].record, RecordStatus.WITHDRAWN, by=None)
    services.set_status(never[0].record, RecordStatus.DRAFT, by=None)
    # Withdrawn, it was reported deleted; back to draft, it still is.
    assert Tombstone.objects.get(record_id=never[0].record_id).reason == "withdrawn"
    draft = services.save_records(
        [record_data(title="Qoralama 2", identifiers=[], work_key="q2")],
        by=None,
        status=RecordStatus.DRAFT,
        targets=[None],
    )[0].record
    services.set_status(draft, RecordStatus.DRAFT, by=None)
    assert not Tombstone.objects.filter(record_id=draft.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_librarians_changing_a_records_collections_at_once_leave_one_of_their_choices() -> None:
    codes = ["a", "b", "c", "d"]
    groups = [
        services.create_collection(code=code, kind="collection", name=code.upper(), by=None)
        for code in codes
    ]
    record = book("Boburnoma")
    choices = [groups[:2], groups[1:3], groups[2:], groups[::2], [], groups]
    actions = [
        lambda chosen=chosen: services.set_record_collections(record, chosen, by=None)
        for chosen in choices
    ]
    results = race(*actions)
    assert results == ["ok"] * len(choices)
    final = set(record.collections.all())
    assert final in [set(chosen) for chosen in choices]
    assert Record.collections.through.objects.filter(record=record).count() == len(final)


# --- Librarians' pages ----------------------------------------------------------------------


@pytest.mark.django_db
def test_only_librarians_open_the_collection_pages(
    client: Client, patron_client: Client, staff: Client, rare: Collection
) -> None:
    urls = [
        reverse("catalogue:collections"),
        reverse("catalogue:collection_create"),
        reverse("catalogue:collection_edit", args=[rare.pk]),
    ]
    for reader in (client, patron_client):
        for url in urls:
            assert reader.get(url).status_code == 404, url
        delete = reverse("catalogue:collection_delete", args=[rare.pk])
        assert reader.post(delete).status_code == 404
    for url in urls:
        assert staff.get(url).status_code == 200, url
    assert Collection.objects.filter(pk=rare.pk).exists()


@pytest.mark.django_db
def test_a_librarian_creates_a_faculty_with_names_in_each_language(staff: Client) -> None:
    form = staff.get(reverse("catalogue:collection_create")).content.decode()
    for code, _language in settings.LANGUAGES:
        assert f'name="name_{code.replace("-", "_")}"' in form
    response = staff.post(
        reverse("catalogue:collection_create"),
        {
            "code": "history",
            "kind": "faculty",
            "name": "Tarix fakulteti",
            "name_en": "Faculty of History",
            "name_uz_cyrl": "Тарих факультети",
            "name_ru": "",
            "description": "",
        },
    )
    assert response.status_code == 302
    history = Collection.objects.get(code="history")
    assert history.kind == "faculty"
    assert history.names == {"en": "Faculty of History", "uz-cyrl": "Тарих факультети"}
    listing = staff.get(reverse("catalogue:collections")).content.decode()
    assert "Faculty of History" in listing and "<code>history</code>" in listing


@pytest.mark.django_db
def test_a_taken_or_malformed_code_is_explained_on_the_form(
    staff: Client, rare: Collection
) -> None:
    fields = {"kind": "collection", "name": "Boshqa", "description": ""}
    taken = staff.post(reverse("catalogue:collection_create"), {**fields, "code": "rare-books"})
    assert taken.status_code == 200
    assert "Another collection or faculty already has this code." in taken.content.decode()
    bad = staff.post(reverse("catalogue:collection_create"), {**fields, "code": "Rare books"})
    assert bad.status_code == 200 and bad.context["form"].errors["code"]
    assert Collection.objects.count() == 1


@pytest.mark.django_db
def test_a_librarian_renames_and_deletes_a_collection(staff: Client, rare: Collection) -> None:
    record = book("Boburnoma")
    services.set_record_collections(record, [rare], by=None)
    edit = reverse("catalogue:collection_edit", args=[rare.pk])
    form = staff.get(edit).context["form"]
    assert form.initial["name_en"] == "Rare books"
    data = {k: ("" if v is None else str(v)) for k, v in form.initial.items()}
    assert staff.post(edit, {**data, "name_ru": "Редкие книги"}).status_code == 302
    rare.refresh_from_db()
    assert rare.names == {"en": "Rare books", "ru": "Редкие книги"}

    delete = reverse("catalogue:collection_delete", args=[rare.pk])
    refused = staff.post(delete, follow=True)
    assert "Records still belong to this collection" in refused.content.decode()
    assert Collection.objects.filter(pk=rare.pk).exists()
    assert staff.post(delete, {"detach": "on"}).status_code == 302
    assert not Collection.objects.filter(pk=rare.pk).exists()
    assert Record.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db
def test_the_collection_list_costs_a_fixed_number_of_queries(
    staff: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    for n in range(8):
        collection = services.create_collection(
            code=f"c{n}", kind="collection", name=f"Toʻplam {n}", by=None
        )
        services.set_record_collections(book(f"Kitob {n}"), [collection], by=None)
    staff.get(reverse("catalogue:collections"))  # the session is read and refreshed once
    # (session), user, its groups, collections with their counts
    with django_assert_num_queries(session_queries() + 3):
        html = staff.get(reverse("catalogue:collections")).content.decode()
    assert html.count("?collection=c") == 8


@pytest.mark.django_db
def test_the_record_form_puts_a_record_in_collections(
    staff: Client, philology: Collection, rare: Collection, at: Callable[[datetime], None]
) -> None:
    at(T0)
    form = {
        "title": "Alisher Navoiy gʻazallarida ramz",
        "contributors": "Karimova, Dilnoza | author",
        "year": "2021",
        "languages": "uzb",
        "resource_type": "dissertation",
        "audience": "academic",
        "status": "published",
        "collections": [str(philology.pk), str(rare.pk)],
    }
    page = staff.get(reverse("catalogue:record_create")).content.decode()
    assert "<legend>Collections and faculties" in page
    assert "Faculty of Philology (Faculty or department)" in page
    assert staff.post(reverse("catalogue:record_create"), form).status_code == 302
    record = Record.objects.get()
    assert set(record.collections.all()) == {philology, rare}

    edit = reverse("catalogue:record_edit", args=[record.pk])
    assert set(staff.get(edit).context["form"].initial["collections"]) == {philology.pk, rare.pk}
    at(T0 + timedelta(days=1))
    assert staff.post(edit, {**form, "collections": [str(philology.pk)]}).status_code == 302
    record.refresh_from_db()
    assert list(record.collections.all()) == [philology]
    assert record.modified_at == T0 + timedelta(days=1)


# --- What readers see -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_record_page_names_its_faculty_and_collections_in_the_readers_language(
    client: Client, philology: Collection, rare: Collection
) -> None:
    record = book("Boburnoma")
    services.set_record_collections(record, [philology, rare], by=None)
    html = client.get(record.get_absolute_url()).content.decode()
    assert "<dt>Faculty or department</dt>" in html and "Faculty of Philology" in html
    assert "<dt>Collections</dt>" in html and "Rare books" in html
    russian = Client()
    russian.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    assert "Филологический факультет" in russian.get(record.get_absolute_url()).content.decode()
    listed = client.get(reverse("catalogue:records"), {"collection": "rare-books"})
    assert [r.pk for r in listed.context["page"]] == [record.pk]
    assert "Records in “Rare books”." in listed.content.decode()
    assert client.get(reverse("catalogue:records"), {"collection": "nowhere"}).status_code == 404


@pytest.mark.django_db
def test_the_record_page_still_costs_a_fixed_number_of_queries(
    client: Client, philology: Collection, rare: Collection, django_assert_max_num_queries: Any
) -> None:
    record = book("Boburnoma")
    services.set_record_collections(record, [philology, rare], by=None)
    with django_assert_max_num_queries(13):
        assert client.get(record.get_absolute_url()).status_code == 200


# --- Search ---------------------------------------------------------------------------------


def _search(params: dict[str, Any], language: str = "en") -> dict[str, Any]:
    reader = Client()
    reader.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = reader.get("/api/search", params)
    assert response.status_code == 200, response.content
    return dict(response.json())


def _found(params: dict[str, Any]) -> list[str]:
    return sorted(hit["title"] for hit in _search(params)["hits"])


def _facet(body: dict[str, Any], name: str) -> dict[str, tuple[str, int]]:
    return {f["value"]: (f["label"], f["count"]) for f in body["facets"][name]}


@pytest.mark.django_db
def test_search_narrows_to_a_faculty_or_a_collection_named_in_the_readers_language(
    philology: Collection, rare: Collection
) -> None:
    services.set_record_collections(book("Boburnoma"), [philology, rare], by=None)
    services.set_record_collections(book("Xamsa"), [philology], by=None)
    draft = book("Qoralama")
    services.set_status(draft, RecordStatus.DRAFT, by=None)
    services.set_record_collections(draft, [philology, rare], by=None)
    book("Devon")
    indexing.drain()

    assert _found({"faculty": "philology"}) == ["Boburnoma", "Xamsa"]
    assert _found({"collection": "rare-books"}) == ["Boburnoma"]
    assert _found({"q": "collection:rare-books"}) == ["Boburnoma"]
    assert _found({"faculty": "philology", "collection": "rare-books"}) == ["Boburnoma"]
    body = _search({})
    assert _facet(body, "faculty") == {"philology": ("Faculty of Philology", 2)}
    assert _facet(body, "collection") == {"rare-books": ("Rare books", 1)}
    russian = _search({}, "ru")
    assert _facet(russian, "faculty") == {"philology": ("Филологический факультет", 2)}
    assert _facet(russian, "collection") == {"rare-books": ("Nodir kitoblar", 1)}

    page = Client().get("/search/", {"faculty": "philology"}).content.decode()
    assert 'name="faculty" value="philology" checked' in page
    assert "<summary>Faculty or department</summary>" in page
    assert "<span>Faculty of Philology</span>" in page
    assert 'name="collection" value="rare-books"' in page
    assert "Faculty of Philology <span aria-hidden" in page  # the chip above the results


@pytest.mark.django_db
def test_changing_a_records_collections_or_a_collections_code_reindexes_its_records(
    philology: Collection, rare: Collection
) -> None:
    record = book("Boburnoma")
    indexing.drain()
    assert services.set_record_collections(record, [philology, rare], by=None)
    assert list(PendingChange.objects.values_list("object_id", flat=True)) == [str(record.pk)]
    indexing.drain()
    assert _found({"faculty": "philology"}) == ["Boburnoma"]

    services.set_record_collections(record, [philology], by=None)
    indexing.drain()
    assert _found({"collection": "rare-books"}) == []

    services.update_collection(philology, code="filologiya", by=None)
    indexing.drain()
    assert _found({"faculty": "philology"}) == []
    assert _found({"faculty": "filologiya"}) == ["Boburnoma"]

    services.update_collection(philology, kind=Collection.Kind.COLLECTION, by=None)
    indexing.drain()
    assert _found({"faculty": "filologiya"}) == []
    assert _found({"collection": "filologiya"}) == ["Boburnoma"]

    services.delete_collection(philology, by=None, detach=True)
    assert list(PendingChange.objects.values_list("object_id", flat=True)) == [str(record.pk)]
    indexing.drain()
    assert _found({"collection": "filologiya"}) == []
    assert _search({})["facets"]["collection"] == []


@pytest.mark.django_db
def test_the_results_page_names_all_its_faculties_and_collections_in_one_query() -> None:
    def queries_of_the_page() -> tuple[int, int]:
        """All the page's queries, and those reading collections."""
        indexing.drain()
        reader = Client()
        reader.get("/search/")  # the session and the language settle first
        with CaptureQueriesContext(connection) as captured:
            page = reader.get("/search/", {"faculty": "f0"}).content.decode()
        assert "<span>Faculty or department 0</span>" in page
        named = [q for q in captured if 'FROM "catalogue_collection"' in q["sql"]]
        return len(captured), len(named)

    def gather(n: int) -> None:
        for kind in Collection.Kind:
            collection = services.create_collection(
                code=f"{kind[0]}{n}", kind=kind, name=f"{kind.label} {n}", by=None
            )
            services.set_record_collections(book(f"Kitob {kind} {n}"), [collection], by=None)

    gather(0)
    total, named = queries_of_the_page()
    assert named == 1
    for n in range(1, 6):
        gather(n)
    assert queries_of_the_page() == (total, 1)


@pytest.mark.django_db
def test_a_facet_names_only_codes_of_its_own_kind(philology: Collection, rare: Collection) -> None:
    from kitobxon.catalogue.search import collection_names

    with translation.override("en"):
        named = collection_names(
            {"faculty": ["philology", "rare-books"], "collection": ["philology"]}
        )
    # A collection's code typed as a faculty (and the other way round) is not given its name.
    assert named == {"faculty": {"philology": "Faculty of Philology"}, "collection": {}}


@pytest.mark.django_db
def test_the_record_page_links_its_faculty_and_collections_to_the_search(
    client: Client, philology: Collection, rare: Collection
) -> None:
    record = book("Boburnoma")
    services.set_record_collections(record, [philology, rare], by=None)
    indexing.drain()
    html = client.get(record.get_absolute_url()).content.decode()
    assert '<a href="/search/?faculty=philology">Faculty of Philology</a>' in html
    assert '<a href="/search/?collection=rare-books">Rare books</a>' in html
    found = client.get("/search/?faculty=philology").content.decode()
    assert record.get_absolute_url() in found


# --- API ------------------------------------------------------------------------------------


def _bearer(user: User) -> dict[str, str]:
    _token, secret = accounts.create_access_token(user, name="test")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.django_db
def test_the_api_gives_and_takes_collection_codes(
    librarian: User, philology: Collection, rare: Collection
) -> None:
    api = Client()
    headers = _bearer(librarian)
    payload = {"title": "Qaraqalpaq dástanı", "languages": ["kaa"], "collections": ["philology"]}
    created = api.post("/api/records", payload, content_type="application/json", headers=headers)
    assert created.status_code == 201
    record_id = created.json()["id"]
    assert created.json()["collections"] == ["philology"]

    kept = api.put(
        f"/api/records/{record_id}",
        {"title": "Qaraqalpaq dástanı", "languages": ["kaa"]},
        content_type="application/json",
        headers=headers,
    )
    assert kept.json()["collections"] == ["philology"]  # left out: kept as it was
    both = api.put(
        f"/api/records/{record_id}",
        {**payload, "collections": ["rare-books", "philology"]},
        content_type="application/json",
        headers=headers,
    )
    assert both.json()["collections"] == ["philology", "rare-books"]
    assert Client().get("/api/records", {"collection": "rare-books"}).json()["count"] == 1
    assert Client().get("/api/records", {"collection": "maps"}).json()["count"] == 0
    cleared = api.put(
        f"/api/records/{record_id}",
        {**payload, "collections": []},
        content_type="application/json",
        headers=headers,
    )
    assert cleared.json()["collections"] == []

    unknown = api.post(
        "/api/records",
        {**payload, "collections": ["philology", "nowhere", "atlantis"]},
        content_type="application/json",
        headers=headers,
    )
    assert unknown.status_code == 422
    assert unknown.json() == {"detail": "Unknown collection or faculty: atlantis, nowhere"}
    assert Record.objects.count() == 1


@pytest.mark.django_db
def test_the_record_list_api_reads_collections_in_a_fixed_number_of_queries(
    philology: Collection, django_assert_num_queries: Callable[..., Any]
) -> None:
    for n in range(5):
        services.set_record_collections(book(f"Kitob {n}"), [philology], by=None)
    # count, records, 4 prefetches of with_details, collections
    with django_assert_num_queries(7):
        body = Client().get("/api/records").json()
    assert [item["collections"] for item in body["items"]] == [["philology"]] * 5


# --- Demo -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_puts_dissertations_in_faculties_and_classics_in_a_collection() -> None:
    from kitobxon.catalogue import demo

    own = [data for data, _copies in demo.project_records()]
    saved = services.save_records(own, by=None)
    first = demo._collections(saved, own)
    stamps = dict(Record.objects.values_list("pk", "modified_at"))
    changes = AuditEvent.objects.filter(action="record.collections_changed").count()
    demo._collections(saved, own)  # safe to run again: nothing moves, nothing is re-stamped
    assert dict(Record.objects.values_list("pk", "modified_at")) == stamps
    assert AuditEvent.objects.filter(action="record.collections_changed").count() == changes
    assert Collection.objects.count() == 4
    assert set(Collection.objects.filter(kind="faculty").values_list("code", flat=True)) == {
        "filologiya",
        "geografiya",
    }
    assert first["filologiya"] >= 10 and first["geografiya"] >= 1
    assert first["mumtoz"] >= 10 and first["navoiyshunoslik"] >= 5
    philology = Record.objects.filter(collections__code="filologiya")
    assert set(philology.values_list("resource_type", flat=True)) == {"dissertation"}
    classics = Record.objects.filter(collections__code="mumtoz")
    assert {("uzb",), ("rus",), ("kaa",)} <= {
        tuple(codes) for codes in classics.values_list("languages", flat=True)
    }


@pytest.mark.django_db
def test_the_back_office_writes_collections_through_the_services(
    make_user: Callable[..., User], rare: Collection
) -> None:
    from kitobxon.accounts.models import Role

    office = Client()
    office.force_login(make_user(Role.ADMIN))
    fields = {"kind": "faculty", "name": "Tarix fakulteti", "names": "{}", "description": ""}
    added = office.post("/staff/catalogue/collection/add/", {**fields, "code": "tarix"})
    assert added.status_code == 302, added.content.decode()[:2000]
    tarix = Collection.objects.get(code="tarix")
    assert audit_actions(tarix) == ["collection.created"]
    changed = office.post(
        f"/staff/catalogue/collection/{rare.pk}/change/",
        {**fields, "kind": "collection", "name": "Nodir kitoblar", "code": "nodir"},
    )
    assert changed.status_code == 302
    rare.refresh_from_db()
    assert rare.code == "nodir" and audit_actions(rare)[-1] == "collection.changed"
