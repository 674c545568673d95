from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from kitobxon.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def _t(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="en-US")
    return context.new_page()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_home_page_fits_the_screen_and_starts_with_a_skip_link(
    browser: Any, live_server: Any, viewport: dict[str, int]
) -> None:
    page = _page(browser, viewport)
    page.goto(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "uz-Latn"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("#site-search").is_visible()
    assert page.locator("text=" + _t("uz", "Get a library card")).first.is_visible()

    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == _t("uz", "Skip to content")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_language_switch_changes_the_whole_page(
    browser: Any, live_server: Any, viewport: dict[str, int]
) -> None:
    page = _page(browser, viewport)
    page.goto(live_server.url + "/accounts/login/")
    expected_lang = {
        "uz-cyrl": "uz-Cyrl",
        "kaa": "kaa-Latn",
        "ru": "ru",
        "en": "en",
        "uz": "uz-Latn",
    }
    for language, html_lang in expected_lang.items():
        page.select_option("#language-select", language)
        page.locator(".language-switch button").click()
        page.wait_for_load_state()
        assert page.url.endswith("/accounts/login/")
        assert page.get_attribute("html", "lang") == html_lang
        assert page.locator("h1").inner_text() == _t(language, "Sign in")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.context.close()


def test_a_reader_registers_confirms_and_signs_in_with_the_card_number(
    browser: Any, live_server: Any
) -> None:
    page = _page(browser, PHONE)
    page.goto(live_server.url + "/accounts/register/")
    page.get_by_label(_t("uz", "Full name")).fill("Shahlo Ergasheva")
    page.get_by_label(_t("uz", "E-mail")).fill("shahlo@example.org")
    page.get_by_label(_t("uz", "I am a")).select_option("pupil")
    page.get_by_label(_t("uz", "Password"), exact=True).fill("kitoblar-dunyosi-7")
    page.get_by_label(_t("uz", "Password again")).fill("kitoblar-dunyosi-7")
    page.get_by_role("button", name=_t("uz", "Register")).last.click()
    page.wait_for_url("**/accounts/register/sent/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/confirm/\S+/", str(mail.outbox[0].body))
    assert link
    page.goto(link.group(0))
    page.wait_for_url("**/accounts/login/")

    card = User.objects.get(email="shahlo@example.org").card_number
    page.get_by_label(_t("uz", "E-mail or library card number")).fill(card)
    page.get_by_label(_t("uz", "Password")).fill("kitoblar-dunyosi-7")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/accounts/profile/")
    assert page.locator(".card-number").inner_text() == card
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_record_page_and_the_cataloguing_form_fit_the_screen(
    browser: Any, live_server: Any, viewport: dict[str, int], make_user: Any
) -> None:
    from kitobxon.accounts.models import Role
    from kitobxon.catalogue.tests.factories import make_item, make_record

    record = make_record(title="Qaraqalpaq dástanı: " + "uzun sarlavha " * 6)
    make_item(record, "nukus")
    librarian = make_user(Role.LIBRARIAN, password="kutubxona-2026")
    page = _page(browser, viewport)
    page.goto(live_server.url + record.get_absolute_url())
    assert page.locator("h1").inner_text().startswith("Qaraqalpaq dástanı")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(_t("uz", "E-mail or library card number")).fill(librarian.email)
    page.get_by_label(_t("uz", "Password")).fill("kutubxona-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/accounts/profile/")
    page.goto(live_server.url + f"/cataloguing/records/{record.pk}/edit/")
    assert page.get_attribute("html", "lang") == "uz-Latn"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label(_t("uz", "Edition")).fill("2-nashr")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**" + record.get_absolute_url())
    assert "2-nashr" in page.locator("main").inner_text()
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_librarian_makes_a_faculty_and_files_a_record_in_it_from_the_keyboard(
    browser: Any, live_server: Any, viewport: dict[str, int], make_user: Any
) -> None:
    from kitobxon.accounts.models import Role
    from kitobxon.catalogue.models import Collection
    from kitobxon.catalogue.tests.factories import make_record

    record = make_record(title="Filologiya fakulteti dissertatsiyasi")
    librarian = make_user(Role.LIBRARIAN, password="kutubxona-2026")
    page = _page(browser, viewport)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(_t("uz", "E-mail or library card number")).fill(librarian.email)
    page.get_by_label(_t("uz", "Password")).fill("kutubxona-2026")
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/profile/")

    page.goto(live_server.url + "/cataloguing/collections/new/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label(_t("uz", "Code"), exact=True).focus()
    page.keyboard.type("filologiya")
    page.keyboard.press("Tab")  # to the kind
    page.get_by_label(_t("uz", "Kind"), exact=True).select_option("faculty")
    page.get_by_label(_t("uz", "Name"), exact=True).fill("Filologiya fakulteti")
    page.get_by_label(_t("uz", "Name"), exact=True).press("Enter")
    page.wait_for_url("**/cataloguing/collections/")
    faculty = Collection.objects.get(code="filologiya")
    assert faculty.kind == Collection.Kind.FACULTY
    assert "Filologiya fakulteti" in page.locator("main table").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(live_server.url + f"/cataloguing/records/{record.pk}/edit/")
    box = page.get_by_label("Filologiya fakulteti")
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**" + record.get_absolute_url())
    assert "Filologiya fakulteti" in page.locator("main").inner_text()
    assert list(record.collections.values_list("code", flat=True)) == ["filologiya"]

    page.goto(live_server.url + "/records/?collection=filologiya")
    assert "Filologiya fakulteti dissertatsiyasi" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.context.close()
