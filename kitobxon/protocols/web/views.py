"""unAPI (unapi.info): which formats a record comes in, and the record in one of them.

``GET /unapi`` lists the formats; ``?id=record:12`` lists them for that record (300 Multiple
Choices, as the specification asks); ``?id=record:12&format=marcxml`` redirects to the
catalogue's export of that record. Only records the caller may see exist here.

Record pages and search results pages carry, for each record, a COinS span and an unAPI id:
the record page through a catalogue panel, the results page through a search hit extra.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET
from lxml import etree

from kitobxon.catalogue.data import ContributorData, IdentifierData, RecordData
from kitobxon.catalogue.importing import FORMATS
from kitobxon.catalogue.models import Contribution, Record
from kitobxon.catalogue.queries import access_record, readable_records, to_data
from kitobxon.protocols.web.coins import context_object

#: unAPI format name → the catalogue's export format.
UNAPI_FORMATS = {"marcxml": "marcxml", "oai_dc": "dc", "ris": "ris", "bibtex": "bibtex"}
DOCS = {"marcxml": "http://www.loc.gov/standards/marcxml/"}


def _formats(record_id: str = "") -> bytes:
    root = etree.Element("formats")
    if record_id:
        root.set("id", record_id)
    for name, export in UNAPI_FORMATS.items():
        element = etree.SubElement(root, "format", name=name, type=FORMATS[export].media_type)
        if name in DOCS:
            element.set("docs", DOCS[name])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _record_id(value: str) -> int:
    prefix, _, number = value.partition(":")
    if prefix != "record" or not number.isdigit():
        raise Http404
    return int(number)


@require_GET
def unapi(request: HttpRequest) -> HttpResponse:
    identifier = request.GET.get("id", "")
    wanted = request.GET.get("format", "")
    if not identifier:
        return HttpResponse(_formats(), content_type="application/xml")
    record = access_record(request.user, _record_id(identifier))
    if not wanted:
        return HttpResponse(_formats(identifier), content_type="application/xml", status=300)
    if wanted not in UNAPI_FORMATS:
        return HttpResponse(status=406)
    return HttpResponseRedirect(
        reverse("catalogue:export", args=[record.pk, UNAPI_FORMATS[wanted]])
    )


def record_panel(request: HttpRequest, record: Record) -> SafeString:
    """The record page's COinS span and unAPI id (registered with ``catalogue.panels``)."""
    return _zotero_html(to_data(record), record.pk, request.build_absolute_uri())


def result_extras(request: HttpRequest, hits: Sequence[Mapping[str, Any]]) -> dict[str, SafeString]:
    """The COinS span and unAPI id of each record on a search results page, by hit key.

    Registered with ``search.registry``. Only records the visitor may open get them (the index
    can lag behind a record turned back into a draft), and the whole page costs three queries:
    the records, their contributors, their identifiers.
    """
    keys = {
        int(hit["id"]): str(hit["key"])
        for hit in hits
        if hit.get("kind") == "record" and str(hit.get("id", "")).isdigit()
    }
    if not keys:
        return {}
    records = (
        readable_records(request.user)
        .filter(pk__in=list(keys))
        .prefetch_related(
            Prefetch("contributions", queryset=Contribution.objects.select_related("agent")),
            "identifiers",
        )
    )
    return {
        keys[record.pk]: _zotero_html(
            _citation_data(record),
            record.pk,
            request.build_absolute_uri(record.get_absolute_url()),
        )
        for record in records
    }


def _citation_data(record: Record) -> RecordData:
    """What a COinS span reads of a record (as ``to_data`` gives it), without subjects and
    classifications, so a results page needs no query for them."""
    return RecordData(
        title=record.title,
        subtitle=record.subtitle,
        contributors=[
            ContributorData(name=c.agent.name, role=c.role) for c in record.contributions.all()
        ],
        publisher=record.publisher,
        place=record.place,
        year=record.year,
        edition=record.edition,
        languages=list(record.languages),
        resource_type=record.resource_type,
        identifiers=[
            IdentifierData(scheme=i.scheme, value=i.normalized if i.is_valid else i.value)
            for i in record.identifiers.all()
        ],
        series=record.series,
    )


def _zotero_html(data: RecordData, record_pk: int, url: str) -> SafeString:
    """A COinS span (the KEV escaped into its title) and the unAPI id of one record."""
    return format_html(
        '<span class="Z3988" title="{}"></span><abbr class="unapi-id" title="record:{}"></abbr>',
        context_object(data, record_id=url),
        record_pk,
    )
