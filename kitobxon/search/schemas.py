from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel


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


# Answers are plain pydantic models, validated from the dicts the search builds: django-ninja's
# Schema reads every nested value through its attribute getter (made for ORM objects), which
# cost about a seventh of an /api/search request.


class PageOut(BaseModel):
    number: int
    snippet_html: str


class HitOut(BaseModel):
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


class FacetValueOut(BaseModel):
    value: str
    label: str
    count: int


class SearchOut(BaseModel):
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


class SuggestionOut(BaseModel):
    text: str
    field: str


class SuggestOut(BaseModel):
    suggestions: list[SuggestionOut]


_HIT_FIELDS = frozenset(HitOut.model_fields)


def hit_out(hit: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hit.items() if k in _HIT_FIELDS}
