"""unAPI (unapi.info): which formats a record comes in, and the record in one of them.

``GET /unapi`` lists the formats; ``?id=record:12`` lists them for that record (300 Multiple
Choices, as the specification asks); ``?id=record:12&format=marcxml`` redirects to the
catalogue's export of that record. Only records the caller may see exist here.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET
from lxml import etree

from kitobxon.catalogue.importing import FORMATS
from kitobxon.catalogue.models import Record
from kitobxon.catalogue.queries import access_record, to_data
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
    title = context_object(to_data(record), record_id=request.build_absolute_uri())
    html = (
        f'<span class="Z3988" title="{_attribute(title)}"></span>'
        f'<abbr class="unapi-id" title="record:{record.pk}"></abbr>'
    )
    return SafeString(html)


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
