from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class SearchParams(Schema):
    q: str = Field("", max_length=1000, description="what the reader typed; see docs/search.md")
    sort: str = Field("relevance", description="relevance, newest, oldest, title, popularity")
    page: int = Field(1, ge=1, le=500)
    size: int = Field(20, ge=1, le=100)
    type: list[str] = Field([], description="resource type; repeat for OR")
    lang: list[str] = Field([], description="language code (uzb, rus, eng, kaa …); repeat for OR")
    year: list[str] = Field([], description="a year range such as 2011..2020")
    subject: list[str] = []
    author: list[str] = []
    audience: list[str] = []
    availability: list[str] = Field([], description="available, on_loan, online")
    access: list[str] = []
    branch: list[str] = []
    faculty: list[str] = Field([], description="a faculty's or department's code; repeat for OR")
    collection: list[str] = Field([], description="a collection's code; repeat for OR")


class PageOut(Schema):
    number: int
    snippet_html: str


class HitOut(Schema):
    key: str
    kind: str
    id: str
    title: str = ""
    subtitle: str = ""
    authors: list[str] = []
    year: int | None = None
    type: str = ""
    languages: list[str] = []
    url: str = ""
    score: float
    title_html: str = ""
    snippet_html: str = ""
    pages: list[PageOut] = []


class FacetValueOut(Schema):
    value: str
    label: str
    count: int


class SearchOut(Schema):
    total: int
    page: int
    size: int
    sort: str
    notice: str | None = None
    notice_text: str = ""
    did_you_mean: str | None = None
    fuzzy: bool = False
    redirect: str | None = None
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]]


class SuggestionOut(Schema):
    text: str
    field: str


class SuggestOut(Schema):
    suggestions: list[SuggestionOut]


def hit_out(hit: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hit.items() if k in HitOut.model_fields}
