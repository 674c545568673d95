"""The OAI-PMH 2.0 endpoint: one URL, six verbs, GET or POST.

The view checks the request's arguments against the protocol's rules, asks ``repository``
for headers and records, and writes the response with the crosswalks. Errors are OAI-PMH
``<error>`` elements in an HTTP 200 response, as the protocol requires.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lxml import etree

from kitobxon.catalogue.data import RecordData
from kitobxon.catalogue.formats.dublincore import xml_text
from kitobxon.protocols import crosswalks
from kitobxon.protocols.oai import repository, tokens
from kitobxon.protocols.oai.repository import Entry, Selection

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
_O = f"{{{OAI}}}"
_SCHEMA_LOCATION = f"{{{XSI}}}schemaLocation"


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    crosswalk: Callable[[RecordData], etree._Element]


FORMATS = {
    "oai_dc": MetadataFormat(
        "oai_dc", crosswalks.OAI_DC_SCHEMA, crosswalks.OAI_DC_NAMESPACE, crosswalks.dublin_core
    ),
    "marc21": MetadataFormat(
        "marc21", crosswalks.MARCXML_SCHEMA, crosswalks.MARCXML_NAMESPACE, crosswalks.marcxml
    ),
}

# Arguments each verb takes: (required, optional). A resumption token is exclusive.
_ARGUMENTS: dict[str, tuple[set[str], set[str]]] = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_EMAIL = re.compile(r"^\S+@(\S+\.)+\S+$")


class OAIError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- The view -------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["GET", "POST"])
def endpoint(request: HttpRequest) -> HttpResponse:
    """OAI-PMH over GET, or POST with application/x-www-form-urlencoded arguments."""
    arguments = request.POST if request.method == "POST" else request.GET
    base_url = request.build_absolute_uri(reverse("protocols:oai"))
    root = etree.Element(f"{_O}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(_SCHEMA_LOCATION, f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    etree.SubElement(root, f"{_O}responseDate").text = repository.datestamp(datetime.now(UTC))
    echo = etree.SubElement(root, f"{_O}request")
    echo.text = base_url
    try:
        verb, values = _checked(arguments)
        for name, value in values.items():
            echo.set(name, value)
        echo.set("verb", verb)
        root.append(_VERBS[verb](values, base_url))
    except OAIError as error:
        if error.code in ("badVerb", "badArgument"):
            echo.attrib.clear()
        etree.SubElement(root, f"{_O}error", code=error.code).text = error.message
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(body, content_type="text/xml; charset=utf-8")


def _checked(arguments: QueryDict) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, once they are legal for it."""
    verbs = arguments.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in _ARGUMENTS:
        raise OAIError("badVerb", _("The verb is missing, repeated or not an OAI-PMH verb."))
    verb = verbs[0]
    values: dict[str, str] = {}
    for name, given in arguments.lists():
        if name == "verb":
            continue
        if len(given) > 1:
            raise OAIError("badArgument", _("The argument %(name)s is repeated.") % {"name": name})
        values[name] = given[0]
    required, optional = _ARGUMENTS[verb]
    illegal = set(values) - required - optional
    if illegal:
        names = ", ".join(sorted(illegal))
        raise OAIError(
            "badArgument", _("Illegal arguments for this verb: %(names)s.") % {"names": names}
        )
    if "resumptionToken" in values:
        if len(values) > 1:
            raise OAIError(
                "badArgument", _("A resumption token is the only argument allowed with it.")
            )
        return verb, values
    missing = required - set(values)
    if missing:
        names = ", ".join(sorted(missing))
        raise OAIError("badArgument", _("Missing arguments: %(names)s.") % {"names": names})
    return verb, values


# --- Verbs ----------------------------------------------------------------------------------


def _identify(values: dict[str, str], base_url: str) -> etree._Element:
    element = etree.Element(f"{_O}Identify")
    for name, text in (
        ("repositoryName", str(settings.LIBRARY_NAME)),
        ("baseURL", base_url),
        ("protocolVersion", "2.0"),
        ("adminEmail", _admin_email()),
        ("earliestDatestamp", repository.datestamp(repository.earliest_datestamp())),
        ("deletedRecord", "persistent"),
        ("granularity", "YYYY-MM-DDThh:mm:ssZ"),
    ):
        etree.SubElement(element, f"{_O}{name}").text = text
    domain = repository.repository_identifier()
    description = etree.SubElement(element, f"{_O}description")
    identifier = etree.SubElement(
        description, f"{{{OAI_IDENTIFIER}}}oai-identifier", nsmap={None: OAI_IDENTIFIER}
    )
    identifier.set(_SCHEMA_LOCATION, f"{OAI_IDENTIFIER} {OAI_IDENTIFIER}.xsd")
    for name, text in (
        ("scheme", "oai"),
        ("repositoryIdentifier", domain),
        ("delimiter", ":"),
        ("sampleIdentifier", repository.oai_identifier(1)),
    ):
        etree.SubElement(identifier, f"{{{OAI_IDENTIFIER}}}{name}").text = text
    return element


