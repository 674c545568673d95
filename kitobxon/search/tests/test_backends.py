"""One conformance suite for every search backend: tantivy and PostgreSQL find the same records.

Each test indexes the same small corpus (Uzbek Latin with every apostrophe, Uzbek Cyrillic,
Karakalpak, Russian, English) through `backend.writer()` and asks through the public entry
points, `searching.search` and `searching.suggest`, or the backend itself. PostgreSQL runs when
the suite does (KITOBXON_TEST_DATABASE_URL); its rows roll back with each test's transaction.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
from django.db import connection

from kitobxon.search import analysis, indexing, plan, query, registry, searching
from kitobxon.search.backends import _backend, get_backend
from kitobxon.search.backends.base import Backend, SearchQuery
from kitobxon.search.documents import PUBLIC, STAFF, YEAR_RANGES, Page, SearchDocument
from kitobxon.search.models import PendingChange
from kitobxon.search.queries import index_health
from kitobxon.search.searching import SearchRequest, SearchResponse

KIND = "testdoc"
REGISTERED = "registered"
MARC = {"uz": "uzb", "kaa": "kaa", "ru": "rus", "en": "eng"}


def _doc(
    id_: str,
    title: str,
    lang: str = "uz",
    *,
    author: str = "",
    subjects: Sequence[str] = (),
    year: int | None = None,
    type_: str = "book",
    branches: Sequence[str] = ("Markaz",),
    availability: Sequence[str] = ("available",),
    popularity: float = 0.0,
    visible_to: Sequence[str] = (PUBLIC,),
    abstract: str = "",
    pages: Sequence[str] = (),
    pages_visible_to: Sequence[str] = (),
    ids: Sequence[str] = (),
    faculties: Sequence[str] = (),
    collections: Sequence[str] = (),
) -> SearchDocument:
    authors = [author] if author else []
    return SearchDocument(
        kind=KIND,
        id=id_,
        language=lang,
        text={
            "title": title,
            "author": author,
            "subject": " ".join(subjects),
            "abstract": abstract,
        },
        filters={
            "type": [type_],
            "lang": [MARC[lang]],
            "subject": list(subjects),
            "author": authors,
            "branch": list(branches),
            "availability": list(availability),
            "faculty": list(faculties),
            "collection": list(collections),
        },
        identifiers=list(ids),
        year=year,
        popularity=popularity,
        visible_to=list(visible_to),
        pages=[Page(n, text) for n, text in enumerate(pages, 1)],
        pages_visible_to=list(pages_visible_to),
        display={
            "title": title,
            "authors": authors,
            "subjects": list(subjects),
            "year": year,
            "abstract": abstract,
            "has_fulltext": bool(pages),
        },
    )


CORPUS: list[SearchDocument] = [
    # LANGUAGE.md section C, one record per title.
    _doc("uz-tarix", "O‘zbekiston tarixi", author="Hamid Ziyoyev", subjects=["Tarix"], year=2015,
         popularity=50),
    _doc("uz-tarix-cyr", "Ўзбекистон тарихи", author="Аҳмадали Асқаров", subjects=["Tarix"],
         year=1995, branches=["Chilonzor"], availability=["on_loan"], popularity=20),
    _doc("konstitutsiya", "O‘zbekiston Respublikasining Konstitutsiyasi", subjects=["Huquq"],
         year=2023, popularity=90),
    _doc("xalqlar", "O`zbekiston xalqlari", subjects=["Etnografiya"], year=2008),
    _doc("ozbekiston", "O´zbekiston", subjects=["Geografiya"], year=2001, type_="map",
         availability=[]),
    _doc("kitoblar", "Kitoblar olami", year=2019, branches=["Yunusobod"]),
    _doc("bolalarga", "Bolalarga ertaklar", subjects=["Bolalar adabiyoti"], year=2012),
    _doc("xalq-ertaklari", "O‘zbek xalq ertaklari", subjects=["Folklor"], year=1985,
         branches=["Markaz", "Chilonzor"]),
    _doc("qishlogim", "Qishlog‘im qo‘shiqlari", year=1978),
    _doc("darslik", "Matematika darsligi", subjects=["Matematika"], year=2020,
         type_="textbook"),
    _doc("terak", "Terakka chiqqan bola", year=1969, availability=["on_loan"]),
    _doc("qishloq", "Qishloq hayoti", year=1990),
    _doc("tog", "Tog‘ga sayohat", year=2005),
    _doc("binolar", "Toshkentdagi binolar", year=2017),
    _doc("qonun", "O‘zbekiston Respublikasining Qonuni", subjects=["Huquq"], year=2016),
    _doc("iqtisodiyot", "Iqtisodiyot asoslari", subjects=["Iqtisodiyot"], year=2011),
    _doc("huquq", "Huquq asosi", subjects=["Huquq"], year=2010),
    _doc("ozbek-tili", "O‘zbek tili", subjects=["Tilshunoslik"], year=2018, type_="textbook",
         popularity=3),
    _doc("lugat", "O‘zbek tilining izohli lug‘ati", subjects=["Tilshunoslik"], year=2006,
         type_="dictionary", popularity=400),
    _doc("oila", "Oilaning ma’naviyati", year=2014),
    _doc("navoiy-sherlar", "Alisher Navoiy she’rlari", author="Alisher Navoiy",
         subjects=["Mumtoz adabiyot"], year=1991),
    _doc("gazallar", "Навоийнинг ғазаллари", author="Навоий", year=1968),
    _doc("otkan-kunlar", "Ўткан кунлар", author="Абдулла Қодирий", subjects=["Roman"],
         year=1926, popularity=800),
    _doc("sirk", "Цирк санъати", year=1982, type_="article"),
    _doc("konsert-cyr", "Концерт дастури", year=1975, type_="article"),
    _doc("konsert", "Konsert dasturi", year=2003),
    _doc("majlis", "Oliy Majlisi", year=2000),
    _doc("manaviyat", "Маънавият ва маърифат", year=1999),
    _doc("ishoq", "Исҳоқ Хон", year=1994),
    _doc("mojiza", "Мўъжиза", year=1987),
    _doc("sentabr", "1-сентябрь", year=1997),
    _doc("qqs-tarix", "Қарақалпақстан тарийхы", "kaa", year=2009, branches=["Nukus"]),
    _doc("ajiniyaz", "Әжинияз шығармалары", "kaa", author="Әжинияз", year=1960,
         branches=["Nukus"]),
    _doc("nizam", "Qaraqalpaqstan Respublikasınıń Nızamı", "kaa", year=2021, branches=["Nukus"]),
    _doc("yolka", "Ёлка в Сокольниках", "ru", year=1984),
    _doc("elka", "Елка", "ru", year=1950),
    _doc("uchenye", "Ученые записки", "ru", year=1962, type_="journal", ids=["03178471"]),
    _doc("biblioteki", "Библиотеки Узбекистана", "ru", year=2002),
    _doc("toshkent", "Toshkent shahri", year=2022),
    _doc("kitob-dokoni", "Kitob do‘koni"),
    _doc("onegin", "Евгений Онегин", "ru", author="Пушкин", year=1937),
    # Fields, identifiers, visibility, typos and full text.
    _doc("xamsa", "Xamsa", author="Alisher Navoiy", year=1993),
    _doc("english", "A history of Uzbekistan", "en", author="John Smith",
         subjects=["History"], year=2019, abstract="Tarix of the Silk Road cities.",
         ids=["9780306406157", "ktb-000123"]),
    _doc("maxfiy", "Maxfiy hisobot", year=2024, visible_to=[STAFF], ids=["9781861972712"],
         faculties=["tarix"], collections=["nodir"]),
    _doc("yolduz", "Yolduz qissasi", year=2013, popularity=10_000),
    _doc("yilnoma", "Kutubxona yilnomasi", year=2021,
         pages=["Kirish. Kutubxona tarixi haqida.", "Zarafshon vodiysidagi qoʻlyozmalar.",
                "Xulosa va manbalar."],
         pages_visible_to=[REGISTERED, STAFF]),
    _doc("ochiq", "Ochiq kitob", year=2016, pages=["Samarqand haqida hikoya."],
         pages_visible_to=[PUBLIC]),
    # Uzbek alphabetical order: … x y z oʻ gʻ sh ch ng.
    _doc("a-alpomish", "Alpomish", subjects=["Alifbo"], year=1999, popularity=7,
         branches=["Markaz"], faculties=["filologiya"], collections=["folklor"]),
    _doc("a-bobur", "Bobur", subjects=["Alifbo"], year=2004, popularity=70, type_="article",
         branches=["Chilonzor"], availability=["on_loan"], faculties=["tarix"],
         collections=["nodir", "folklor"]),
    _doc("a-orzu", "Orzu", subjects=["Alifbo"], year=1956, popularity=2, lang="kaa",
         branches=["Nukus"], faculties=["filologiya", "tarix"]),
    _doc("a-xiva", "Xiva", subjects=["Alifbo"], year=2011, popularity=30, lang="ru",
         branches=["Markaz", "Chilonzor"], collections=["nodir"]),
    _doc("a-yulduz", "Yulduz", subjects=["Alifbo"], popularity=1),
    _doc("a-zebo", "Zebo", subjects=["Alifbo"], year=2021, popularity=55, type_="article",
         availability=[]),
    _doc("a-orik", "O‘rik", subjects=["Alifbo"], year=1930, popularity=12,
         branches=["Yunusobod"]),
    _doc("a-guncha", "G‘uncha", subjects=["Alifbo"], year=1988, popularity=3, lang="ru",
         availability=["on_loan"]),
    _doc("a-shams", "Shams", subjects=["Alifbo"], year=2015, popularity=40, type_="article"),
    _doc("a-chaman", "Chaman", subjects=["Alifbo"], year=1975, popularity=9,
         branches=["Chilonzor"]),
    _doc("a-ngoma", "Ngoma", subjects=["Alifbo"], popularity=25, lang="en"),
]  # fmt: skip
BY_ID = {d.id: d for d in CORPUS}
ALPHABET = [d.id for d in CORPUS if d.id.startswith("a-")]


# --- fixtures ---------------------------------------------------------------------------------


def _source() -> registry.Source:
    def all_ids(batch: int) -> Iterator[list[str]]:
        ids = list(BY_ID)
        for start in range(0, len(ids), batch):
            yield ids[start : start + batch]

    return registry.Source(
        kind=KIND,
        load=lambda ids: [BY_ID[i] for i in ids if i in BY_ID],
        all_ids=all_ids,
        url=lambda object_id: f"/testdocs/{object_id}/",
    )


@pytest.fixture
def registered_source() -> Iterator[registry.Source]:
    saved = dict(registry._sources)
    source = _source()
    registry.register(source)
    yield source
    registry._sources.clear()
    registry._sources.update(saved)


def _use(name: str, settings: Any, tmp_path: Any) -> Backend:
    if name == "postgres" and connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend runs when the suite runs on PostgreSQL")
    settings.SEARCH_BACKEND = name
    settings.SEARCH_INDEX_DIR = tmp_path
    return get_backend()


@pytest.fixture(params=["tantivy", "postgres"])
def empty_backend(
    request: pytest.FixtureRequest, settings: Any, tmp_path: Any, db: None, registered_source: Any
) -> Backend:
    return _use(request.param, settings, tmp_path)


@pytest.fixture
def backend(empty_backend: Backend) -> Backend:
    with empty_backend.writer() as writer:
        writer.upsert(CORPUS)
    return empty_backend


def find(q: str = "", **options: Any) -> SearchResponse:
    options.setdefault("kinds", (KIND,))
    options.setdefault("count_zero", False)
    options.setdefault("size", 100)
    return searching.search(SearchRequest(q=q, **options))


def ids(response: SearchResponse) -> list[str]:
    return [hit["id"] for hit in response.hits]


def strict(backend: Backend, q: str, principals: Sequence[str] = (PUBLIC,)) -> set[str]:
    """What the backend finds for `q` without the typo-tolerant fallback."""
    found = backend.search(
        SearchQuery(
            text=plan.text_query(query.parse(q), principals),
            guard=(
                plan.Keyword("entry", ("doc",)),
                plan.Keyword("kind", (KIND,)),
                plan.Keyword("visible_to", tuple(principals)),
            ),
            limit=100,
        )
    )
    return {hit.key.partition(":")[2] for hit in found.hits}


# --- LANGUAGE.md section C: every spelling finds its title --------------------------------------

SECTION_C = [
    ("ozbekiston", ["uz-tarix"]),
    ("O'zbekiston", ["uz-tarix-cyr"]),
    ("Ўзбекистон", ["konstitutsiya"]),
    ("Oʻzbekiston", ["xalqlar"]),
    ("O’zbekiston", ["ozbekiston"]),
    ("tarix", ["uz-tarix"]),
    ("kitob", ["kitoblar"]),
    ("bolalar", ["bolalarga"]),
    ("ertak", ["xalq-ertaklari"]),
    ("qishloq", ["qishlogim"]),
    ("darslik", ["darslik"]),
    ("terak", ["terak"]),
    ("qishloqqa", ["qishloq"]),
    ("tog‘", ["tog"]),
    ("Toshkent", ["binolar"]),
    ("qonun", ["qonun"]),
    ("asos", ["iqtisodiyot", "huquq"]),
    ("tilining", ["ozbek-tili"]),
    ("lug'at", ["lugat"]),
    ("oila", ["oila"]),
    ("she'r", ["navoiy-sherlar"]),
    ("Navoiy", ["gazallar"]),
    ("Qodiriy", ["otkan-kunlar"]),
    ("o'tkan kunlar", ["otkan-kunlar"]),
    ("sirk", ["sirk"]),
    ("konsert", ["konsert-cyr"]),
    ("kontsert", ["konsert"]),
    ("тарих", ["uz-tarix"]),
    ("majlis", ["majlis"]),
    ("ma'naviyat", ["manaviyat"]),
    ("Is'hoq", ["ishoq"]),
    ("moʻjiza", ["mojiza"]),
    ("sentabr", ["sentabr"]),
    ("Qaraqalpaqstan", ["qqs-tarix"]),
    ("ajiniyaz", ["ajiniyaz"]),
    ("Respublikasinin", ["nizam"]),
    ("RESPUBLIKASÍNÍŃ", ["nizam"]),
    ("Respublikasi'ni'n'", ["nizam"]),
    ("елка", ["yolka", "elka"]),
    ("Ёлки", ["yolka", "elka"]),
    ("учёный", ["uchenye"]),
    ("библиотека", ["biblioteki"]),
    ("Тoshkent", ["toshkent"]),
    ("kitоb", ["kitob-dokoni"]),
]


@pytest.mark.parametrize(("q", "expected"), SECTION_C, ids=[q for q, _ in SECTION_C])
def test_every_spelling_finds_its_title_without_typo_tolerance(
    backend: Backend, q: str, expected: list[str]
) -> None:
    assert set(expected) <= strict(backend, q)
    assert set(expected) <= set(ids(find(q)))


@pytest.mark.parametrize(
    ("q", "expected"),
    [("utkan kunlar", "otkan-kunlar"), ("Evgeniy", "onegin"), ("Kodiriy", "otkan-kunlar")],
)
def test_nonstandard_spellings_match_only_through_typo_tolerance(
    backend: Backend, q: str, expected: str
) -> None:
    assert expected not in strict(backend, q)
    response = find(q)
    assert response.fuzzy is True
    assert expected in ids(response)


@pytest.mark.parametrize("q", ["ozbek tili", "o'zbek tili", "oʻzbek tili", "ўзбек тили"])
def test_every_script_and_apostrophe_finds_uzbek_tili_first(backend: Backend, q: str) -> None:
    response = find(q)
    assert ids(response)[0] == "ozbek-tili"
    assert set(ids(response)) == {"ozbek-tili", "lugat"}


def test_an_inflected_query_finds_the_same_records_and_its_exact_form_first(
    backend: Backend,
) -> None:
    assert ids(find("o‘zbek tilining")) == ["lugat", "ozbek-tili"]


def test_a_title_match_outranks_the_same_word_in_an_abstract(backend: Backend) -> None:
    assert ids(find("tarix")) == ["uz-tarix", "uz-tarix-cyr", "english"]


def test_equal_matches_are_ordered_by_popularity(backend: Backend) -> None:
    assert ids(find("O‘zbekiston Respublikasining")) == ["konstitutsiya", "qonun"]


# --- query language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"o‘zbek tili"', {"ozbek-tili"}),
        ('"tili o‘zbek"', set()),
        ('"xalq ertaklari"', {"xalq-ertaklari"}),
        ('title:"xalq ertaklari"', {"xalq-ertaklari"}),
        ('"Silk Road"', {"english"}),
    ],
)
def test_phrases_match_consecutive_words(backend: Backend, q: str, expected: set[str]) -> None:
    assert set(ids(find(q))) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("navoiy", {"navoiy-sherlar", "gazallar", "xamsa"}),
        ("title:navoiy", {"navoiy-sherlar", "gazallar"}),
        ("author:navoiy", {"navoiy-sherlar", "gazallar", "xamsa"}),
        ("muallif:Qodiriy", {"otkan-kunlar"}),
        ("title:Qodiriy", set()),
        ("subject:huquq", {"konstitutsiya", "qonun", "huquq"}),
        ("huquq year:2015..2020", {"qonun"}),
        ("year:..1930", {"otkan-kunlar", "a-orik"}),
        ("tarix year:2015", {"uz-tarix"}),
        ("lang:rus", {"yolka", "elka", "uchenye", "biblioteki", "onegin", "a-xiva", "a-guncha"}),
        ("lang:kaa qaraqalpaqstan", {"qqs-tarix", "nizam"}),
        ("type:dictionary", {"lugat"}),
        ("type:journal OR type:map", {"uchenye", "ozbekiston"}),
        ("isbn:9780306406157 history", {"english"}),
        ("issn:0317-8471 записки", {"uchenye"}),
    ],
)
def test_fields_restrict_where_words_match(backend: Backend, q: str, expected: set[str]) -> None:
    response = find(q)
    assert set(ids(response)) == expected
    assert response.notice is None


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("tarix OR ertak", {"uz-tarix", "uz-tarix-cyr", "english", "bolalarga", "xalq-ertaklari"}),
        ("tarix || ertak", {"uz-tarix", "uz-tarix-cyr", "english", "bolalarga", "xalq-ertaklari"}),
        ("ertak -bolalar", {"xalq-ertaklari"}),
        ("ertak NOT bolalarga", {"xalq-ertaklari"}),
        ("(tarix OR ertak) AND o‘zbek", {"xalq-ertaklari"}),
        ("tarix -year:2015", {"uz-tarix-cyr", "english"}),
        ("tarix -lang:eng", {"uz-tarix", "uz-tarix-cyr"}),
        ('qishloq -"qishloq hayoti"', {"qishlogim"}),
        ("-subject:alifbo subject:alifbo", set()),
    ],
)
def test_boolean_operators_combine_exactly(backend: Backend, q: str, expected: set[str]) -> None:
    assert set(ids(find(q))) == expected


def test_a_malformed_query_falls_back_to_its_words_with_a_notice(backend: Backend) -> None:
    response = find('ertak "bolalar')
    assert response.notice == "unbalanced-quote"
    assert ids(response) == ["bolalarga"]
    assert find("ertak (bolalar").notice == "unbalanced-paren"
    assert find("muqova:qattiq Navoiy").notice == "unknown-field"


def test_a_long_query_ranks_records_holding_all_words_but_one_first(backend: Backend) -> None:
    found = ids(find("O‘zbekiston Respublikasining yangi Konstitutsiyasi"))
    assert found[:2] == ["konstitutsiya", "qonun"]
    assert set(found) == {
        "konstitutsiya", "qonun", "uz-tarix", "uz-tarix-cyr", "xalqlar", "ozbekiston"
    }  # fmt: skip


# --- identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "url"),
    [
        ("0-306-40615-2", "/testdocs/english/"),
        ("978-0-306-40615-7", "/testdocs/english/"),
        ("ISBN 0306406152", "/testdocs/english/"),
        ("0317-8471", "/testdocs/uchenye/"),
        ("KTB-000123", "/testdocs/english/"),
    ],
)
def test_an_identifier_leads_straight_to_its_record(backend: Backend, q: str, url: str) -> None:
    response = find(q)
    assert response.redirect == url
    assert response.hits == []


def test_a_hidden_record_is_not_revealed_by_its_identifier(backend: Backend) -> None:
    assert find("9781861972712").redirect is None
    assert find("9781861972712", principals=frozenset({PUBLIC, STAFF})).redirect == (
        "/testdocs/maxfiy/"
    )


# --- facets -----------------------------------------------------------------------------------


def _visible(principals: Sequence[str] = (PUBLIC,)) -> list[SearchDocument]:
    return [d for d in CORPUS if set(d.visible_to) & set(principals)]


def _year_label(year: int | None) -> str | None:
    for label, lo, hi in YEAR_RANGES:
        if year is not None and (lo is None or year >= lo) and (hi is None or year <= hi):
            return label
    return None


def _passes(document: SearchDocument, name: str, values: Sequence[str]) -> bool:
    if name == "year":
        return _year_label(document.year) in values
    return bool(set(document.filters.get(name, [])) & set(values))


def _expected_facets(
    documents: list[SearchDocument], filters: dict[str, list[str]], names: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Each facet counted under every filter but its own (multi-select)."""
    counts: dict[str, dict[str, int]] = {}
    for name in names:
        others = {n: v for n, v in filters.items() if n != name}
        kept = [d for d in documents if all(_passes(d, n, v) for n, v in others.items())]
        if name == "year":
            counter = Counter(label for d in kept if (label := _year_label(d.year)))
        else:
            counter = Counter(v for d in kept for v in d.filters.get(name, []))
        counts[name] = dict(counter)
    return counts


