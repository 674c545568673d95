"""SRU 2.0 at /sru: explain and searchRetrieve over the catalogue's search, as XML.

A thin adapter: CQL is parsed (`protocols.cql`), mapped onto the reader's query language
(`mapping`), answered by `kitobxon.search.searching.search` with the caller's principals, and
the records are read back through `catalogue.queries.readable_records` before the crosswalks
write them, so a draft never leaves by SRU to someone who could not open it. Version 1.2
requests are answered too (with a ``version`` element; ``recordPacking`` read as escaping).
Results are sorted by a CQL ``sortBy`` clause or a ``sortKeys`` parameter (see ``mapping``).
Errors are SRU diagnostics in the response, with HTTP 200 as the protocol expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from lxml import etree

from kitobxon.catalogue import queries as catalogue
from kitobxon.catalogue.data import RecordData
from kitobxon.protocols import cql, crosswalks
from kitobxon.protocols.sru import mapping
from kitobxon.search import queries as search_queries
from kitobxon.search.searching import MAX_SIZE, SearchRequest, search

SRU = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
DIAG = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
EXPLAIN = "http://explain.z3950.org/dtd/2.0/"
DIAGNOSTIC_URI = "info:srw/diagnostic/1/"
DEFAULT_RECORDS = 10
#: recordSchema → (schema identifier, crosswalk)
SCHEMAS = {
    "dc": ("info:srw/schema/1/dc-v1.1", crosswalks.dublin_core),
    "marcxml": ("info:srw/schema/1/marcxml-v1.1", crosswalks.marcxml),
}
SCHEMA_ALIASES = {"dc": "dc", "marcxml": "marcxml", "marc21": "marcxml"} | {
    identifier: name for name, (identifier, _) in SCHEMAS.items()
}
VERSIONS = ("1.1", "1.2", "2.0")
DIAGNOSTIC_MESSAGES = {
    1: "General system error",
    5: "Unsupported version",
    6: "Unsupported parameter value",
    7: "Mandatory parameter not supplied",
    61: "First record position out of range",
    66: "Unknown schema for retrieval",
    71: "Unsupported record data escaping",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: int
    details: str = ""
    message: str = ""


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _e(parent: etree._Element, name: str, text: object = None, ns: str = SRU) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        element.text = str(text)
    return element


def _xml(root: etree._Element) -> HttpResponse:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def _diagnostics(parent: etree._Element, diagnostics: list[Diagnostic]) -> None:
    holder = _e(parent, "diagnostics")
    for each in diagnostics:
        element = _e(holder, "diagnostic", ns=DIAG)
        _e(element, "uri", f"{DIAGNOSTIC_URI}{each.code}", ns=DIAG)
        if each.details:
            _e(element, "details", each.details, ns=DIAG)
        _e(element, "message", each.message or DIAGNOSTIC_MESSAGES.get(each.code, ""), ns=DIAG)


@require_GET
def sru(request: HttpRequest) -> HttpResponse:
    params = request.GET
    version = params.get("version", "2.0")
    operation = params.get("operation") or ("searchRetrieve" if "query" in params else "explain")
    if operation == "searchRetrieve":
        return _search_retrieve(request, params, version)
    response = _explain(request, version)
    if operation != "explain" or version not in VERSIONS:
        diagnostic = (
            Diagnostic(5, version, "Unsupported version")
            if version not in VERSIONS
            else Diagnostic(4, operation, "Unsupported operation")
        )
        root = etree.fromstring(response.content)
        _diagnostics(root, [diagnostic])
        return _xml(root)
    return response


def _explain(request: HttpRequest, version: str) -> HttpResponse:
    root = etree.Element(f"{{{SRU}}}explainResponse", nsmap={None: SRU, "diag": DIAG})
    if version in ("1.1", "1.2"):
        _e(root, "version", version)
    record = _e(root, "record")
    _e(record, "recordSchema", EXPLAIN)
    _e(record, "recordXMLEscaping", "xml")
    data = _e(record, "recordData")
    explain = etree.SubElement(data, f"{{{EXPLAIN}}}explain", nsmap={None: EXPLAIN})
    server = etree.SubElement(explain, f"{{{EXPLAIN}}}serverInfo", protocol="SRU", version="2.0")
    etree.SubElement(server, f"{{{EXPLAIN}}}host").text = request.get_host().split(":")[0]
    etree.SubElement(server, f"{{{EXPLAIN}}}port").text = request.get_port()
    etree.SubElement(server, f"{{{EXPLAIN}}}database").text = request.path.lstrip("/")
    info = etree.SubElement(explain, f"{{{EXPLAIN}}}databaseInfo")
    etree.SubElement(info, f"{{{EXPLAIN}}}title", lang="en", primary="true").text = "Kitobxon"
    index_info = etree.SubElement(explain, f"{{{EXPLAIN}}}indexInfo")
    for name, identifier in (
        ("dc", "info:srw/cql-context-set/1/dc-v1.1"),
        ("bath", "http://zing.z3950.org/cql/bath/2.0/"),
        ("cql", "info:srw/cql-context-set/1/cql-v1.2"),
    ):
        etree.SubElement(index_info, f"{{{EXPLAIN}}}set", name=name, identifier=identifier)
    for name in mapping.INDEXES:
        context_set, index_name = name.split(".")
        index = etree.SubElement(index_info, f"{{{EXPLAIN}}}index", search="true")
        if name in mapping.SORT_INDEXES:
            index.set("sort", "true")
        etree.SubElement(index, f"{{{EXPLAIN}}}title", lang="en").text = name
        holder = etree.SubElement(index, f"{{{EXPLAIN}}}map")
        etree.SubElement(holder, f"{{{EXPLAIN}}}name", set=context_set).text = index_name
    schema_info = etree.SubElement(explain, f"{{{EXPLAIN}}}schemaInfo")
    for name, (identifier, _) in SCHEMAS.items():
        schema = etree.SubElement(
            schema_info, f"{{{EXPLAIN}}}schema", identifier=identifier, name=name
        )
        etree.SubElement(schema, f"{{{EXPLAIN}}}title", lang="en").text = name
    config = etree.SubElement(explain, f"{{{EXPLAIN}}}configInfo")
    etree.SubElement(config, f"{{{EXPLAIN}}}default", type="numberOfRecords").text = str(
        DEFAULT_RECORDS
    )
    etree.SubElement(config, f"{{{EXPLAIN}}}setting", type="maximumRecords").text = str(MAX_SIZE)
    return _xml(root)


def _integer(params: Mapping[str, str], name: str, default: int, lowest: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Refused(Diagnostic(6, name)) from None
    if value < lowest:
        raise _Refused(Diagnostic(6, name))
    return value


def _search_retrieve(request: HttpRequest, params: Mapping[str, str], version: str) -> HttpResponse:
    root = etree.Element(f"{{{SRU}}}searchRetrieveResponse", nsmap={None: SRU, "diag": DIAG})
    legacy = version in ("1.1", "1.2")
    if legacy:
        _e(root, "version", version)
    try:
        if version not in VERSIONS:
            raise _Refused(Diagnostic(5, version, "Unsupported version"))
        text = params.get("query", "")
        if not text.strip():
            raise _Refused(Diagnostic(7, "query"))
        start = _integer(params, "startRecord", 1, 1)
        maximum = min(_integer(params, "maximumRecords", DEFAULT_RECORDS, 0), MAX_SIZE)
        schema_name = SCHEMA_ALIASES.get(params.get("recordSchema", "dc"))
        if schema_name is None:
            raise _Refused(Diagnostic(66, params.get("recordSchema", "")))
        escaping_parameter = "recordPacking" if legacy else "recordXMLEscaping"
        escaping = params.get(escaping_parameter, "xml")
        if escaping not in ("xml", "string"):
            raise _Refused(Diagnostic(71, escaping))
        try:
            node = cql.parse(text)
            q = mapping.to_query(node)
            sort = mapping.search_sort(node, params.get("sortKeys", ""))
        except cql.CQLError as error:
            raise _Refused(Diagnostic(error.code, error.details, error.message)) from None
        total, records = _page(request, q, sort, start, maximum)
        if total and start > total:
            raise _Refused(Diagnostic(61, str(start)))
    except _Refused as refused:
        _e(root, "numberOfRecords", 0)
        _diagnostics(root, [refused.diagnostic])
        return _xml(root)

    _e(root, "numberOfRecords", total)
    identifier, crosswalk = SCHEMAS[schema_name]
    if records:
        holder = _e(root, "records")
        for position, data in enumerate(records, start):
            record = _e(holder, "record")
            _e(record, "recordSchema", identifier)
            _e(record, "recordPacking" if legacy else "recordXMLEscaping", escaping)
            record_data = _e(record, "recordData")
            element = crosswalk(data)
            if escaping == "string":
                record_data.text = etree.tostring(element, encoding="unicode")
            else:
                record_data.append(element)
            _e(record, "recordPosition", position)
    if start + len(records) <= total and records:
        _e(root, "nextRecordPosition", start + len(records))
    return _xml(root)


def _page(
    request: HttpRequest, q: str, sort: str, start: int, maximum: int
) -> tuple[int, list[RecordData]]:
    """The total and the records from ``start`` (1-based), at most ``maximum`` of them.

    Search pages are fixed-size; an arbitrary start reads the one or two pages around it.
    """
    principals = search_queries.principals(request.user)
    size = max(maximum, 1)
    first = (start - 1) // size + 1
    ids: list[str] = []
    total = 0
    for page in (first, first + 1):
        found = search(
            SearchRequest(
                q=f"({q})",  # in brackets: never taken for an identifier to jump to
                sort=sort,
                page=page,
                size=size,
                principals=principals,
                facets=(),
                count_zero=False,
            )
        )
        total = found.total
        ids.extend(str(hit["id"]) for hit in found.hits)
        if (start - 1) % size == 0 or page * size >= total:
            break
    skip = (start - 1) - (first - 1) * size
    wanted = ids[skip : skip + maximum]
    readable = catalogue.with_details(
        catalogue.readable_records(request.user).filter(pk__in=wanted)
    )
    by_id = {str(record.pk): catalogue.to_data(record) for record in readable}
    return total, [by_id[i] for i in wanted if i in by_id]
