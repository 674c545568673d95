"""The "Is this file authentic?" page as the server renders it: languages, pasted hashes, escaping.

What the browser proves (signature, proof, hashing a dropped file) is tested in a real browser in
tests/e2e/test_ledger_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kitobxon.ledger import services, subjects

pytestmark = pytest.mark.django_db

SHA = hashlib.sha256(b"the dissertation").hexdigest()
URL = "/ledger/authentic/"
HTML_LANG = {"uz": "uz-Latn", "uz-cyrl": "uz-Cyrl", "kaa": "kaa-Latn", "ru": "ru", "en": "en"}


def _translated(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.fixture
def books() -> Iterator[dict[str, subjects.Described]]:
    known: dict[str, subjects.Described] = {}
    subjects.register("book", known.get)
    yield known
    subjects.unregister("book")


def _result(html: str) -> str:
    match = re.search(r'<div id="authentic-result".*?</div>\s*<section', html, re.S)
    assert match, "the page has its result region"
    return match.group(0)


def test_the_page_is_named_and_reachable_by_its_url_name() -> None:
    assert reverse("ledger:authentic") == URL


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_the_page_speaks_every_interface_language(client: Client, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{HTML_LANG[language]}">' in html
    title = _translated(language, "Is this file authentic?")
    assert f"<title>{title} · " in html
    assert f"<h1>{title}</h1>" in html
    skip = _translated(language, "Skip to content")
    assert skip in html
    if language != "en":
        assert skip != "Skip to content"
    # The browser's words come from the same catalogue, in a CSP-safe JSON block.
    block = re.search(r'<script id="authentic-strings" type="application/json">(.*?)<', html)
    assert block
    words = json.loads(block.group(1))
    assert words["authenticTitle"] == _translated(language, "Authentic")
    assert words["checks"]["signature"] == _translated(language, "signature")


def test_the_page_needs_no_inline_script_and_loads_its_modules_from_static(
    client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    with django_assert_num_queries(0):
        html = client.get(URL).content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    for attributes in scripts:
        assert "src=" in attributes or 'type="application/json"' in attributes
    assert '<script type="module" src="/static/ledger/authentic.js"></script>' in html
    assert 'data-api="/api/ledger/"' in html
    assert 'data-checkpoint-url="/ledger/checkpoint"' in html
    assert 'data-key-url="/ledger/key"' in html
    assert "Content-Security-Policy" in client.get(URL).headers


def test_the_file_picker_is_offered_only_to_browsers_that_can_hash(client: Client) -> None:
    html = client.get(URL).content.decode()
    assert '<div id="authentic-drop" class="drop-zone" hidden>' in html
    assert 'name="sha256"' in html  # the paste form works without JavaScript
    assert re.search(r'<input id="authentic-file" type="file"(?![^>]*name=)', html)
    assert _result(html).count("<h2>") == 0


def test_a_pasted_hash_is_looked_up_on_the_server_with_its_record(
    client: Client,
    books: dict[str, subjects.Described],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    books["5"] = subjects.Described("Oʻtkan kunlar", "/records/5/")
    services.register_file(subject="file:5", path="a.pdf", sha256=SHA, size=9, belongs_to="book:5")
    services.integrate()
    services.record(
        "file.replaced",
        subject="file:6",
        data={"path": "b.pdf", "size": 9},
        sha256=SHA,
        at=datetime(2026, 2, 1, 8, 0, tzinfo=UTC),
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with django_assert_num_queries(1):
        response = client.get(URL, {"sha256": f"  {SHA.upper()}  dissertation.pdf\n"})
    html = response.content.decode()
    result = _result(html)
    assert 'data-state="listed"' in result
    assert "<h2>Registered in the ledger</h2>" in result
    assert '<a class="authentic-record" href="/records/5/">Oʻtkan kunlar</a>' in result
    assert "No. 0" in result
    assert "waiting to join the log" in result
    assert "No record is named" in result
    assert '<time datetime="2026-02-01T08:00:00Z">Feb. 1, 2026, 1 p.m.</time>' in result
    assert f'<code class="authentic-sha">{SHA}</code>' in result
    assert f'value="{SHA}"' in html


def test_a_pasted_hash_nobody_registered_is_said_to_be_absent(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    result = _result(client.get(URL, {"sha256": SHA}).content.decode())
    assert 'data-state="absent"' in result
    assert "<h2>Not registered in the ledger</h2>" in result


def test_a_file_registered_for_another_purpose_is_not_a_registration(client: Client) -> None:
    services.record("loan", subject="loan:1", sha256=SHA)
    result = _result(client.get(URL, {"sha256": SHA}).content.decode())
    assert 'data-state="absent"' in result


def test_something_that_is_not_a_hash_is_refused_and_echoed_safely(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    hostile = '"><script>alert(1)</script>'
    response = client.get(URL, {"sha256": hostile})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    result = _result(html)
    assert 'data-state="invalid"' in result
    assert "A SHA-256 hash is 64 hexadecimal digits." in result
    assert 'aria-invalid="true"' in html


def test_hostile_titles_and_links_of_a_record_are_escaped(
    client: Client, books: dict[str, subjects.Described]
) -> None:
    books["1"] = subjects.Described('<img src=x onerror="alert(1)">', "javascript:alert(1)")
    books["2"] = subjects.Described("Safe", '/records/2/" onmouseover="alert(1)')
    services.register_file(subject="file:1", path="a", sha256=SHA, size=1, belongs_to="book:1")
    services.register_file(subject='file:"><b>', path="b", sha256=SHA, size=1, belongs_to="book:2")
    html = client.get(URL, {"sha256": SHA}).content.decode()
    result = _result(html)
    assert "<img" not in result
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in result
    assert "javascript:" not in html
    assert 'href="/records/2/&quot; onmouseover=&quot;alert(1)"' in result
    assert "<b>" not in result