FACET_NAMES = ("type", "lang", "year", "branch", "availability", "faculty", "collection")


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"type": ["article"]},
        {"type": ["article", "book"], "lang": ["uzb", "rus"]},
        {"branch": ["Chilonzor"], "availability": ["on_loan"], "year": ["1991..2000", "2021.."]},
        {"faculty": ["tarix"]},
        {"faculty": ["filologiya", "tarix"], "collection": ["nodir"]},
        {"collection": ["folklor"], "type": ["book"]},
    ],
    ids=[
        "none",
        "one-value",
        "or-within-and-across",
        "three-facets",
        "faculty",
        "faculties-and-collection",
        "collection-and-type",
    ],
)
def test_facets_count_every_value_under_the_other_facets_filters(
    backend: Backend, filters: dict[str, list[str]]
) -> None:
    response = find("subject:alifbo", filters=filters, facets=FACET_NAMES)
    alphabet = [BY_ID[i] for i in ALPHABET]
    matching = {d.id for d in alphabet if all(_passes(d, n, v) for n, v in filters.items())}
    assert set(ids(response)) == matching
    assert response.total == len(matching)
    expected = _expected_facets(alphabet, filters, FACET_NAMES)
    assert {name: dict(buckets) for name, buckets in response.facets.items()} == expected
    for name, buckets in response.facets.items():
        if name != "year":
            assert buckets == sorted(buckets, key=lambda b: (-b[1], b[0]))


