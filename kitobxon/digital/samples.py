"""Real files made on the spot, for tests, benchmarks and the demo library.

Nothing here is a stand-in: the PDFs are written by reportlab (text in a font with Cyrillic),
the EPUBs are valid EPUB 3 containers, the audio and video are encoded by FFmpeg (through PyAV,
a development dependency) and the 3D model is a binary glTF with one triangle.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
from collections.abc import Sequence
from fractions import Fraction
from typing import Any


def pdf(pages: Sequence[str], *, title: str = "Kitobxon", outline: bool = True) -> bytes:
    """A text PDF, one string per page (long strings wrap), with an outline of its pages."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from kitobxon.digital import watermark

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(watermark.font_path())))
    out = io.BytesIO()
    drawing = canvas.Canvas(out, pagesize=A4, invariant=True)
    drawing.setTitle(title)
    _width, height = A4
    for number, text in enumerate(pages, start=1):
        if outline:
            drawing.bookmarkPage(f"p{number}")
            drawing.addOutlineEntry(f"Page {number}", f"p{number}", level=0)
        drawing.setFont("DejaVuSans", 11)
        y = height - 60
        for line in _wrap(text, 85):
            drawing.drawString(50, y, line)
            y -= 15
            if y < 50:
                break
        drawing.showPage()
    drawing.save()
    return out.getvalue()


def scanned_pdf(pages: int = 2) -> bytes:
    """A PDF of page images only (as a scanner makes): no text layer."""
    from PIL import Image, ImageDraw

    images = []
    for number in range(1, pages + 1):
        image = Image.new("RGB", (620, 877), "white")
        ImageDraw.Draw(image).text((60, 60), f"Scanned page {number}", fill="black")
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=75)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    """A text PDF that runs JavaScript when opened (to be flagged on upload)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(["Hujjat"]))))
    action = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Action"),
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hello');"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def epub(
    chapters: Sequence[tuple[str, str]],
    *,
    title: str = "Kitob",
    language: str = "uz",
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A valid EPUB 3: (chapter title, text) pairs, a navigation document and a cover image."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
        manifest = [
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
            '<item id="cover" href="cover.png" media-type="image/png" properties="cover-image"/>',
        ]
        spine = []
        nav = []
        for number, (heading, text) in enumerate(chapters, start=1):
            name = f"chapter{number}.xhtml"
            manifest.append(
                f'<item id="c{number}" href="{name}" media-type="application/xhtml+xml"/>'
            )
            spine.append(f'<itemref idref="c{number}"/>')
            nav.append(f'<li><a href="{name}">{_xml(heading)}</a></li>')
            paragraphs = "".join(f"<p>{_xml(p)}</p>" for p in text.split("\n\n"))
            archive.writestr(
                f"OEBPS/{name}",
                _xhtml(heading, f"<h1>{_xml(heading)}</h1>{paragraphs}", language),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        archive.writestr(
            "OEBPS/nav.xhtml",
            _xhtml(
                title,
                f'<nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="toc">'
                f"<ol>{''.join(nav)}</ol></nav>",
                language,
            ),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr("OEBPS/cover.png", png(), compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0" encoding="utf-8"?>'
            '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:identifier id="id">urn:kitobxon:{_xml(title)}</dc:identifier>'
            f"<dc:title>{_xml(title)}</dc:title><dc:language>{language}</dc:language>"
            '<meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>'
            '<meta name="cover" content="cover"/>'
            f"</metadata><manifest>{''.join(manifest)}</manifest>"
            f"<spine>{''.join(spine)}</spine></package>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def png(width: int = 60, height: int = 90, colour: str = "#2a6f97") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 60, height: int = 90) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "#c0392b").save(out, "JPEG")
    return out.getvalue()


def glb(**extra: Any) -> bytes:
    """A binary glTF 2.0 holding one triangle; ``extra`` adds or replaces top-level members."""
    positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    document = {
        "asset": {"version": "2.0", "generator": "kitobxon samples"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "buffers": [{"byteLength": len(positions)}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(positions)}],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 3,
                "type": "VEC3",
                "min": [0, 0, 0],
                "max": [1, 1, 0],
            }
        ],
    }
    document.update(extra)
    body = json.dumps(document, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 4)
    binary = positions + b"\0" * (-len(positions) % 4)
    chunks = (
        struct.pack("<II", len(body), 0x4E4F534A)
        + body
        + struct.pack("<II", len(binary), 0x004E4942)
        + binary
    )
    return struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks


def webvtt(lines: Sequence[str] = ("Salom!", "Привет!")) -> bytes:
    cues = [
        f"00:00:{2 * i:02d}.000 --> 00:00:{2 * i + 2:02d}.000\n{line}\n"
        for i, line in enumerate(lines)
    ]
    return ("WEBVTT\n\n" + "\n".join(cues)).encode()


def audio(container: str = "mp3", seconds: float = 2.0) -> bytes:
    """A tone encoded by FFmpeg: ``mp3``, ``ogg`` (Opus) or ``m4a`` (AAC)."""
    import av

    codec = {"mp3": "mp3", "ogg": "libopus", "m4a": "aac"}[container]
    fmt = {"mp3": "mp3", "ogg": "ogg", "m4a": "ipod"}[container]
    rate = 48000 if container == "ogg" else 44100
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as output:
        stream = output.add_stream(codec, rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        samples = int(rate * seconds)
        frame_size = 1152
        for start in range(0, samples, frame_size):
            count = min(frame_size, samples - start)
            wave = [0.2 * math.sin(2 * math.pi * 440 * (start + i) / rate) for i in range(count)]
            frame = av.AudioFrame(format="flt", layout="mono", samples=count)
            frame.planes[0].update(struct.pack(f"<{count}f", *wave))
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return out.getvalue()


def video(
    container: str = "webm", seconds: float = 2.0, size: tuple[int, int] = (160, 120)
) -> bytes:
    """Moving colour bars encoded by FFmpeg: ``webm`` (VP8) or ``mp4`` (H.264)."""
    import av

    codec = {"webm": "libvpx", "mp4": "libx264"}[container]
    fps = 10
    out = io.BytesIO()
    with av.open(out, "w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame(size[0], size[1], "rgb24")
            plane = frame.planes[0]
            left = bytes([(index * 20) % 255, 0, 0]) * (size[0] // 2)
            right = bytes([(index * 20) % 255, 180, 0]) * (size[0] - size[0] // 2)
            row = (left + right).ljust(plane.line_size, b"\0")
            plane.update(row * size[1])
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return out.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return lines


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _xhtml(title: str, body: str, language: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html>'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="{language}" lang="{language}">'
        f"<head><title>{_xml(title)}</title></head><body>{body}</body></html>"
    )
