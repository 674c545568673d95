"""The OPDS catalogue's addresses: the same feeds as Atom (``/opds/``) and JSON (``/opds/v2/``).

Readers are who their session says, or who their credentials say (``auth.py``: HTTP Basic with
card number or e-mail and password, or a personal access token as ``Authorization: Bearer``);
bad credentials are a 401, never a silent fall back to anonymous. Without any, the catalogue
shows what every visitor sees; the shelf asks for a reader. Borrowing is in ``loans.py``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe
from lxml import etree

from kitobxon.protocols.opds import atom, auth, feeds, opds2
from kitobxon.search.documents import FACETS as SEARCH_FACETS

OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
FILTERS = ("subject", "lang", "type")
MAX_QUERY = 500


def _caller(request: HttpRequest, version: int) -> feeds.Caller | HttpResponse:
    user = auth.reader(request, session=True)
    if isinstance(user, HttpResponse):
        return user
    return feeds.Caller(request=request, user=user, version=version)


def _authentication_url(caller: feeds.Caller) -> str:
    return caller.absolute(reverse("protocols:opds-authentication"))


def _page(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _respond(caller: feeds.Caller, feed: feeds.Feed) -> HttpResponse:
    if caller.version == 2:
        search = caller.url("search").rstrip("/") + "/{?q}"
        body = opds2.write(
            feed,
            start=caller.url("root"),
            search=search,
            authentication=_authentication_url(caller),
        )
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False), content_type=opds2.CONTENT_TYPE
        )
    else:
        document = atom.write(
            feed,
            root=caller.absolute("/"),
            start=caller.url("root"),
            search=caller.url("opensearch"),
            authentication=_authentication_url(caller),
        )
        kind = "navigation" if feed.kind == "navigation" else "acquisition"
        response = HttpResponse(
            document, content_type=f"application/atom+xml;profile=opds-catalog;kind={kind}"
        )
    patch_vary_headers(response, ["Authorization", "Cookie"])
    # The shelf changes with every borrow: an app must not show it from its cache.
    response["Cache-Control"] = (
        "private, no-store" if feed.key == "shelf" else "private, max-age=60"
    )
    return response


def _view(version: int, build: Any) -> Any:
    @require_safe
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        caller = _caller(request, version)
        if isinstance(caller, HttpResponse):
            return caller
        feed = build(caller, request, **kwargs)
        if isinstance(feed, HttpResponse):
            return feed
        return _respond(caller, feed)

    return view


def _shelf(caller: feeds.Caller, request: HttpRequest) -> feeds.Feed | HttpResponse:
    if not getattr(caller.user, "is_authenticated", False):
        return auth.challenge(request)
    return feeds.shelf(caller)


def _root(caller: feeds.Caller, request: HttpRequest) -> feeds.Feed:
    return feeds.root(caller)


def _facet(caller: feeds.Caller, request: HttpRequest, segment: str) -> feeds.Feed:
    if segment not in feeds.FACETS:
        raise Http404
    return feeds.facet(caller, segment)


def _list(caller: feeds.Caller, request: HttpRequest, segment: str) -> feeds.Feed:
    if segment not in (*feeds.LISTS, "all"):
        raise Http404
    filters = {
        name: [request.GET[name][:200]]
        for name in FILTERS
        if name in SEARCH_FACETS and request.GET.get(name)
    }
    return feeds.publications(caller, segment, filters=filters, page=_page(request))


def _search(caller: feeds.Caller, request: HttpRequest) -> feeds.Feed:
    q = request.GET.get("q", "")[:MAX_QUERY]
    return feeds.publications(caller, "search", filters={}, page=_page(request), q=q)


root = _view(1, _root)
facet = _view(1, _facet)
listing = _view(1, _list)
search = _view(1, _search)
root2 = _view(2, _root)
facet2 = _view(2, _facet)
listing2 = _view(2, _list)
search2 = _view(2, _search)
shelf = _view(1, _shelf)
shelf2 = _view(2, _shelf)


@require_safe
def authentication(request: HttpRequest) -> HttpResponse:
    """The OPDS Authentication document (every feed links to it)."""
    body = json.dumps(auth.document(request), ensure_ascii=False)
    response = HttpResponse(body, content_type=auth.DOCUMENT_TYPE)
    response["Cache-Control"] = "private, max-age=3600"  # in the reader's language
    return response


@require_safe
def opensearch(request: HttpRequest) -> HttpResponse:
    """The OpenSearch description: where and how to search, for OPDS 1.2 clients."""
    caller = feeds.Caller(request=request, user=request.user, version=1)
    element = etree.Element(
        f"{{{OPENSEARCH_NS}}}OpenSearchDescription", nsmap={None: OPENSEARCH_NS}
    )
    etree.SubElement(element, f"{{{OPENSEARCH_NS}}}ShortName").text = "Kitobxon"
    etree.SubElement(
        element, f"{{{OPENSEARCH_NS}}}Description"
    ).text = "Search the Kitobxon catalogue"
    etree.SubElement(element, f"{{{OPENSEARCH_NS}}}InputEncoding").text = "UTF-8"
    etree.SubElement(element, f"{{{OPENSEARCH_NS}}}OutputEncoding").text = "UTF-8"
    template = caller.url("search") + "?q={searchTerms}&page={startPage?}"
    etree.SubElement(
        element,
        f"{{{OPENSEARCH_NS}}}Url",
        type=atom.ACQUISITION_TYPE,
        template=template,
        pageOffset="1",
    )
    json_template = feeds.Caller(request, request.user, 2).url("search")
    etree.SubElement(
        element,
        f"{{{OPENSEARCH_NS}}}Url",
        type=opds2.CONTENT_TYPE,
        template=json_template + "?q={searchTerms}&page={startPage?}",
        pageOffset="1",
    )
    body = etree.tostring(element, xml_declaration=True, encoding="utf-8")
    return HttpResponse(body, content_type=atom.OPENSEARCH_TYPE)