def test_year_buckets_come_in_the_order_of_the_ranges(backend: Backend) -> None:
    response = find("subject:alifbo", facets=("year",))
    assert response.facets["year"] == [
        ("2021..", 1),
        ("2011..2020", 2),
        ("2001..2010", 1),
        ("1991..2000", 1),
        ("1951..1990", 3),
        ("..1950", 1),
    ]


def test_facets_over_the_whole_corpus_leave_out_hidden_records(backend: Backend) -> None:
    response = find("", facets=("type", "lang", "availability"))
    assert response.total == len(_visible())
    expected = _expected_facets(_visible(), {}, ("type", "lang", "availability"))
    assert {name: dict(buckets) for name, buckets in response.facets.items()} == expected


def test_faculty_and_collection_facets_leave_out_hidden_records(backend: Backend) -> None:
    response = find("", facets=("faculty", "collection"))
    assert dict(response.facets["faculty"]) == {"filologiya": 2, "tarix": 2}
    assert dict(response.facets["collection"]) == {"folklor": 2, "nodir": 2}
    staff = find("", principals=frozenset({PUBLIC, STAFF}), facets=("faculty", "collection"))
    assert dict(staff.facets["faculty"])["tarix"] == 3
    assert set(ids(find("", filters={"faculty": ["tarix"]}))) == {"a-bobur", "a-orzu"}
    hidden = find("", filters={"collection": ["nodir"]}, principals=frozenset({PUBLIC, STAFF}))
    assert set(ids(hidden)) == {"a-bobur", "a-xiva", "maxfiy"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("faculty:tarix", {"a-bobur", "a-orzu"}),
        ("fakultet:filologiya", {"a-alpomish", "a-orzu"}),
        ("факультет:tarix -collection:nodir", {"a-orzu"}),
        ("kolleksiya:folklor", {"a-alpomish", "a-bobur"}),
        ("Bobur коллекция:nodir", {"a-bobur"}),
        ("collection:(nodir OR folklor) -faculty:tarix", {"a-alpomish", "a-xiva"}),
    ],
)
def test_the_query_language_filters_by_faculty_and_collection(
    backend: Backend, q: str, expected: set[str]
) -> None:
    assert strict(backend, q) == expected


