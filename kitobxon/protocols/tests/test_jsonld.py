"""The record page's schema.org JSON-LD, read as a JSON-LD processor (pyld) reads it.

``json.loads`` only shows that the script parses; expanding it shows that each type and
property is a term of the vocabulary and lands on its schema.org IRI. The context
``https://schema.org`` is served from ``jsonld/schema.org.jsonld``, never fetched: the terms the
record pages use, each mapped to its ``https://schema.org/`` IRI, with no ``@vocab``, so that a
misspelt or invented term is dropped by expansion and the test sees it go.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from kitobxon.catalogue.data import ContributorData
from kitobxon.catalogue.tests.factories import make_record

jsonld = pytest.importorskip("pyld.jsonld")

CONTEXT = Path(__file__).resolve().parent / "jsonld" / "schema.org.jsonld"
SCHEMA = "https://schema.org/"

pytestmark = pytest.mark.django_db


def offline(url: str, options: Any = None) -> dict[str, Any]:
    """pyld's document loader: the local schema.org context, and nothing from the network."""
    if url.rstrip("/") not in ("https://schema.org", "http://schema.org"):
        raise AssertionError(f"the JSON-LD processor asked for {url}")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(CONTEXT.read_text(encoding="utf-8")),
    }


def record_page_json_ld(client: Client, address: str) -> dict[str, Any]:
    page = client.get(address)
    assert page.status_code == 200
    found = re.search(
        r'<script type="application/ld\+json">(.+?)</script>', page.content.decode(), re.S
    )
    assert found is not None
    document: dict[str, Any] = json.loads(found.group(1))
    return document


def expanded(document: dict[str, Any]) -> dict[str, Any]:
    (node,) = jsonld.expand(document, {"documentLoader": offline})
    result: dict[str, Any] = node
    return result


def values(node: dict[str, Any], name: str) -> list[Any]:
    return [v.get("@value", v.get("@id")) for v in node.get(SCHEMA + name, [])]


@pytest.mark.parametrize(
    ("resource_type", "schema_type"),
    [
        ("book", "Book"),
        ("dissertation", "Thesis"),
        ("article", "ScholarlyArticle"),
        ("audio", "AudioObject"),
        ("video", "VideoObject"),
    ],
)
def test_the_record_page_json_ld_expands_to_schema_org_terms(
    client: Client, resource_type: str, schema_type: str
) -> None:
    record = make_record(
        resource_type=resource_type,
        edition="2-nashr",
        contributors=[
            ContributorData("Qodiriy, Abdulla", "author"),
            ContributorData("Karimov, Nahim", "editor"),
        ],
    )
    document = record_page_json_ld(client, record.get_absolute_url())
    node = expanded(document)
    page = f"http://testserver/records/{record.pk}/"

    assert node["@type"] == [SCHEMA + schema_type]
    assert node["@id"] == page
    assert values(node, "url") == [page]
    assert values(node, "name") == ["Oʻtkan kunlar : roman"]
    (author,) = node[SCHEMA + "author"]
    assert author["@type"] == [SCHEMA + "Person"]
    assert values(author, "name") == ["Qodiriy, Abdulla"]
    assert values(node[SCHEMA + "editor"][0], "name") == ["Karimov, Nahim"]
    (publisher,) = node[SCHEMA + "publisher"]
    assert publisher["@type"] == [SCHEMA + "Organization"]
    assert values(publisher, "name") == ["Sharq"]
    assert values(node, "datePublished") == ["2019"]
    assert values(node, "inLanguage") == ["uzb"]
    assert values(node, "about") == ["Oʻzbek adabiyoti"]
    assert values(node, "description") == ["Oʻzbek adabiyotidagi birinchi roman."]
    assert values(node, "isbn") == (["9789943269118"] if schema_type == "Book" else [])
    # Nothing on the page was dropped: every property is a term of the vocabulary.
    properties = {SCHEMA + key for key in document if not key.startswith("@")}
    assert properties == set(node) - {"@id", "@type"}
    assert len(properties) >= 10


def test_a_term_outside_the_vocabulary_is_dropped_so_the_check_above_can_fail() -> None:
    node = expanded({"@context": "https://schema.org", "@type": "Book", "nmae": "Kitob"})
    assert node == {"@type": [SCHEMA + "Book"]}