def _admin_email() -> str:
    """The first administrator's or the library's own address, if it is a full one."""
    candidates = [address for _name, address in getattr(settings, "ADMINS", [])]
    candidates += [address for _name, address in getaddresses([settings.DEFAULT_FROM_EMAIL])]
    found = next((address for address in candidates if _EMAIL.match(address)), None)
    return found or f"kutubxona@{repository.repository_identifier()}"


def _list_metadata_formats(values: dict[str, str], base_url: str) -> etree._Element:
    if "identifier" in values:
        _existing_record_id(values["identifier"])
    element = etree.Element(f"{_O}ListMetadataFormats")
    for metadata_format in FORMATS.values():
        each = etree.SubElement(element, f"{_O}metadataFormat")
        etree.SubElement(each, f"{_O}metadataPrefix").text = metadata_format.prefix
        etree.SubElement(each, f"{_O}schema").text = metadata_format.schema
        etree.SubElement(each, f"{_O}metadataNamespace").text = metadata_format.namespace
    return element


def _list_sets(values: dict[str, str], base_url: str) -> etree._Element:
    if "resumptionToken" in values:
        raise OAIError("badResumptionToken", _("The list of sets is complete in one response."))
    element = etree.Element(f"{_O}ListSets")
    for oai_set in repository.sets():
        each = etree.SubElement(element, f"{_O}set")
        etree.SubElement(each, f"{_O}setSpec").text = oai_set.spec
        etree.SubElement(each, f"{_O}setName").text = xml_text(oai_set.name)
        if oai_set.description:
            _set_description(each, oai_set.description)
    return element


def _set_description(element: etree._Element, text: str) -> None:
    """``<setDescription>`` as ``oai_dc:dc`` with one ``dc:description``."""
    oai_dc, dc = crosswalks.OAI_DC_NAMESPACE, crosswalks.DC_NAMESPACE
    payload = etree.SubElement(
        etree.SubElement(element, f"{_O}setDescription"),
        f"{{{oai_dc}}}dc",
        nsmap={"oai_dc": oai_dc, "dc": dc},
    )
    payload.set(_SCHEMA_LOCATION, f"{oai_dc} {crosswalks.OAI_DC_SCHEMA}")
    etree.SubElement(payload, f"{{{dc}}}description").text = xml_text(text)


def _get_record(values: dict[str, str], base_url: str) -> etree._Element:
    metadata_format = _format(values["metadataPrefix"])
    record_id = _existing_record_id(values["identifier"])
    found = repository.entry(record_id, with_metadata=True)
    if found is None:  # gone between the two reads
        raise OAIError("idDoesNotExist", _("No record has this identifier."))
    element = etree.Element(f"{_O}GetRecord")
    element.append(_record(found, metadata_format))
    return element


def _list_identifiers(values: dict[str, str], base_url: str) -> etree._Element:
    return _list("ListIdentifiers", values)


def _list_records(values: dict[str, str], base_url: str) -> etree._Element:
    return _list("ListRecords", values)


_VERBS: dict[str, Callable[[dict[str, str], str], etree._Element]] = {
    "Identify": _identify,
    "ListMetadataFormats": _list_metadata_formats,
    "ListSets": _list_sets,
    "GetRecord": _get_record,
    "ListIdentifiers": _list_identifiers,
    "ListRecords": _list_records,
}


# --- Lists ----------------------------------------------------------------------------------


def _list(verb: str, values: dict[str, str]) -> etree._Element:
    with_metadata = verb == "ListRecords"
    if "resumptionToken" in values:
        resumption = _resumption(verb, values["resumptionToken"])
        metadata_format = FORMATS[resumption.prefix]
        selection = Selection(resumption.set_spec, resumption.since, resumption.before)
        entries, more = repository.page(selection, resumption.after, with_metadata=with_metadata)
        size, cursor = resumption.size, resumption.cursor
    else:
        metadata_format = _format(values["metadataPrefix"])
        selection = _selection(values)
        entries, more = repository.page(selection, None, with_metadata=with_metadata)
        size = repository.list_size(selection) if more else len(entries)
        cursor = 0
    if not entries:
        raise OAIError("noRecordsMatch", _("No records match these arguments."))
    element = etree.Element(f"{_O}{verb}")
    for each in entries:
        element.append(_record(each, metadata_format) if with_metadata else _header(each))
    if more or cursor:
        _append_token(element, verb, metadata_format, selection, entries, more, size, cursor)
    return element