def test_a_text_query_narrows_the_facet_counts(backend: Backend) -> None:
    response = find("o‘zbekiston", filters={"type": ["book"]}, facets=("type", "year"))
    expected_ids = {"uz-tarix", "uz-tarix-cyr", "konstitutsiya", "xalqlar", "qonun"}
    assert set(ids(response)) == expected_ids
    documents = [BY_ID[i] for i in [*expected_ids, "ozbekiston"]]
    expected = _expected_facets(documents, {"type": ["book"]}, ("type", "year"))
    assert {name: dict(buckets) for name, buckets in response.facets.items()} == expected


# --- sorting ----------------------------------------------------------------------------------

ALPHABETICAL = [
    "a-alpomish", "a-bobur", "a-orzu", "a-xiva", "a-yulduz", "a-zebo", "a-orik", "a-guncha",
    "a-shams", "a-chaman", "a-ngoma",
]  # fmt: skip


def test_title_order_is_the_uzbek_alphabet(backend: Backend) -> None:
    assert ids(find("subject:alifbo", sort="title")) == ALPHABETICAL


def test_newest_and_oldest_put_records_without_a_year_last(backend: Backend) -> None:
    alphabet = [BY_ID[i] for i in ALPHABET]
    dated = [d for d in alphabet if d.year is not None]
    newest = [d.id for d in sorted(dated, key=lambda d: -(d.year or 0))]
    oldest = list(reversed(newest))
    undated = {"a-yulduz", "a-ngoma"}
    by_newest = ids(find("subject:alifbo", sort="newest"))
    by_oldest = ids(find("subject:alifbo", sort="oldest"))
    assert by_newest[: len(newest)] == newest
    assert by_oldest[: len(oldest)] == oldest
    assert set(by_newest[len(newest) :]) == set(by_oldest[len(oldest) :]) == undated


