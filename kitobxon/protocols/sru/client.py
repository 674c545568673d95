"""Copy cataloguing: search a remote SRU server for MARCXML records and import one.

The server is reached through `kitobxon.core.outbound` (public internet addresses only, unless
settings allow others). The remote answer is read with the catalogue's own MARCXML reader (safe
XML: no entities, no external DTDs) and saved through `catalogue.services.save_records`, which
matches on 001+003, then ISBN, then the configured key, so importing the same record twice
updates it.
"""

from __future__ import annotations

import io
import urllib.parse
from dataclasses import dataclass

from lxml import etree

from kitobxon.accounts.models import User
from kitobxon.catalogue import services
from kitobxon.catalogue.data import RecordData
from kitobxon.catalogue.formats import xmlsafety
from kitobxon.catalogue.formats.marc import read_marcxml
from kitobxon.catalogue.services.records import Saved
from kitobxon.core import outbound

SRU_NAMESPACES = (
    "http://docs.oasis-open.org/ns/search-ws/sruResponse",
    "http://www.loc.gov/zing/srw/",
)
TIMEOUT = 20
MAX_RESPONSE = 20 * 2**20
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class RemoteError(Exception):
    """The remote server could not be reached, or answered with a diagnostic or garbage."""


@dataclass(frozen=True, slots=True)
class Found:
    position: int
    data: RecordData

    @property
    def isbn(self) -> str:
        return next((i.value for i in self.data.identifiers if i.scheme == "isbn"), "")

    @property
    def author(self) -> str:
        return self.data.contributors[0].name if self.data.contributors else ""


def search_remote(base_url: str, query: str, *, maximum: int = 10, start: int = 1) -> list[Found]:
    """Records matching ``query`` (CQL) on the SRU server at ``base_url``, as MARCXML."""
    parameters = {
        "operation": "searchRetrieve",
        "version": "2.0",
        "query": query,
        "startRecord": str(start),
        "maximumRecords": str(maximum),
        "recordSchema": "marcxml",
        "recordXMLEscaping": "xml",
    }
    separator = "&" if "?" in base_url else "?"
    url = base_url + separator + urllib.parse.urlencode(parameters)
    try:
        with outbound.open_url(url, timeout=TIMEOUT) as response:
            body = response.read(MAX_RESPONSE + 1)
    except outbound.OutboundRefused as refused:
        raise RemoteError(refused.message) from refused
    except OSError as error:
        raise RemoteError(f"the server did not answer: {error}") from error
    if len(body) > MAX_RESPONSE:
        raise RemoteError("the answer is too large")
    return list(_records(body))


def _records(body: bytes) -> list[Found]:
    try:
        xmlsafety.refuse_entities(body)
        root = etree.fromstring(body, _PARSER)
    except (xmlsafety.UnsafeXMLError, etree.XMLSyntaxError) as error:
        raise RemoteError(f"the answer is not SRU XML: {error}") from error
    namespace = etree.QName(root).namespace
    if namespace not in SRU_NAMESPACES:
        raise RemoteError("the answer is not an SRU response")
    for diagnostic in root.iter("{*}diagnostic"):
        uri = diagnostic.findtext("{*}uri") or ""
        message = diagnostic.findtext("{*}message") or ""
        raise RemoteError(f"{uri} {message}".strip())
    found: list[Found] = []
    for position, record in enumerate(root.iter(f"{{{namespace}}}record"), 1):
        data = record.find(f"{{{namespace}}}recordData")
        if data is None:
            continue
        position = int(record.findtext(f"{{{namespace}}}recordPosition") or position)
        if len(data):
            raw = etree.tostring(data[0])
        elif (data.text or "").strip():
            raw = (data.text or "").strip().encode("utf-8")
        else:
            continue
        for parsed in read_marcxml(io.BytesIO(raw)):
            if parsed.ok and parsed.data is not None:
                found.append(Found(position, parsed.data))
    return found


def import_found(found: Found, *, by: User | None) -> Saved:
    """Save one remote record through the catalogue's services (de-duplicated)."""
    return services.save_records([found.data], by=by)[0]
