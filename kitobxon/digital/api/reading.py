"""Reading in the browser: the reader's place in a file, and search inside one document.

Both act on a file the caller may open right now (``queries.access_file`` then
``queries.opening``): a file they may not see is 404, one they see but may not open (not
borrowed, off campus, embargoed) is 403 with the reason. A position is the caller's own: no
reader can read or write anyone else's.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
"""

from collections.abc import Iterator
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from kitobxon.accounts.api import AUTH
from kitobxon.accounts.models import User
from kitobxon.catalogue.api import READ_AUTH
from kitobxon.digital import errors, queries
from kitobxon.digital.models import DigitalFile, PageText
from kitobxon.digital.services import access, reading
from kitobxon.search import analysis
from kitobxon.search.analysis import QueryToken
from kitobxon.search.highlight import snippet

router = Router(tags=["digital"])

#: Hits one search returns at most, whatever ``limit`` asks.
MAX_HITS = 100


class PositionIn(Schema):
    position: str = Field(
        description="A PDF page number, an EPUB CFI or media seconds, as the reader page keeps it."
    )
    progress: float = Field(0.0, description="How far through the file, from 0 to 1.")


class PositionOut(Schema):
    file: int
    position: str = Field(description="Empty when the reader has not opened the file yet.")
    progress: float
    updated_at: datetime | None


class SearchFilters(Schema):
    q: str = Field(max_length=200, description="Words to find, in any script or spelling.")
    limit: int = Field(20, ge=1, le=MAX_HITS)


class PageHit(Schema):
    page: int = Field(description="The page (PDF) or spine document (EPUB), from 1.")
    snippet: str = Field(description="Escaped HTML; the words found are in <mark>.")


def _caller(request: HttpRequest) -> User | AnonymousUser:
    """Who is asking: a token's or a session's reader, or a visitor (see ``READ_AUTH``)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, User) else AnonymousUser()


def _openable(request: HttpRequest, file_id: int) -> DigitalFile:
    file = queries.access_file(_caller(request), file_id)
    try:
        access.decide(request, file, user=_caller(request))
    except errors.AccessDenied as refused:
        raise HttpError(403, refused.message) from refused
    return file


@router.get(
    "/files/{file_id}/position",
    response=PositionOut,
    auth=AUTH,
    url_name="digital_position",
    summary="Where I stopped in a file",
)
def get_position(request: HttpRequest, file_id: int) -> PositionOut:
    file = _openable(request, file_id)
    saved = queries.reading_position(_caller(request), file)
    if saved is None:
        return PositionOut(file=file.pk, position="", progress=0.0, updated_at=None)
    return PositionOut(
        file=file.pk, position=saved.position, progress=saved.progress, updated_at=saved.updated_at
    )


@router.put(
    "/files/{file_id}/position",
    response=PositionOut,
    auth=AUTH,
    summary="Keep my place in a file, for all my devices",
)
def put_position(request: HttpRequest, file_id: int, payload: PositionIn) -> PositionOut:
    file = _openable(request, file_id)
    try:
        saved = reading.save_position(
            file, _caller(request), position=payload.position, progress=payload.progress
        )
    except errors.DigitalError as refusal:
        raise HttpError(422, refusal.message) from refusal
    return PositionOut(
        file=file.pk, position=saved.position, progress=saved.progress, updated_at=saved.updated_at
    )


@router.get(
    "/files/{file_id}/search",
    response=list[PageHit],
    auth=READ_AUTH,
    url_name="digital_search",
    summary="Pages of a document holding these words",
)
def search_file(request: HttpRequest, file_id: int, filters: Query[SearchFilters]) -> list[PageHit]:
    file = _openable(request, file_id)
    tokens = _meaningful(analysis.analyse_query(filters.q))
    if not tokens:
        raise HttpError(422, _("Type a word to search for."))
    return [
        PageHit(page=number, snippet=snippet(text, tokens))
        for number, text in _pages_with(file, tokens, filters.limit)
    ]


def _meaningful(tokens: list[QueryToken]) -> list[QueryToken]:
    """The reader's words without "va", "и", "the" …, unless they typed nothing else."""
    content = [token for token in tokens if not token.stopword]
    return content or tokens


def _pages_with(
    file: DigitalFile, tokens: list[QueryToken], limit: int
) -> Iterator[tuple[int, str]]:
    """Pages holding every word, in page order, each word in any of its forms.

    A page is analysed as search analyses a record (``analysis.analyse``), so "ozbek",
    "O'zbek" and "ўзбек" all find "oʻzbek", and "kitob" finds "kitoblarimizdan". The pages are
    read in batches, so a long book costs memory for a batch only.
    """
    found = 0
    pages = (
        PageText.objects.filter(file=file)
        .exclude(text="")
        .order_by("number")
        .values_list("number", "text")
    )
    for number, text in pages.iterator(chunk_size=100):
        if _holds_all(analysis.analyse(text), tokens):
            yield number, text
            found += 1
            if found >= limit:
                return


def _holds_all(page: analysis.Analysed, tokens: list[QueryToken]) -> bool:
    exact, uzkey, ru, en = set(page.exact), set(page.uzkey), set(page.ru), set(page.en)
    return all(_holds(token, exact, uzkey, ru, en) for token in tokens)


def _holds(token: QueryToken, exact: set[str], uzkey: set[str], ru: set[str], en: set[str]) -> bool:
    return bool(
        exact.intersection(token.exact)
        or uzkey.intersection(token.uzkeys)
        or (token.ru and token.ru in ru)
        or (token.en and token.en in en)
    )
