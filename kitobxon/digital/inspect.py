"""What an uploaded file really is, decided by its bytes, before the library stores it.

Library rule: a file is typed by its content, never by its name or the browser's claim. A PDF
renamed ``.mp3`` is still a PDF; an SVG, an HTML page or a program is refused whatever it is
called. Each refusal is a sentence for the librarian saying what was found. Files that are
accepted but carry a risk (a PDF that runs JavaScript) are accepted with a *flag*: librarians
see the warning, and the in-browser reader runs with scripting off.

EPUBs are ZIP archives with XML inside, so they are checked as untrusted archives: size and
compression caps against zip bombs, member names against path traversal, and the XML parsed
without entities, DTDs or network (XXE, "billion laughs").
"""

from __future__ import annotations

import json
import re
import struct
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from kitobxon.digital.errors import UploadRefused
from kitobxon.digital.models import FileKind

MB = 1024 * 1024
HEAD_BYTES = 4096

#: An EPUB may unpack to at most this many times its own size (text compresses ~3-5x) ...
EPUB_MAX_EXPANSION = 20
#: ... but small books are always allowed this much, and no book more than the absolute cap.
EPUB_EXPANSION_FLOOR = 32 * MB
EPUB_MAX_UNPACKED = 2048 * MB
#: A single member may not be compressed more than this (only for members above 1 MB).
EPUB_MAX_RATIO = 100
EPUB_MAX_ENTRIES = 10_000
#: XML read from an EPUB for checking (container, package document) is read up to this size.
EPUB_MAX_XML = 16 * MB

#: A glTF JSON document (a .gltf file, or the JSON chunk of a .glb) is parsed up to this size.
GLTF_MAX_JSON = 64 * MB

CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
OPF_NS = "http://www.idpf.org/2007/opf"
XML_SUFFIXES = (".xml", ".opf", ".ncx", ".xhtml", ".html", ".htm", ".svg", ".smil")

AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9",
    b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"mp71", b"MSNV",
}  # fmt: skip
#: ISO-BMFF brands of still images and QuickTime movies: an ``ftyp`` box, but not MP4 video.
NOT_VIDEO_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis", b"qt  ", b"crx "}


@dataclass(frozen=True, slots=True)
class Inspection:
    """What the bytes are: a ``FileKind`` value, the content type and the stored extension."""

    kind: str
    content_type: str
    extension: str
    #: Warnings kept on the file, e.g. ``{"javascript": "the PDF runs JavaScript (OpenAction)"}``.
    flags: dict[str, str] = field(default_factory=dict)


def inspect_upload(path: Path, original_name: str) -> Inspection:
    """Type the file at ``path`` by its content and check it is safe to keep.

    ``original_name`` is used only in sentences; it never decides the type. Raises
    ``UploadRefused`` with a translated sentence saying why a file is refused.
    """
    size = path.stat().st_size
    if size == 0:
        raise UploadRefused(_("The file “%(name)s” is empty.") % {"name": original_name})
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    found = _by_magic(path, head)
    _check_size(found.kind, size)
    if found.kind == FileKind.PDF:
        return _inspect_pdf(path, size, found)
    if found.kind == FileKind.EPUB:
        _inspect_epub(path, size)
    elif found.kind == FileKind.CAPTIONS:
        _inspect_captions(path)
    elif found.kind == FileKind.IMAGE:
        _inspect_image(path)
    return found


# --- Typing by magic bytes -------------------------------------------------------------------


