"""The demo library's digital shelf: one file of every kind, each under a different policy.

Loaded by `kitobxon demo` after the catalogue; safe to run again (a record that already has
files is left alone). The texts are the project's own (reading guides written for the demo), the
media are tones and colour bars encoded on the spot: nothing here needs a licence.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.utils import timezone

from kitobxon.catalogue.models import Record
from kitobxon.digital import samples
from kitobxon.digital.models import Access, DigitalFile
from kitobxon.digital.services import extraction, files, licences

GUIDE = [
    "Oʻtkan kunlar — oʻquvchi uchun qoʻllanma.\n\nAbdulla Qodiriyning romani 1926 yilda kitob "
    "boʻlib chiqqan birinchi oʻzbek romanidir. Ushbu qoʻllanma kutubxona tomonidan yozilgan.",
    "Birinchi bob haqida. Voqealar Margʻilon va Toshkentda kechadi. Otabek va Kumush "
    "taqdiri orqali muallif XIX asr oʻrtalaridagi hayotni tasvirlaydi.",
    "Savollar. 1) Otabek nima uchun Margʻilonga keladi? 2) Yusufbek hoji qanday odam? "
    "3) Romandagi tarixiy voqealarni sanab bering.",
    "Ўқувчи учун саволлар кирилл ёзувида: Кумуш образи ҳақида нима дея оласиз? "
    "Асарнинг тили ҳақида фикрингизни ёзинг.",
    "Для русскоязычных читателей: роман «Минувшие дни» переведён на русский язык; "
    "обсудите различия перевода и оригинала.",
]
STUDY = [
    "Kecha va kunduz — oʻqish kundaligi.\n\nChoʻlpon romanini oʻqiyotganda har bobdan keyin "
    "qisqa eslatma yozing.",
    "Zebi va Miryoqub. Qahramonlar oʻrtasidagi munosabatlarni kuzating.",
    "Xulosa. Roman oʻzbek nasrining yangi bosqichini boshlab bergan.",
]
REPORT = [
    "Kutubxona xodimlari uchun: raqamli fond hisoboti (namuna). Ushbu hujjat embargo ostida.",
    "Jadval va koʻrsatkichlar keyingi yil ochiladi.",
]


def _record(title: str, resource_type: str = "book") -> Record | None:
    return Record.objects.filter(title=title, resource_type=resource_type).order_by("pk").first()


def _attach(record: Record, data: bytes, name: str, **options: Any) -> DigitalFile:
    file = files.attach_file(record, io.BytesIO(data), by=None, original_name=name, **options)
    if file.kind in ("pdf", "epub", "image"):
        extraction.extract_file(file)
    return file


def load() -> dict[str, int]:
    """Attach the demo files and a licence; returns how many files were added."""
    added = 0
    plan: list[tuple[str, str, Any]] = [
        ("Oʻtkan kunlar", "book", _guide),
        ("Kecha va kunduz", "book", _licensed),
        ("Oʻtkan kunlar", "audio", _audio),
        ("Шум бола", "video", _video),
        ("Navoiy", "book", _model),
        ("Sarob", "book", _embargoed),
    ]
    for title, resource_type, make in plan:
        record = _record(title, resource_type)
        if record is None or DigitalFile.objects.filter(record=record).exists():
            continue
        try:
            added += make(record)
        except ImportError:  # PyAV (a development dependency) encodes the demo media
            continue
    return {"files": added}


def _guide(record: Record) -> int:
    _attach(
        record,
        samples.pdf(GUIDE, title="Oʻtkan kunlar — qoʻllanma"),
        "otkan-kunlar-qollanma.pdf",
        label="Oʻquvchi uchun qoʻllanma (PDF)",
        access=Access.OPEN,
        downloadable=True,
    )
    return 1


def _licensed(record: Record) -> int:
    licences.save_licence(record, copies=2, loan_days=14, by=None)
    _attach(
        record,
        samples.epub(
            [(page.split(".")[0], page) for page in STUDY], title="Kecha va kunduz — kundalik"
        ),
        "kecha-va-kunduz.epub",
        label="Oʻqish kundaligi (EPUB)",
        access=Access.LICENSED,
    )
    return 1


def _audio(record: Record) -> int:
    _attach(
        record,
        samples.audio("mp3", seconds=5),
        "otkan-kunlar-namuna.mp3",
        label="Audio namuna (sinov ohangi)",
        access=Access.REGISTERED,
    )
    return 1


def _video(record: Record) -> int:
    video = _attach(
        record,
        samples.video("webm", seconds=4),
        "shum-bola-namuna.webm",
        label="Video namuna (rang chiziqlari)",
        access=Access.REGISTERED,
    )
    files.attach_file(
        record,
        io.BytesIO(samples.webvtt(("Salom!", "Kino boshlandi.", "Xayr!"))),
        by=None,
        original_name="shum-bola.uz.vtt",
        label="Oʻzbekcha subtitrlar",
        caption_for=video,
        caption_language="uz",
        access=Access.REGISTERED,
    )
    return 2


def _model(record: Record) -> int:
    _attach(
        record,
        samples.glb(),
        "namuna.glb",
        label="3D namuna (uchburchak)",
        access=Access.OPEN,
    )
    return 1


def _embargoed(record: Record) -> int:
    _attach(
        record,
        samples.pdf(REPORT, title="Hisobot"),
        "hisobot.pdf",
        label="Xodimlar hisoboti (embargo)",
        access=Access.SEGMENTS,
        segments=["teacher", "researcher"],
        embargo_until=timezone.localdate() + timedelta(days=365),
    )
    return 1
