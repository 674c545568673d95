"""Uploads are typed by their bytes and refused with a reason when unsafe or not library files."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from kitobxon.digital import inspect, samples
from kitobxon.digital.errors import UploadRefused
from kitobxon.digital.inspect import Inspection, inspect_upload

Inspect = Callable[..., Inspection]


@pytest.fixture
def check(tmp_path: Path) -> Inspect:
    """Write ``data`` under ``name`` and inspect it, as the upload service does."""

    def run(data: bytes, name: str = "upload.bin") -> Inspection:
        path = tmp_path / "spool.upload"
        path.write_bytes(data)
        return inspect_upload(path, name)

    return run


def refusal(check: Inspect, data: bytes, name: str = "upload.bin") -> str:
    with pytest.raises(UploadRefused) as refused:
        check(data, name)
    return refused.value.message


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "#2a6f97").save(out, fmt)
    return out.getvalue()


def rezip(
    book: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> bytes:
    """The EPUB ``book`` with some members replaced or added (deflated, as real books are)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            data = (replace or {}).get(entry.filename, source.read(entry))
            target.writestr(entry, data, compress_type=entry.compress_type)
        for name, data in (add or {}).items():
            target.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def book() -> bytes:
    return samples.epub([("Birinchi bob", "Salom."), ("Ikkinchi bob", "Xayr.")])


# --- Accepted files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kind", "content_type", "extension"),
    [
        (lambda: samples.pdf(["Salom", "Привет"]), "pdf", "application/pdf", "pdf"),
        (samples.scanned_pdf, "pdf", "application/pdf", "pdf"),
        (book, "epub", "application/epub+zip", "epub"),
        (lambda: samples.audio("mp3"), "audio", "audio/mpeg", "mp3"),
        (lambda: samples.audio("ogg"), "audio", "audio/ogg", "ogg"),
        (lambda: samples.audio("m4a"), "audio", "audio/mp4", "m4a"),
        (lambda: samples.video("mp4"), "video", "video/mp4", "mp4"),
        (lambda: samples.video("webm"), "video", "video/webm", "webm"),
        (samples.webvtt, "captions", "text/vtt", "vtt"),
        (lambda: b"\xef\xbb\xbf" + samples.webvtt(), "captions", "text/vtt", "vtt"),
        (samples.png, "image", "image/png", "png"),
        (samples.jpeg, "image", "image/jpeg", "jpg"),
        (lambda: image("GIF"), "image", "image/gif", "gif"),
        (lambda: image("WEBP"), "image", "image/webp", "webp"),
        (samples.glb, "3d", "model/gltf-binary", "glb"),
        (lambda: b'{"asset": {"version": "2.0"}, "scenes": []}', "3d", "model/gltf+json", "gltf"),
    ],
)
def test_every_library_file_type_is_recognised_by_its_content(
    check: Inspect, make: Callable[[], bytes], kind: str, content_type: str, extension: str
) -> None:
    found = check(make(), "whatever.bin")

    assert (found.kind, found.content_type, found.extension) == (kind, content_type, extension)
    assert found.flags == {}


def test_a_renamed_file_is_typed_by_its_bytes_not_its_name(check: Inspect) -> None:
    assert check(samples.pdf(["Hujjat"]), "qoʻshiq.mp3").kind == "pdf"
    assert check(samples.audio("mp3"), "kitob.pdf").content_type == "audio/mpeg"
    assert check(samples.png(), "muqova.epub").extension == "png"


def test_a_pdf_that_runs_javascript_is_accepted_with_a_warning(check: Inspect) -> None:
    found = check(samples.pdf_with_javascript(), "hujjat.pdf")

    assert found.kind == "pdf"
    assert found.flags == {"javascript": "the PDF runs JavaScript (OpenAction)"}


def test_javascript_in_a_link_annotation_is_found_by_walking_every_object(check: Inspect) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf(["Havola"]))))
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert(1)"),
        }
    )
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/A"): writer._add_object(action),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    out = io.BytesIO()
    writer.write(out)

    assert check(out.getvalue()).flags == {"javascript": "the PDF runs JavaScript (actions)"}


# --- Refusals --------------------------------------------------------------------------------


def test_an_empty_file_is_refused(check: Inspect) -> None:
    assert "is empty" in refusal(check, b"", "kitob.pdf")