def _by_magic(path: Path, head: bytes) -> Inspection:
    if head.startswith(b"%PDF-"):
        return Inspection(FileKind.PDF, "application/pdf", "pdf")
    if head.startswith(b"PK\x03\x04"):
        if _is_epub_container(path):
            return Inspection(FileKind.EPUB, "application/epub+zip", "epub")
        _refuse_found(_("a ZIP archive (not an EPUB: its first entry is not “mimetype”)"))
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Inspection(FileKind.IMAGE, "image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Inspection(FileKind.IMAGE, "image/jpeg", "jpg")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Inspection(FileKind.IMAGE, "image/gif", "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Inspection(FileKind.IMAGE, "image/webp", "webp")
    if head.startswith(b"OggS"):
        return Inspection(FileKind.AUDIO, "audio/ogg", "ogg")
    if head[4:8] == b"ftyp":
        return _by_brand(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        doctype = _ebml_doctype(head)
        if doctype == "webm":
            return Inspection(FileKind.VIDEO, "video/webm", "webm")
        _refuse_found(_("a Matroska (%(doctype)s) file, not WebM") % {"doctype": doctype or "?"})
    if _is_mp3(path, head):
        return Inspection(FileKind.AUDIO, "audio/mpeg", "mp3")
    text = head.removeprefix(b"\xef\xbb\xbf")
    if text.startswith(b"WEBVTT") and (len(text) == 6 or text[6:7] in (b" ", b"\t", b"\n", b"\r")):
        return Inspection(FileKind.CAPTIONS, "text/vtt", "vtt")
    if head.startswith(b"glTF"):
        _check_glb(path, head)
        return Inspection(FileKind.MODEL_3D, "model/gltf-binary", "glb")
    if text.lstrip().startswith(b"{"):
        _check_gltf_json(path)
        return Inspection(FileKind.MODEL_3D, "model/gltf+json", "gltf")
    description = _known_refused(text)
    if description:
        _refuse_found(description)
    raise UploadRefused(
        _(
            "This file is not a PDF, EPUB, audio, video, caption, image or 3D model file "
            "(it starts with %(start)s)."
        )
        % {"start": _show_start(head)}
    )


def _refuse_found(description: str) -> NoReturn:
    raise UploadRefused(
        _("This file is %(found)s, not a PDF, EPUB, audio, video, caption, image or 3D model file.")
        % {"found": description}
    )


def _known_refused(text: bytes) -> str:
    """A name for common files that are not library files, for a clearer refusal."""
    start = text.lstrip()[:512].lower()
    if start.startswith(b"mz"):
        return _("a Windows program")
    if start.startswith(b"\x7felf"):
        return _("a Linux program")
    if start.startswith(b"#!"):
        return _("a script")
    if b"<svg" in start:
        return _("an SVG image (SVG can carry scripts)")
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start:
        return _("a web page (HTML)")
    if start.startswith(b"<?xml") or start.startswith(b"<"):
        return _("an XML document")
    if start.startswith((b"rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")):
        return _("a compressed archive")
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        return _("an old Microsoft Office document")
    return ""


def _show_start(head: bytes) -> str:
    shown = head[:8]
    if shown and all(32 <= byte < 127 for byte in shown):
        return f"“{shown.decode('ascii')}”"
    return " ".join(f"{byte:02X}" for byte in shown) or "—"


def _by_brand(head: bytes) -> Inspection:
    """ISO-BMFF: ``M4A``/``M4B`` brands are audio, the MP4 family is video, the rest refused."""
    (box_size,) = struct.unpack(">I", head[:4])
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    if major in AUDIO_BRANDS:
        return Inspection(FileKind.AUDIO, "audio/mp4", "m4a")
    if major not in NOT_VIDEO_BRANDS and ({major} | compatible) & VIDEO_BRANDS:
        return Inspection(FileKind.VIDEO, "video/mp4", "mp4")
    brand = major.decode("latin-1").strip() or "?"
    _refuse_found(_("an ISO media file of brand “%(brand)s” (not MP4 or M4A)") % {"brand": brand})


def _ebml_doctype(head: bytes) -> str:
    """The DocType of a Matroska/WebM EBML header ("webm", "matroska"), or "" if unreadable."""
    position = 4
    header_size, position = _ebml_vint(head, position, keep_marker=False)
    end = min(len(head), position + header_size)
    while position < end:
        element_id, position = _ebml_vint(head, position, keep_marker=True)
        length, position = _ebml_vint(head, position, keep_marker=False)
        if element_id == 0x4282:
            return head[position : position + length].rstrip(b"\0").decode("ascii", "replace")
        position += length
    return ""


def _ebml_vint(data: bytes, position: int, *, keep_marker: bool) -> tuple[int, int]:
    if position >= len(data) or data[position] == 0:
        return 0, len(data)
    first = data[position]
    width = 8 - first.bit_length() + 1
    value = first if keep_marker else first & ((1 << (8 - width)) - 1)
    for byte in data[position + 1 : position + width]:
        value = (value << 8) | byte
    return value, position + width


def _is_mp3(path: Path, head: bytes) -> bool:
    """An ID3 tag followed by an MPEG audio frame, or a frame at the very start."""
    offset = 0
    if head.startswith(b"ID3") and len(head) >= 10:
        tag_size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        offset = 10 + tag_size + (10 if head[5] & 0x10 else 0)
        with path.open("rb") as stream:
            stream.seek(offset)
            after = stream.read(HEAD_BYTES)
        padding = len(after) - len(after.lstrip(b"\0"))
        return _is_mpeg_frame(after[padding:])
    return _is_mpeg_frame(head)


def _is_mpeg_frame(data: bytes) -> bool:
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    version, layer = (data[1] >> 3) & 0b11, (data[1] >> 1) & 0b11
    bitrate, rate = data[2] >> 4, (data[2] >> 2) & 0b11
    return version != 0b01 and layer != 0 and bitrate not in (0, 0xF) and rate != 0b11


def _check_glb(path: Path, head: bytes) -> None:
    """Binary glTF 2.0: the header's version and length, and a JSON chunk naming asset 2.x."""
    if len(head) < 20:
        raise UploadRefused(_("This 3D model (glTF binary) is cut short."))
    version, length, chunk_length, chunk_type = struct.unpack("<IIII", head[4:20])
    if version != 2:
        raise UploadRefused(
            _("This 3D model is glTF version %(version)s; only glTF 2 is supported.")
            % {"version": version}
        )
    if length != path.stat().st_size or chunk_type != 0x4E4F534A or 20 + chunk_length > length:
        raise UploadRefused(_("This 3D model (glTF binary) is damaged or cut short."))
    if chunk_length > GLTF_MAX_JSON:
        _refuse_large_gltf()
    with path.open("rb") as stream:
        stream.seek(20)
        document = stream.read(chunk_length)
    _check_gltf_document(document)


def _check_gltf_json(path: Path) -> None:
    if path.stat().st_size > GLTF_MAX_JSON:
        _refuse_large_gltf()
    _check_gltf_document(path.read_bytes())


def _refuse_large_gltf() -> NoReturn:
    raise UploadRefused(
        _(
            "This 3D model's glTF description is over %(limit)s MB; upload it as a binary "
            "glTF (.glb) with its data in the binary part."
        )
        % {"limit": GLTF_MAX_JSON // MB}
    )


def _check_gltf_document(document: bytes) -> None:
    try:
        parsed: Any = json.loads(document)
    except ValueError:
        _refuse_found(_("a text file that is not valid JSON"))
    asset = parsed.get("asset") if isinstance(parsed, dict) else None
    version = str(asset.get("version", "")) if isinstance(asset, dict) else ""
    if not version:
        _refuse_found(_("a JSON document that is not a glTF 3D model (no “asset” version)"))
    if not version.startswith("2."):
        raise UploadRefused(
            _("This 3D model is glTF version %(version)s; only glTF 2 is supported.")
            % {"version": version}
        )
    _check_gltf_self_contained(parsed)
    _check_gltf_compression(parsed)


#: Compressions whose decoders model-viewer would fetch from another site (www.gstatic.com,
#: a CDN), which the reader page's Content-Security-Policy does not allow.
GLTF_REMOTE_DECODERS = {
    "KHR_draco_mesh_compression": "Draco",
    "KHR_texture_basisu": "KTX2/Basis",
    "EXT_meshopt_compression": "meshopt",
}


def _check_gltf_self_contained(parsed: dict[str, Any]) -> None:
    """A model is opened through one signed link, so it may not name other files: its buffers
    and images must be in the GLB's binary part or embedded as ``data:`` URIs."""
    outside = []
    for part in ("buffers", "images"):
        entries = parsed.get(part)
        for entry in entries if isinstance(entries, list) else []:
            uri = entry.get("uri") if isinstance(entry, dict) else None
            if isinstance(uri, str) and not uri.startswith("data:"):
                outside.append(uri)
    if outside:
        names = ", ".join(sorted(set(outside))[:5])
        raise UploadRefused(
            _(
                "This 3D model needs other files (%(names)s) that cannot be opened with it; "
                "upload a binary glTF (.glb), or a .gltf with its data embedded."
            )
            % {"names": names}
        )


def _check_gltf_compression(parsed: dict[str, Any]) -> None:
    names: set[str] = set()
    for member in ("extensionsUsed", "extensionsRequired"):
        listed = parsed.get(member)
        if isinstance(listed, list):
            names.update(name for name in listed if isinstance(name, str))
    found = sorted(label for name, label in GLTF_REMOTE_DECODERS.items() if name in names)
    if found:
        raise UploadRefused(
            _(
                "This 3D model is compressed with %(compression)s, which the library's viewer "
                "cannot decode; upload it without that compression."
            )
            % {"compression": ", ".join(found)}
        )


def _check_size(kind: str, size: int) -> None:
    limit_mb = settings.DIGITAL_MAX_MB[kind]
    if size > limit_mb * MB:
        raise UploadRefused(
            _("This file is %(size)s MB; the largest %(kind)s the library accepts is %(limit)s MB.")
            % {"size": f"{size / MB:.1f}", "kind": FileKind(kind).label, "limit": limit_mb}
        )


# --- PDF -------------------------------------------------------------------------------------


def _inspect_pdf(path: Path, size: int, found: Inspection) -> Inspection:
    """A PDF must open (pypdf, lenient), be unencrypted and end with ``%%EOF``."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    with path.open("rb") as stream:
        stream.seek(max(0, size - 2048))
        tail = stream.read()
    if b"%%EOF" not in tail:
        raise UploadRefused(_("This PDF is cut short (it has no end marker); upload it again."))
    try:
        # An open file, not a path: given a path, pypdf reads the whole file into memory.
        with warnings.catch_warnings(), path.open("rb") as stream:
            warnings.simplefilter("ignore")
            reader = PdfReader(stream, strict=False)
            if reader.is_encrypted:
                raise UploadRefused(
                    _(
                        "This PDF is password protected (encrypted). Save a copy without "
                        "a password and upload that."
                    )
                )
            if len(reader.pages) == 0:
                raise UploadRefused(_("This PDF has no pages."))
            places = _javascript_places(reader)
    except UploadRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError):
        raise UploadRefused(_("This PDF is damaged and cannot be opened.")) from None
    if not places:
        return found
    flag = "the PDF runs JavaScript ({})".format(", ".join(places))
    return Inspection(found.kind, found.content_type, found.extension, {"javascript": flag})


def _javascript_places(reader: Any) -> list[str]:
    """Where a PDF asks to run JavaScript: open action, named scripts, trigger actions, anywhere.

    The last check walks every object in the file, so scripts inside annotations, form fields or
    compressed object streams are found as well.
    """
    from pypdf.generic import DictionaryObject, IndirectObject

    places: list[str] = []
    catalog = reader.trailer["/Root"].get_object()
    if _is_javascript_action(catalog.get("/OpenAction")):
        places.append("OpenAction")
    names = catalog.get("/Names")
    if names is not None and "/JavaScript" in names.get_object():
        places.append("Names")
    if "/AA" in catalog or any("/AA" in page for page in reader.pages):
        places.append("AA")
    if places:
        return places
    numbers = {number for section in reader.xref.values() for number in section}
    numbers |= set(reader.xref_objStm)
    generations = {
        number: generation for generation, section in reader.xref.items() for number in section
    }
    for number in sorted(numbers):
        generation = generations.get(number, 0)
        obj = IndirectObject(number, generation, reader).get_object()
        # pypdf keeps every object it reads; forgetting each one keeps a 500 MB scan's
        # image streams from piling up in memory.
        reader.resolved_objects.pop((generation, number), None)
        if isinstance(obj, DictionaryObject) and ("/JS" in obj or obj.get("/S") == "/JavaScript"):
            places.append("actions")
            break
    return places


def _is_javascript_action(action: Any) -> bool:
    seen = 0
    while action is not None and seen < 32:
        action = action.get_object()
        if not hasattr(action, "get"):
            return False
        if action.get("/S") == "/JavaScript":
            return True
        following = action.get("/Next")
        action = following[0] if isinstance(following, list) and following else following
        seen += 1
    return False


# --- EPUB ------------------------------------------------------------------------------------


def _is_epub_container(path: Path) -> bool:
    """OCF rule: the first entry is ``mimetype`` holding exactly ``application/epub+zip``."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if not entries or entries[0].filename != "mimetype" or entries[0].file_size > 64:
                return False
            return archive.read(entries[0]).strip() == b"application/epub+zip"
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        return False


def _inspect_epub(path: Path, size: int) -> None:
    not_valid = _("This is not a valid EPUB: %(reason)s")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_epub_members(entries, size)
            names = {entry.filename for entry in entries}
            if "META-INF/container.xml" not in names:
                raise UploadRefused(not_valid % {"reason": _("META-INF/container.xml is missing.")})
            for entry in entries:
                if entry.filename.lower().endswith(XML_SUFFIXES):
                    _check_no_entities(_read_start(archive, entry, 256 * 1024), entry.filename)
            container = _parse_xml(_read_xml(archive, "META-INF/container.xml"), "container.xml")
            rootfile = container.find(f".//{{{CONTAINER_NS}}}rootfile")
            package_path = rootfile.get("full-path", "") if rootfile is not None else ""
            if package_path not in names:
                raise UploadRefused(
                    not_valid
                    % {"reason": _("the package document (OPF) named in container.xml is missing.")}
                )
            package = _parse_xml(_read_xml(archive, package_path), package_path)
            if package.tag != f"{{{OPF_NS}}}package" or package.find(f"{{{OPF_NS}}}spine") is None:
                raise UploadRefused(
                    not_valid
                    % {"reason": _("the package document (OPF) has no reading order (spine).")}
                )
    except zipfile.BadZipFile:
        raise UploadRefused(not_valid % {"reason": _("the ZIP archive is damaged.")}) from None
    except (NotImplementedError, EOFError, OSError):
        raise UploadRefused(
            not_valid % {"reason": _("the ZIP archive uses a compression the library cannot read.")}
        ) from None


def _check_epub_members(entries: list[zipfile.ZipInfo], size: int) -> None:
    """Zip-bomb and path-traversal rules for EPUB members (sizes as the archive declares them).

    Python's zipfile never inflates a member beyond its declared size, so the declared sizes
    bound what the library itself will ever unpack.
    """
    if len(entries) > EPUB_MAX_ENTRIES:
        raise UploadRefused(
            _("This EPUB holds %(count)s files; the library accepts at most %(limit)s.")
            % {"count": len(entries), "limit": EPUB_MAX_ENTRIES}
        )
    unpacked = 0
    allowed = min(max(EPUB_MAX_EXPANSION * size, EPUB_EXPANSION_FLOOR), EPUB_MAX_UNPACKED)
    for entry in entries:
        if not _is_safe_member_name(entry.filename):
            raise UploadRefused(
                _("This EPUB contains a file with an unsafe name (“%(name)s”).")
                % {"name": entry.filename[:100]}
            )
        unpacked += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if unpacked > allowed or (entry.file_size > MB and ratio > EPUB_MAX_RATIO):
            raise UploadRefused(
                _(
                    "This EPUB unpacks to far more than its own size (a “zip bomb”) and "
                    "cannot be accepted."
                )
            )


def _is_safe_member_name(name: str) -> bool:
    if not name or "\\" in name or "\0" in name or name.startswith("/"):
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in PurePosixPath(name).parts


def _read_start(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int) -> bytes:
    with archive.open(entry) as member:
        return member.read(limit)


def _read_xml(archive: zipfile.ZipFile, name: str) -> bytes:
    entry = archive.getinfo(name)
    if entry.file_size > EPUB_MAX_XML:
        raise UploadRefused(
            _("This is not a valid EPUB: %(reason)s")
            % {"reason": _("“%(name)s” is too large.") % {"name": name}}
        )
    return archive.read(entry)


def _check_no_entities(start: bytes, name: str) -> None:
    """Entity declarations have no place in an EPUB and are how XXE and billion laughs work."""
    patterns = (b"<!ENTITY", "<!ENTITY".encode("utf-16-le"), "<!ENTITY".encode("utf-16-be"))
    if any(pattern in start for pattern in patterns):
        raise UploadRefused(
            _(
                "This EPUB declares XML entities in “%(name)s”, which is unsafe; it cannot be "
                "accepted."
            )
            % {"name": name[:100]}
        )


def xml_parser() -> etree.XMLParser:
    """The only way EPUB XML is parsed: no entities, no DTD, no network, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
    )


def _parse_xml(data: bytes, name: str) -> etree._Element:
    try:
        tree = etree.fromstring(data, parser=xml_parser()).getroottree()
    except etree.XMLSyntaxError:
        raise UploadRefused(
            _("This is not a valid EPUB: %(reason)s")
            % {"reason": _("“%(name)s” is not well-formed XML.") % {"name": name[:100]}}
        ) from None
    dtd = tree.docinfo.internalDTD
    if dtd is not None and any(True for _entity in dtd.iterentities()):
        _check_no_entities(b"<!ENTITY", name)
    return tree.getroot()


# --- Captions and images ---------------------------------------------------------------------


def _inspect_captions(path: Path) -> None:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRefused(_("These captions are not UTF-8 text, as WebVTT requires.")) from None


def _inspect_image(path: Path) -> None:
    """Pillow must read the image header, and its pixel count stay under Pillow's bomb limit."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused(_("This image has too many pixels to be shown safely.")) from None
    except (OSError, SyntaxError, ValueError):
        raise UploadRefused(_("This image is damaged and cannot be opened.")) from None