def test_popularity_order(backend: Backend) -> None:
    expected = [d.id for d in sorted((BY_ID[i] for i in ALPHABET), key=lambda d: -d.popularity)]
    assert ids(find("subject:alifbo", sort="popularity")) == expected


def test_relevance_breaks_ties_by_popularity_and_pages_are_stable(backend: Backend) -> None:
    uzbek = {"lang": ["uzb"]}  # same language, so the same forms of "alifbo" match
    same = [BY_ID[i] for i in ALPHABET if BY_ID[i].language == "uz"]
    expected = [d.id for d in sorted(same, key=lambda d: -d.popularity)]
    assert ids(find("subject:alifbo", filters=uzbek)) == expected
    pages = [ids(find("subject:alifbo", filters=uzbek, size=3, page=n)) for n in (1, 2, 3)]
    assert pages == [expected[:3], expected[3:6], expected[6:]]
    assert find("subject:alifbo", filters=uzbek, size=3, page=3).total == len(same)


# --- typo tolerance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("kitb", {"kitoblar", "kitob-dokoni", "ochiq"}),  # 4 letters: one edit (an insertion)
        ("sayoht", {"tog"}),  # one deletion
        ("sayohta", {"tog"}),  # a transposition counts as one edit
        ("matimatka", {"darslik"}),  # 9 letters: two edits
        ("sayhot", set()),  # 6 letters: two edits is too many
        ("kto", set()),  # 3 letters: no typo tolerance
    ],
)
def test_typo_tolerance_grows_with_the_word(backend: Backend, q: str, expected: set[str]) -> None:
    response = find(q)
    assert set(ids(response)) == expected
    assert response.fuzzy is bool(expected)


