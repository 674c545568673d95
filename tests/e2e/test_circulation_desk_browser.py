"""The lending desk in a real browser on a phone: keyboard only, results swapped in place."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kitobxon.accounts import services as accounts
from kitobxon.accounts.models import Role, User
from kitobxon.catalogue.tests.factories import make_item, make_record
from kitobxon.circulation.models import Loan, LoanState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


def _person(email: str, name: str, role: Role) -> User:
    user = User.objects.create_user(
        email, "correct horse battery staple", full_name=name, preferred_language="en"
    )
    return accounts.set_role(user, role, by=None)


def _scan(page: Any, code: str) -> None:
    """What a barcode scanner does: type the digits into the focused field, then Enter."""
    assert page.evaluate("document.activeElement.id") == "id_code"
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_a_librarian_lends_two_copies_and_takes_one_back_with_the_keyboard(
    browser: Any, live_server: Any
) -> None:
    librarian = _person("kutubxonachi@example.org", "Gulnora Librarian", Role.LIBRARIAN)
    reader = _person("oquvchi@example.org", "Aziz Reader", Role.PATRON)
    record = make_record()
    first, second = make_item(record), make_item(record)
    client = Client()
    client.force_login(librarian)

    context = browser.new_context(viewport=PHONE, locale="en-US")
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "kitobxon_language", "value": "en", "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.goto(live_server.url + "/desk/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_code'")
    page.evaluate("window.__sameDocument = true")

    _scan(page, reader.card_number)
    page.wait_for_selector("#desk-reader-name")
    assert "Aziz Reader" in page.locator("#desk-reader-name").inner_text()
    page.wait_for_function("document.activeElement.id === 'id_code'")

    _scan(page, first.barcode)
    page.wait_for_function("document.querySelectorAll('.desk-result.ok').length === 1")
    page.wait_for_function("document.activeElement.id === 'id_code'")
    _scan(page, second.barcode)
    page.wait_for_function("document.querySelectorAll('.desk-result.ok').length === 2")
    messages = page.locator(".desk-result .desk-message").all_inner_texts()
    assert all(m.startswith("Lent, due") for m in messages)
    assert page.locator(".desk-reader .desk-barcode").count() == 2  # the loans, updated in place
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert Loan.objects.filter(patron=reader, state=LoanState.ACTIVE).count() == 2

    page.locator(".desk-nav a", has_text="Check in").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk/check-in/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_code'")
    page.evaluate("window.__sameDocument = true")
    _scan(page, first.barcode)
    page.wait_for_function("document.querySelectorAll('.desk-result').length === 1")
    assert page.locator(".desk-result .desk-message").inner_text() == "Back to the shelf."
    assert page.evaluate("window.__sameDocument") is True
    assert page.evaluate("document.activeElement.id") == "id_code"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert Loan.objects.filter(patron=reader, state=LoanState.ACTIVE).count() == 1
    context.close()
