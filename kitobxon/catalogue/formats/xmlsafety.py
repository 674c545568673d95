"""Reading XML from outside the library without letting the file reach out.

An imported file is untrusted. A DOCTYPE may declare entities that read local files
(``<!ENTITY x SYSTEM "file:///etc/passwd">``) or expand exponentially ("billion laughs"), or
name an external DTD to fetch. Kitobxon's formats never need any of that, so:

- a document whose prolog declares an entity, or names an external DTD, is refused before
  any parser sees it (``refuse_entities``);
- the parser never loads a DTD, never resolves entities, never uses the network and keeps
  libxml2's size limits (``PARSER_OPTIONS``);
- after the first element, the parsed internal subset is checked again
  (``refuse_declared_entities``), in case a prolog slipped past the byte scan.

Schemas are compiled only from local copies (``load_schema``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
}

PROLOG_LIMIT = 1 << 20  # a real prolog is a few hundred bytes; a megabyte is an attack
_CHUNK = 1 << 16
_COMMENT_OR_PI = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)
_FIRST_ELEMENT = re.compile(rb"<[^!?]")
_ENTITY = re.compile(rb"<!ENTITY")
_EXTERNAL_DTD = re.compile(rb"<!DOCTYPE\s+[^\s\[>]+\s+(?:SYSTEM|PUBLIC)\b")


class UnsafeXMLError(ValueError):
    """The document asks the parser to do something an import must never do."""


def _first_element(visible: bytes) -> int:
    """Where the first element starts in a prolog cleaned of comments, or -1 if not yet."""
    match = _FIRST_ELEMENT.search(visible)
    if match is None:
        return -1
    before = visible[: match.start()]
    if b"<!--" in before or b"<?" in before:
        return -1  # an unfinished comment or processing instruction: read on
    return match.start()


def _visible(head: bytes) -> bytes:
    """The bytes without comments, processing instructions and NULs: what the scan looks at."""
    return _COMMENT_OR_PI.sub(b"", head.replace(b"\x00", b""))


def refuse_entities(prolog: bytes) -> None:
    """Refuse a prolog that declares entities or names an external DTD.

    ``prolog`` is everything before the first element. Comments and processing instructions
    are set aside first so that ``<a>`` inside a comment does not end the prolog early. NUL
    bytes are dropped so that the scan also sees UTF-16 and UTF-32 documents.
    """
    text = _visible(prolog)
    if _ENTITY.search(text):
        raise UnsafeXMLError(
            "refused: the document's DOCTYPE declares XML entities; Kitobxon never expands "
            "entities (they can read local files or explode in size)"
        )
    if _EXTERNAL_DTD.search(text):
        raise UnsafeXMLError(
            "refused: the document's DOCTYPE names an external DTD; Kitobxon never loads one"
        )


def read_prolog(stream: BinaryIO) -> bytes:
    """Read from ``stream`` until the first element has started.

    Returns the bytes read (the caller replays them to the parser). Stops at the end of the
    stream, and refuses a prolog longer than ``PROLOG_LIMIT``.
    """
    head = b""
    while True:
        chunk = stream.read(_CHUNK)
        head += chunk
        if not chunk or _first_element(_visible(head)) >= 0:
            return head
        if len(head) > PROLOG_LIMIT:
            raise UnsafeXMLError(
                f"refused: no element in the first {PROLOG_LIMIT} bytes of the document"
            )


class _Replay(io.RawIOBase):
    """The bytes already read, then the rest of the stream: what the parser reads."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(-1 if size is None else size)


def guarded(stream: BinaryIO) -> _Replay:
    """``stream`` checked by ``refuse_entities``, ready for the parser.

    Raises ``UnsafeXMLError`` before the parser sees a byte of a refused document.
    """
    head = read_prolog(stream)
    visible = _visible(head)
    cut = _first_element(visible)
    refuse_entities(visible if cut < 0 else visible[:cut])
    return _Replay(head, stream)


def refuse_declared_entities(element: Any) -> None:
    """Second check, on the parsed tree: no entity declarations, no external DTD."""
    docinfo = element.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.entities()):
        raise UnsafeXMLError("refused: the document's DOCTYPE declares XML entities")
    if docinfo.system_url or docinfo.public_id:
        raise UnsafeXMLError("refused: the document's DOCTYPE names an external DTD")


def iterparse(stream: BinaryIO, events: tuple[str, ...] = ("start", "end")) -> Iterator[Any]:
    """``lxml.etree.iterparse`` over an untrusted stream, with every safety check on.

    Yields ``(event, element)`` like lxml. Raises ``UnsafeXMLError`` for a refused document
    and ``lxml.etree.XMLSyntaxError`` where the document stops being well-formed.
    """
    checked = False
    for event, element in etree.iterparse(guarded(stream), events=events, **PARSER_OPTIONS):
        if not checked:
            refuse_declared_entities(element)
            checked = True
        yield event, element


def safe_parser() -> etree.XMLParser:
    """A parser for whole (small) documents with the same safety options."""
    return etree.XMLParser(**PARSER_OPTIONS)


class _LocalCopies(etree.Resolver):
    """Answers a schema's imports of remote URLs with local files, never the network."""

    def __init__(self, copies: Mapping[str, Path]) -> None:
        super().__init__()
        self._copies = dict(copies)

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        path = self._copies.get(system_url)
        if path is not None:
            return self.resolve_filename(str(path), context)
        return None


def load_schema(path: Path, local_copies: Mapping[str, Path] | None = None) -> etree.XMLSchema:
    """Compile the XML Schema at ``path``; imports of URLs in ``local_copies`` read those files.

    Any other remote import fails: the parser has no network.
    """
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalCopies(local_copies or {}))
    return etree.XMLSchema(etree.parse(str(path), parser))