def test_a_typo_match_never_outranks_an_exact_match(backend: Backend) -> None:
    response = find("yulduz")
    assert response.fuzzy is True
    assert ids(response) == ["a-yulduz", "yolduz"]
    assert ids(find("yolduz")) == ["yolduz", "a-yulduz"]


def test_did_you_mean_offers_the_closest_indexed_words(backend: Backend) -> None:
    response = find("Navoy")
    assert response.did_you_mean == "navoiy"
    assert find("Navoiy").did_you_mean is None
    assert find("xyzzyq").did_you_mean is None


# --- autocomplete -----------------------------------------------------------------------------


def test_suggestions_complete_titles_authors_and_subjects(backend: Backend) -> None:
    assert searching.suggest("navo", frozenset({PUBLIC})) == [
        {"text": "Навоийнинг ғазаллари", "field": "title"},
        {"text": "Alisher Navoiy she’rlari", "field": "title"},
        {"text": "Навоий", "field": "author"},
        {"text": "Alisher Navoiy", "field": "author"},
    ]
    assert searching.suggest("o'zbek t", frozenset({PUBLIC})) == [
        {"text": "O‘zbek tili", "field": "title"},
        {"text": "O‘zbek tilining izohli lug‘ati", "field": "title"},
    ]
    assert searching.suggest("matem", frozenset({PUBLIC})) == [
        {"text": "Matematika darsligi", "field": "title"},
        {"text": "Matematika", "field": "subject"},
    ]


def test_suggestions_leave_out_hidden_records(backend: Backend) -> None:
    assert searching.suggest("maxf", frozenset({PUBLIC})) == []
    assert searching.suggest("maxf", frozenset({PUBLIC, STAFF})) == [
        {"text": "Maxfiy hisobot", "field": "title"}
    ]


# --- visibility and full text -----------------------------------------------------------------


def test_staff_only_records_are_invisible_to_the_public(backend: Backend) -> None:
    assert ids(find("hisobot")) == []
    assert ids(find("hisobot", principals=frozenset({PUBLIC, STAFF}))) == ["maxfiy"]
    assert find("").total == len(CORPUS) - 1
    assert find("", principals=frozenset({PUBLIC, STAFF})).total == len(CORPUS)


