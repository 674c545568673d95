"""A file's text reaches the search index with its page numbers, and only readers who may open
the file find a record through its text or see a snippet of it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from kitobxon.accounts.models import Role, Segment
from kitobxon.digital import samples
from kitobxon.digital.models import Access
from kitobxon.digital.services import extraction, files
from kitobxon.digital.tests.factories import attach, record
from kitobxon.search import indexing, queries
from kitobxon.search.searching import SearchRequest, search

pytestmark = pytest.mark.django_db

PAGES = [
    "Muqaddima. Bu kitob kutubxona haqida.",
    "Ikkinchi bob: zarafshon vodiysi tarixi va uning qadimiy shaharlari.",
    "Uchinchi bob: Самарқанд мадрасалари.",
]


@pytest.fixture(autouse=True)
def _own_storage(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


def book(access: str = Access.OPEN, title: str = "Vodiy tarixi", **policy: Any):
    file = attach(record(title=title, abstract=""), samples.pdf(PAGES), access=access, **policy)
    extraction.extract_file(file)
    indexing.drain()
    return file


def find(q: str, user=None, **filters: list[str]):
    principals = queries.principals(user or AnonymousUser())
    return search(SearchRequest(q=q, principals=principals, filters=filters))


def test_a_word_on_a_page_finds_the_record_with_a_snippet_of_that_page() -> None:
    file = book()
    found = find("zarafshon")
    assert [hit["id"] for hit in found.hits] == [str(file.record_id)]
    assert [page["number"] for page in found.hits[0]["pages"]] == [2]
    assert "<mark>zarafshon</mark>" in found.hits[0]["pages"][0]["snippet_html"].casefold()


def test_full_text_is_found_whatever_the_script() -> None:
    file = book()
    assert [hit["id"] for hit in find("samarqand madrasalari").hits] == [str(file.record_id)]


def test_readers_who_may_not_open_a_file_never_find_it_by_its_text(make_user) -> None:
    registered = book(Access.REGISTERED, title="Birinchi")
    teacher_only = book(Access.SEGMENTS, title="Ikkinchi", segments=[Segment.TEACHER])
    licensed = book(Access.LICENSED, title="Litsenziyali nashr")
    student = make_user(Role.PATRON, segment=Segment.STUDENT)
    teacher = make_user(Role.PATRON, segment=Segment.TEACHER)
    librarian = make_user(Role.LIBRARIAN)

    def ids(user):
        return {int(hit["id"]) for hit in find("zarafshon", user).hits}

    assert ids(None) == set()
    assert ids(student) == {registered.record_id}
    assert ids(teacher) == {registered.record_id, teacher_only.record_id}
    assert ids(librarian) == {registered.record_id, teacher_only.record_id, licensed.record_id}
    # The record itself stays findable by its title, without a page of the closed text.
    hits = find("Litsenziyali", student).hits
    assert [int(h["id"]) for h in hits] == [licensed.record_id]
    assert not hits[0].get("pages")


def test_a_stricter_policy_takes_the_text_out_of_reach_at_once(librarian) -> None:
    file = book()
    assert find("zarafshon").total == 1
    files.change_file(file, by=librarian, access=Access.REGISTERED)
    indexing.drain()
    assert find("zarafshon").total == 0


def test_an_embargoed_text_is_not_searchable_until_its_day() -> None:
    book(embargo_until=date(2099, 1, 1))
    assert find("zarafshon").total == 0


def test_online_availability_and_access_are_facets(client: Client) -> None:
    open_book = book(title="Ochiq kitob")
    closed_book = book(Access.LIBRARIANS, title="Yopiq kitob")
    found = find("kitob", availability=["online"])
    assert [int(hit["id"]) for hit in found.hits] == [open_book.record_id]
    assert ("open", 1) in find("kitob").facets["access"]
    page = client.get("/search/", {"q": "kitob", "availability": "online"})
    assert page.status_code == 200
    assert f'href="/records/{open_book.record_id}/"' in page.content.decode()
    assert f'href="/records/{closed_book.record_id}/"' not in page.content.decode()