def test_a_file_above_the_limit_of_its_kind_is_refused(check: Inspect, settings) -> None:
    settings.DIGITAL_MAX_MB = {**settings.DIGITAL_MAX_MB, "pdf": 0}

    message = refusal(check, samples.pdf(["Katta"]))

    assert "the largest PDF document the library accepts is 0 MB" in message
    assert check(samples.png()).kind == "image"  # other kinds keep their own limit


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "SVG"),
        (b"<!DOCTYPE html><html><body>Salom</body></html>", "web page (HTML)"),
        (b"MZ\x90\x00\x03" + b"\0" * 200, "Windows program"),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 200, "Linux program"),
        (b"Oddiy matn, kitob emas.", "starts with “Oddiy ma”"),
        (b"\x00\x01\x02\x03\x04", "starts with 00 01 02 03 04"),
        (b'{"title": "Kitob"}', "not a glTF 3D model"),
    ],
)
def test_files_that_are_not_library_files_are_refused_whatever_their_name(
    check: Inspect, data: bytes, found: str
) -> None:
    message = refusal(check, data, "kitob.pdf")

    assert found in message
    assert "not a PDF, EPUB, audio, video, caption, image or 3D model file" in message


def test_a_plain_zip_archive_is_not_an_epub(check: Inspect) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("chapter1.xhtml", "<html/>")

    assert "ZIP archive (not an EPUB" in refusal(check, out.getvalue(), "kitob.epub")


def test_matroska_and_still_image_iso_files_are_not_video(check: Inspect) -> None:
    doctype = b"\x42\x82\x88matroska"
    matroska = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype + b"\0" * 64
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic" + b"\0" * 64

    assert "Matroska (matroska)" in refusal(check, matroska, "film.webm")
    assert "brand “heic”" in refusal(check, heic, "film.mp4")


def test_a_gltf_1_model_is_refused(check: Inspect) -> None:
    old = bytearray(samples.glb())
    old[4:8] = struct.pack("<I", 1)

    assert "glTF version 1" in refusal(check, bytes(old), "model.glb")
    assert "glTF version 1.0" in refusal(check, b'{"asset": {"version": "1.0"}}', "model.gltf")


def test_a_cut_short_binary_gltf_is_refused(check: Inspect) -> None:
    assert "damaged or cut short" in refusal(check, samples.glb()[:-8], "model.glb")


def test_a_gltf_description_too_large_to_parse_safely_is_refused(
    check: Inspect, monkeypatch
) -> None:
    monkeypatch.setattr(inspect, "GLTF_MAX_JSON", 64)
    padded = b'{"asset": {"version": "2.0"}, "extras": "' + b"x" * 64 + b'"}'

    assert "upload it as a binary glTF" in refusal(check, padded, "model.gltf")
    assert "upload it as a binary glTF" in refusal(check, samples.glb(), "model.glb")


def test_captions_that_are_not_utf8_are_refused(check: Inspect) -> None:
    assert "not UTF-8" in refusal(
        check, "WEBVTT\n\n00:00.000 --> 00:01.000\nçà\n".encode("latin-1")
    )


def test_an_image_with_too_many_pixels_is_refused(check: Inspect, monkeypatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)

    assert "too many pixels" in refusal(check, samples.png(60, 90), "muqova.png")


def test_a_password_protected_pdf_is_refused(check: Inspect) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(samples.pdf(["Maxfiy"]))))
    writer.encrypt("parol")
    out = io.BytesIO()
    writer.write(out)

    assert "password protected" in refusal(check, out.getvalue(), "maxfiy.pdf")