def test_closed_full_text_gives_neither_a_hit_nor_a_snippet(backend: Backend) -> None:
    assert ids(find("zarafshon")) == []
    hit = find("kutubxona").hits[0]
    assert hit["id"] == "yilnoma"
    assert hit["pages"] == []
    assert backend.pages(f"{KIND}:yilnoma", _tokens("zarafshon"), [PUBLIC], 3) == []


def test_open_full_text_gives_page_numbers_and_marked_snippets(backend: Backend) -> None:
    reader = frozenset({PUBLIC, REGISTERED})
    response = find("zarafshon", principals=reader)
    assert ids(response) == ["yilnoma"]
    assert response.hits[0]["pages"] == [
        {"number": 2, "snippet_html": "<mark>Zarafshon</mark> vodiysidagi qoʻlyozmalar."}
    ]
    public = find("samarqand")
    assert ids(public) == ["ochiq"]
    assert public.hits[0]["pages"] == [
        {"number": 1, "snippet_html": "<mark>Samarqand</mark> haqida hikoya."}
    ]


def test_page_hits_list_the_pages_holding_any_word(backend: Backend) -> None:
    pages = backend.pages(f"{KIND}:yilnoma", _tokens("kutubxona manbalar"), [REGISTERED], 5)
    assert sorted(p.number for p in pages) == [1, 3]
    assert backend.pages(f"{KIND}:yilnoma", _tokens("kutubxona"), [REGISTERED], 5)[0].text == (
        "Kirish. Kutubxona tarixi haqida."
    )


def _tokens(text: str) -> list[analysis.QueryToken]:
    return analysis.analyse_query(text)


# --- writing ----------------------------------------------------------------------------------


def test_versions_equal_the_documents_versions(backend: Backend) -> None:
    assert dict(backend.versions()) == {d.key: d.version for d in CORPUS}
    assert backend.count() == len(CORPUS)
    stats = backend.stats()
    assert stats["documents"] == len(CORPUS)
    assert stats["bytes"] > 0


def test_upsert_replaces_and_delete_removes(backend: Backend) -> None:
    renamed = replace(BY_ID["terak"], text={"title": "Chinor tagida"}, display={"title": "x"})
    with backend.writer() as writer:
        writer.upsert([renamed])
        writer.delete([f"{KIND}:qishloq", f"{KIND}:no-such-document"])
    assert ids(find("terak")) == []
    assert ids(find("chinor")) == ["terak"]
    assert find("chinor").hits[0]["title"] == "x"
    assert ids(find("hayoti")) == []
    assert backend.count() == len(CORPUS) - 1
    versions = dict(backend.versions())
    assert versions[renamed.key] == renamed.version
    assert f"{KIND}:qishloq" not in versions


def test_deleting_a_document_removes_its_pages(backend: Backend) -> None:
    with backend.writer() as writer:
        writer.delete([f"{KIND}:ochiq"])
    assert ids(find("samarqand")) == []
    assert backend.pages(f"{KIND}:ochiq", _tokens("samarqand"), [PUBLIC], 3) == []


def test_rebuild_replaces_everything(backend: Backend) -> None:
    first = [BY_ID["uz-tarix"], BY_ID["yilnoma"], BY_ID["kitob-dokoni"]]
    second = [replace(BY_ID["xamsa"], year=1500), BY_ID["kitoblar"]]
    progress: list[int] = []
    backend.rebuild([first, second], progress.append)
    assert progress == [3, 2]
    assert dict(backend.versions()) == {d.key: d.version for d in first + second}
    assert set(ids(find(""))) == {"uz-tarix", "yilnoma", "kitob-dokoni", "xamsa", "kitoblar"}
    assert ids(find("year:..1600")) == ["xamsa"]
    assert ids(find("zarafshon", principals=frozenset({PUBLIC, REGISTERED}))) == ["yilnoma"]
    assert ids(find("navoiy")) == ["xamsa"]
    assert set(ids(find("kitb"))) == {"kitob-dokoni", "kitoblar"}
    assert ids(find("ertak")) == []


def test_a_failed_rebuild_leaves_the_old_index_searchable(backend: Backend) -> None:
    def batches() -> Iterator[list[SearchDocument]]:
        yield [BY_ID["xamsa"]]
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(batches(), lambda n: None)
    assert backend.count() == len(CORPUS)
    assert set(ids(find("navoiy"))) == {"navoiy-sherlar", "gazallar", "xamsa"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["tantivy", "postgres"])
def test_a_drain_during_a_rebuild_waits_and_its_newer_document_wins(
    name: str, settings: Any, tmp_path: Any, registered_source: Any
) -> None:
    backend = _use(name, settings, tmp_path)
    old = BY_ID["terak"]
    new = replace(old, text={"title": "Terak soyasi"})
    started, proceed = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def rebuild() -> None:
        def batches() -> Iterator[list[SearchDocument]]:
            yield [old]
            started.set()
            proceed.wait(10)

        try:
            backend.rebuild(batches(), lambda n: None)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    def drain() -> None:
        try:
            with backend.writer() as writer:
                writer.upsert([new])
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    rebuilding = threading.Thread(target=rebuild)
    rebuilding.start()
    try:
        assert started.wait(10)
        draining = threading.Thread(target=drain)
        draining.start()
        draining.join(0.5)
        assert draining.is_alive(), "the drain must wait for the rebuild's lock"
        proceed.set()
        rebuilding.join(10)
        draining.join(10)
        assert errors == []
        assert dict(backend.versions()) == {new.key: new.version}
        assert ids(find("soyasi")) == ["terak"]
    finally:
        proceed.set()
        rebuilding.join(10)
        if name == "postgres":
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE search_document, search_page, search_word")