def _append_token(
    element: etree._Element,
    verb: str,
    metadata_format: MetadataFormat,
    selection: Selection,
    entries: list[Entry],
    more: bool,
    size: int,
    cursor: int,
) -> None:
    """The resumption token, or on the last page of a long list an empty one."""
    token = etree.SubElement(element, f"{_O}resumptionToken")
    # The list may have grown or shrunk since it was counted; never claim fewer than given.
    token.set("completeListSize", str(max(size, cursor + len(entries) + (1 if more else 0))))
    token.set("cursor", str(cursor))
    if not more:
        return
    expires = tokens.expiry()
    token.set("expirationDate", repository.datestamp(expires))
    token.text = tokens.encode(
        tokens.Resumption(
            verb=verb,
            prefix=metadata_format.prefix,
            set_spec=selection.set_spec,
            since=selection.since,
            before=selection.before,
            after=(entries[-1].stamp, entries[-1].record_id),
            size=size,
            cursor=cursor + len(entries),
            expires=expires,
        )
    )


def _resumption(verb: str, token: str) -> tokens.Resumption:
    try:
        resumption = tokens.decode(token)
    except tokens.BadToken as error:
        raise OAIError(
            "badResumptionToken", _("The resumption token is expired or invalid.")
        ) from error
    if resumption.verb != verb or resumption.prefix not in FORMATS:
        raise OAIError("badResumptionToken", _("The resumption token is for another request."))
    return resumption


def _selection(values: dict[str, str]) -> Selection:
    set_spec = values.get("set", "")
    if set_spec and not repository.is_set(set_spec):
        raise OAIError("badArgument", _("There is no set %(set)s.") % {"set": set_spec})
    since = _moment(values["from"], until=False) if "from" in values else None
    before = _moment(values["until"], until=True) if "until" in values else None
    if "from" in values and "until" in values:
        if len(values["from"]) != len(values["until"]):
            raise OAIError("badArgument", _("from and until have different granularities."))
        if since is not None and before is not None and since >= before:
            raise OAIError("badArgument", _("from is later than until."))
    return Selection(set_spec, since, before)


def _moment(text: str, *, until: bool) -> datetime:
    """A from (inclusive) or until (made exclusive) bound in either granularity."""
    try:
        if _DAY.match(text):
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1) if until else day
        if _SECOND.match(text):
            second = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            return second + timedelta(seconds=1) if until else second
    except ValueError:
        pass
    raise OAIError(
        "badArgument",
        _("%(date)s is not a date in a granularity this repository supports.") % {"date": text},
    )


def _format(prefix: str) -> MetadataFormat:
    metadata_format = FORMATS.get(prefix)
    if metadata_format is None:
        raise OAIError(
            "cannotDisseminateFormat",
            _("The metadata format %(prefix)s is not supported.") % {"prefix": prefix},
        )
    return metadata_format


def _existing_record_id(identifier: str) -> int:
    record_id = repository.record_id_of(identifier)
    if record_id is None or not repository.exists(record_id):
        raise OAIError("idDoesNotExist", _("No record has this identifier."))
    return record_id


# --- Records --------------------------------------------------------------------------------


def _header(entry: Entry) -> etree._Element:
    header = etree.Element(f"{_O}header")
    if entry.deleted:
        header.set("status", "deleted")
    etree.SubElement(header, f"{_O}identifier").text = entry.identifier
    etree.SubElement(header, f"{_O}datestamp").text = entry.datestamp
    for spec in entry.specs:
        etree.SubElement(header, f"{_O}setSpec").text = spec
    return header


def _record(entry: Entry, metadata_format: MetadataFormat) -> etree._Element:
    record = etree.Element(f"{_O}record")
    record.append(_header(entry))
    if entry.deleted or entry.data is None:
        return record
    payload = metadata_format.crosswalk(entry.data)
    etree.SubElement(record, f"{_O}metadata").append(payload)
    payload.set(_SCHEMA_LOCATION, f"{metadata_format.namespace} {metadata_format.schema}")
    return record