def test_a_truncated_pdf_is_refused(check: Inspect) -> None:
    whole = samples.pdf(["Birinchi sahifa " * 50, "Ikkinchi sahifa " * 50])

    assert "cut short" in refusal(check, whole[: len(whole) // 2], "yarim.pdf")


def test_a_pdf_that_cannot_be_opened_is_refused(check: Inspect) -> None:
    damaged = b"%PDF-1.7\n" + b"this is no pdf body\n" * 20 + b"%%EOF\n"

    assert "damaged" in refusal(check, damaged, "buzuq.pdf")


def test_an_epub_that_unpacks_to_a_zip_bomb_is_refused(check: Inspect) -> None:
    bomb = rezip(book(), add={"OEBPS/zeros.txt": b"\0" * (40 * 1024 * 1024)})

    assert len(bomb) < 1024 * 1024
    assert "zip bomb" in refusal(check, bomb, "kitob.epub")


def test_an_epub_unpacking_past_its_total_cap_is_refused(check: Inspect, monkeypatch) -> None:
    monkeypatch.setattr(inspect, "EPUB_EXPANSION_FLOOR", 64 * 1024)
    megabyte = b"\0" * (1024 * 1024)  # each member alone stays under the ratio rule
    big = rezip(book(), add={f"OEBPS/part{n}.bin": megabyte for n in range(3)})

    assert "zip bomb" in refusal(check, big, "kitob.epub")


def test_an_epub_with_too_many_members_is_refused(check: Inspect, monkeypatch) -> None:
    monkeypatch.setattr(inspect, "EPUB_MAX_ENTRIES", 5)

    assert "at most 5" in refusal(check, book(), "kitob.epub")


@pytest.mark.parametrize(
    "name",
    ["../../etc/cron.d/evil", "OEBPS/../../evil.xhtml", "/etc/passwd", "OEBPS\\evil", "C:/x"],
)
def test_an_epub_with_a_path_traversal_name_is_refused(check: Inspect, name: str) -> None:
    message = refusal(check, rezip(book(), add={name: b"x"}), "kitob.epub")

    assert "unsafe name" in message


def test_an_epub_whose_xml_declares_an_external_entity_is_refused(check: Inspect) -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE container [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        b'<rootfiles><rootfile full-path="OEBPS/content.opf" '
        b'media-type="application/oebps-package+xml"/></rootfiles>&xxe;</container>'
    )

    message = refusal(check, rezip(book(), replace={"META-INF/container.xml": xxe}), "k.epub")

    assert "declares XML entities in “META-INF/container.xml”" in message


def test_an_epub_with_a_billion_laughs_chapter_is_refused(check: Inspect) -> None:
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    laughs = (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY lol0 "lol">{entities}]>'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&lol9;</p></body></html>'
    ).encode()

    message = refusal(check, rezip(book(), replace={"OEBPS/chapter1.xhtml": laughs}), "k.epub")

    assert "declares XML entities in “OEBPS/chapter1.xhtml”" in message


def test_entities_are_refused_even_when_the_byte_scan_misses_them(tmp_path: Path) -> None:
    """A UTF-32 document hides the ASCII ``<!ENTITY``; the parsed DTD still shows it."""
    document = (
        '<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE p [<!ENTITY a "b">]><p>&a;</p>'
    ).encode("utf-32")

    with pytest.raises(UploadRefused, match="declares XML entities"):
        inspect._parse_xml(document, "p.xml")


@pytest.mark.parametrize(
    ("replace", "reason"),
    [
        ({"META-INF/container.xml": None}, "container.xml is missing"),
        ({"OEBPS/content.opf": None}, "package document (OPF) named in container.xml is missing"),
        ({"OEBPS/content.opf": b"<package xmlns='http://www.idpf.org/2007/opf'/>"}, "spine"),
        ({"OEBPS/content.opf": b"<package><unclosed></package>"}, "not well-formed XML"),
    ],
)
def test_an_epub_without_its_container_or_package_document_is_not_valid(
    check: Inspect, replace: dict[str, bytes | None], reason: str
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book())) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            data = replace.get(entry.filename, source.read(entry))
            if data is not None:
                target.writestr(entry, data)

    message = refusal(check, out.getvalue(), "kitob.epub")

    assert message.startswith("This is not a valid EPUB")
    assert reason in message


def test_a_gltf_that_needs_other_files_is_refused(check: Inspect) -> None:
    external = b'{"asset": {"version": "2.0"}, "buffers": [{"uri": "mesh.bin", "byteLength": 36}]}'
    assert "needs other files (mesh.bin)" in refusal(check, external, "model.gltf")
    texture = samples.glb(images=[{"uri": "textures/wood.png"}])
    assert "needs other files (textures/wood.png)" in refusal(check, texture, "model.glb")


def test_a_gltf_with_its_data_embedded_is_accepted(check: Inspect) -> None:
    embedded = (
        b'{"asset": {"version": "2.0"}, "buffers": [{"uri": '
        b'"data:application/octet-stream;base64,AAAA", "byteLength": 3}], '
        b'"images": [{"bufferView": 0, "mimeType": "image/png"}]}'
    )
    assert check(embedded, "model.gltf").kind == "3d"
    assert check(samples.glb(), "model.glb").kind == "3d"


@pytest.mark.parametrize(
    ("extension", "named"),
    [
        ("KHR_draco_mesh_compression", "Draco"),
        ("KHR_texture_basisu", "KTX2/Basis"),
        ("EXT_meshopt_compression", "meshopt"),
    ],
)
def test_a_gltf_compressed_for_decoders_from_another_site_is_refused(
    check: Inspect, extension: str, named: str
) -> None:
    used = samples.glb(extensionsUsed=[extension])
    assert f"compressed with {named}," in refusal(check, used, "model.glb")
    required = samples.glb(extensionsUsed=[extension], extensionsRequired=[extension])
    assert f"compressed with {named}," in refusal(check, required, "model.glb")


def test_a_gltf_with_harmless_extensions_is_accepted(check: Inspect) -> None:
    lit = samples.glb(extensionsUsed=["KHR_materials_unlit", "KHR_texture_transform"])
    assert check(lit, "model.glb").kind == "3d"