# --- tantivy schema versions ------------------------------------------------------------------


def test_a_tantivy_index_of_an_older_schema_answers_until_the_reindex_but_takes_no_writes(
    settings: Any, tmp_path: Any, db: None, registered_source: Any, monkeypatch: Any
) -> None:
    from kitobxon.search.backends import tantivy as tantivy_backend

    # The index as the release before the faculty and collection facets built it.
    def without_new_facets(document: SearchDocument) -> dict[str, list[str]]:
        return {k: v for k, v in document.filters.items() if k not in ("faculty", "collection")}

    old_keywords = tuple(k for k in tantivy_backend.KEYWORDS if k not in ("faculty", "collection"))
    with monkeypatch.context() as patch:
        patch.setattr(tantivy_backend, "KEYWORDS", old_keywords)
        patch.setattr(tantivy_backend, "SCHEMA_VERSION", 1)
        old = _use("tantivy", settings, tmp_path)
        assert isinstance(old, tantivy_backend.TantivyBackend)
        with old.writer() as writer:
            writer.upsert([replace(d, filters=without_new_facets(d)) for d in CORPUS])
    (tmp_path / "tantivy" / old._current() / tantivy_backend.SCHEMA_FILE).unlink()

    _backend.cache_clear()  # the release after the upgrade
    backend = get_backend()
    assert isinstance(backend, tantivy_backend.TantivyBackend)
    assert backend.outdated
    assert "kitobxon reindex" in (index_health() or "")  # /healthz and `kitobxon check` say so
    assert ids(find("qodiriy")) == ["otkan-kunlar"]
    assert ids(find("", filters={"faculty": ["tarix"]})) == []
    outdated = find("", filters={"lang": ["kaa"]}, facets=("type", "faculty"))
    assert outdated.facets == {"type": [("book", 4)], "faculty": []}
    refused = pytest.raises(tantivy_backend.IndexOutdated, match="kitobxon reindex")
    with refused, backend.writer() as writer:
        writer.upsert([BY_ID["xamsa"]])
    indexing.enqueue(KIND, ["xamsa"])  # a change made meanwhile waits in the outbox, unread
    assert indexing.drain() == 0
    assert PendingChange.objects.count() == 1

    backend.rebuild([CORPUS], lambda n: None)
    assert not backend.outdated
    assert index_health() is None
    assert indexing.drain() == 1 and not PendingChange.objects.exists()
    assert set(ids(find("", filters={"faculty": ["tarix"]}))) == {"a-bobur", "a-orzu"}
    with backend.writer() as writer:
        writer.delete([f"{KIND}:a-orzu"])
    assert ids(find("", filters={"faculty": ["tarix"]})) == ["a-bobur"]


# --- tantivy's facet cache ----------------------------------------------------------------------


def _count_facet_passes(backend: Backend, monkeypatch: Any) -> list[None]:
    """A list that grows by one each time `backend` counts facets."""
    passes: list[None] = []
    count = backend._facets  # type: ignore[attr-defined]

    def counting(*args: Any) -> Any:
        passes.append(None)
        return count(*args)

    monkeypatch.setattr(backend, "_facets", counting)
    return passes


def test_tantivy_counts_the_facets_of_a_search_once_until_the_index_changes(
    settings: Any, tmp_path: Any, db: None, registered_source: Any, monkeypatch: Any
) -> None:
    """The next page, another sort or the back button reuse the counts; a commit renews them."""
    backend = _use("tantivy", settings, tmp_path)
    with backend.writer() as writer:
        writer.upsert(CORPUS)
    counted = _count_facet_passes(backend, monkeypatch)

    first = find("", size=1)
    second = find("", size=1, page=2)
    newest = find("", size=1, sort="newest")
    assert dict(first.facets["subject"])["Huquq"] == 3
    assert first.facets == second.facets == newest.facets
    assert ids(first) != ids(second)
    assert len(counted) == 1
    find("", size=1, filters={"type": ["book"]})  # another search is counted on its own
    assert len(counted) == 2

    with backend.writer() as writer:  # the writer's commit reaches this process's searches
        writer.upsert([replace(BY_ID["qonun"], id="qonun-2")])
    again = find("", size=1)
    assert dict(again.facets["subject"])["Huquq"] == 4
    assert len(counted) == 3


def test_with_no_facet_cache_tantivy_counts_every_search(
    settings: Any, tmp_path: Any, db: None, registered_source: Any, monkeypatch: Any
) -> None:
    settings.SEARCH_FACET_CACHE = 0
    backend = _use("tantivy", settings, tmp_path)
    with backend.writer() as writer:
        writer.upsert(CORPUS)
    counted = _count_facet_passes(backend, monkeypatch)
    assert find("", size=1).facets == find("", size=1, page=2).facets
    assert len(counted) == 2
