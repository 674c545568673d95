"""The results page in a real browser: facets update in place, the URL follows, Back restores."""

from __future__ import annotations

from typing import Any

import pytest

from kitobxon.catalogue.data import ContributorData
from kitobxon.catalogue.tests.factories import make_record
from kitobxon.search import indexing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def _library() -> None:
    make_record(title="Kitoblar olami", identifiers=[], work_key="a")
    make_record(title="Kitob va kitobxon", identifiers=[], work_key="b", resource_type="article")
    make_record(
        title="Книга о книгах",
        languages=["rus"],
        contributors=[ContributorData("Иванов, Иван")],
        identifiers=[],
        work_key="c",
    )
    indexing.drain()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_facet_narrows_the_results_in_place_and_back_restores_them(
    browser: Any, live_server: Any, viewport: dict[str, int]
) -> None:
    _library()
    page = browser.new_context(viewport=viewport, locale="en-US").new_page()
    page.goto(live_server.url + "/search/?q=kitob")
    rows = page.locator(".record-row")
    assert rows.count() == 2
    # The exact word ranks first; the inflected title follows, its word marked all the same.
    titles = page.locator(".record-title").all_inner_texts()
    assert titles == ["Kitob va kitobxon", "Kitoblar olami"]
    assert page.locator(".record-row").nth(1).locator("mark").inner_text() == "Kitoblar"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.evaluate("window.__sameDocument = true")

    article = page.locator('input[name="type"][value="article"]')
    article.focus()
    page.keyboard.press("Space")  # a keyboard reader ticks the facet
    page.wait_for_url("**type=article**")
    page.wait_for_function("document.querySelectorAll('.record-row').length === 1")
    assert page.locator(".record-row .record-title").inner_text() == "Kitob va kitobxon"
    assert page.evaluate("window.__sameDocument") is True  # updated without a reload
    assert page.locator('input[name="type"][value="article"]').is_checked()

    page.go_back()
    page.wait_for_function("document.querySelectorAll('.record-row').length === 2")
    assert "type=article" not in page.url
    assert not page.locator('input[name="type"][value="article"]').is_checked()
    page.context.close()
