"""The demo library's catalogue: real records in Uzbek, Karakalpak, Russian and English, with
copies in two branches, two faculties and two collections. Loaded by `kitobxon demo`; safe to
run again (imports match, collections are found by code)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction

from kitobxon.catalogue import services
from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.importing import ImportReport, import_file
from kitobxon.catalogue.models import Branch, Collection, Item, Record

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BRANCHES = {
    "toshkent": ("Markaziy kutubxona (Toshkent)", "Toshkent, Universitet koʻchasi, 4"),
    "nukus": ("Nukus filiali", "Nukus, Abdirov koʻchasi, 1"),
}
BRANCH_OF_PLACE = {"Toshkent": "toshkent", "Nukus": "nukus"}
# code: (kind, name, names in the other interface languages)
COLLECTIONS: dict[str, tuple[str, str, dict[str, str]]] = {
    "filologiya": (
        "faculty",
        "Filologiya fakulteti",
        {
            "uz-cyrl": "Филология факультети",
            "kaa": "Filologiya fakulteti",
            "ru": "Филологический факультет",
            "en": "Faculty of Philology",
        },
    ),
    "geografiya": (
        "faculty",
        "Geografiya fakulteti",
        {
            "uz-cyrl": "География факультети",
            "kaa": "Geografiya fakulteti",
            "ru": "Географический факультет",
            "en": "Faculty of Geography",
        },
    ),
    "mumtoz": (
        "collection",
        "Mumtoz adabiyot va dostonlar",
        {
            "uz-cyrl": "Мумтоз адабиёт ва достонлар",
            "kaa": "Klassikalıq ádebiyat hám dástanlar",
            "ru": "Классическая литература и дастаны",
            "en": "Classics and epics",
        },
    ),
    "navoiyshunoslik": (
        "collection",
        "Navoiyshunoslik",
        {
            "uz-cyrl": "Навоийшунослик",
            "kaa": "Nawayıtanıw",
            "ru": "Навоиведение",
            "en": "Navoi studies",
        },
    ),
}


def project_records() -> Iterator[tuple[RecordData, dict[str, int]]]:
    """The records written for the project, with their copies per branch."""
    path = FIXTURES / "demo_records.jsonl"
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        subjects = [
            SubjectData(label=s.get("uz") or next(iter(s.values())), labels=dict(s))
            for s in row.get("subjects", [])
        ]
        classes = [
            ClassificationData(scheme, number)
            for scheme, number in (row.get("classification") or {}).items()
            if number
        ]
        identifiers = [IdentifierData("isbn", row["isbn"])] if row.get("isbn") else []
        notes = row.get("notes", "")
        journal = row.get("journal") or {}
        if journal.get("title"):
            citation = ", ".join(
                part
                for part in (
                    journal["title"],
                    journal.get("volume") and f"{journal['volume']}",
                    journal.get("issue") and f"№ {journal['issue']}",
                    journal.get("pages") and f"{journal['pages']}",
                )
                if part
            )
            notes = f"{citation}. {notes}".strip()
        data = RecordData(
            title=row["title"],
            subtitle=row.get("subtitle", ""),
            parallel_titles=row.get("parallel_titles", []),
            responsibility=row.get("statement_of_responsibility", ""),
            contributors=[
                ContributorData(c["name"], c.get("role", "author"), c.get("variants", []))
                for c in row.get("contributors", [])
            ],
            publisher=row.get("publisher", ""),
            place=row.get("place", ""),
            year=row.get("year") or None,
            edition=row.get("edition", ""),
            extent=row.get("extent", ""),
            languages=[row["language"]] if row.get("language") else [],
            resource_type=row.get("resource_type", "book"),
            audience=row.get("audience", "general"),
            subjects=subjects,
            classifications=classes,
            identifiers=identifiers,
            series=row.get("series", ""),
            abstract=row.get("abstract", ""),
            notes=notes,
            work_key=row.get("work", ""),
            source_format="manual",
        )
        yield data, {BRANCH_OF_PLACE.get(k, k.lower()): n for k, n in row.get("copies", {}).items()}


def _call_number(record: Record) -> str:
    for c in record.classifications.all():
        if c.scheme in ("udc", "lcc", "bbk", "ddc"):
            return c.number[:100]
    return ""


def _add_copies(record: Record, counts: dict[str, int], branches: dict[str, Branch]) -> int:
    if Item.objects.filter(record=record).exists():
        return 0
    added = 0
    call_number = _call_number(record)
    for code, count in counts.items():
        for _n in range(count):
            services.add_item(record, by=None, branch=branches[code], call_number=call_number)
            added += 1
    return added


def collections_of(data: RecordData) -> list[str]:
    """The demo collections a written record belongs in: dissertations in the faculty that
    awarded the degree, the classics and the Karakalpak epics in the classics, and whatever is
    by or about Alisher Navoi in Navoi studies."""
    codes = []
    notes = data.notes.lower()
    if data.resource_type == "dissertation":
        if "filolog" in notes or "филолог" in notes:
            codes.append("filologiya")
        elif "geograf" in notes or "географ" in notes:
            codes.append("geografiya")
    subjects = {s.label for s in data.subjects}
    if "Oʻzbek mumtoz adabiyoti" in subjects or (
        "kaa" in data.languages and "Xalq dostonlari" in subjects
    ):
        codes.append("mumtoz")
    about = " ".join(
        [data.title, data.subtitle, data.abstract, *(c.name for c in data.contributors)]
    ).lower()
    if any(name in about for name in ("navoiy", "навоий", "навои", "navoi")):
        codes.append("navoiyshunoslik")
    return codes


def _collections(saved: list[services.Saved], own: list[RecordData]) -> dict[str, int]:
    """Create the demo faculties and collections and put the written records in them."""
    found = {c.code: c for c in Collection.objects.filter(code__in=COLLECTIONS)}
    for code, (kind, name, names) in COLLECTIONS.items():
        if code not in found:
            found[code] = services.create_collection(
                code=code, kind=kind, name=name, names=names, by=None
            )
    counts = dict.fromkeys(COLLECTIONS, 0)
    with transaction.atomic():
        for result, data in zip(saved, own, strict=True):
            codes = collections_of(data)
            for code in codes:
                counts[code] += 1
            services.set_record_collections(result.record, [found[c] for c in codes], by=None)
    return counts


def load() -> dict[str, object]:
    """Load the demo catalogue; returns what was done, for the demo command to print."""
    branches = {
        code: services.ensure_branch(code, name, address)
        for code, (name, address) in BRANCHES.items()
    }
    reports: list[ImportReport] = [
        import_file(FIXTURES / "demo" / "uva_001_2000.mrc", by=None, format="marc21"),
        import_file(FIXTURES / "demo" / "goodbooks-500.csv", by=None, format="csv"),
    ]
    copies = 0
    with transaction.atomic():
        for n, record in enumerate(
            Record.objects.filter(source_format__in=["marc21", "csv"]).prefetch_related(
                "classifications"
            )
        ):
            counts = {"toshkent": 1} if n % 3 else {"toshkent": 1, "nukus": 1}
            copies += _add_copies(record, counts, branches)
    own = list(project_records())
    saved = services.save_records([data for data, _counts in own], by=None) if own else []
    with transaction.atomic():
        for result, (_data, counts) in zip(saved, own, strict=True):
            copies += _add_copies(result.record, counts, branches)
    collected = _collections(saved, [data for data, _counts in own])
    return {
        "imports": [r.as_dict() for r in reports],
        "project_records": len(own),
        "collections": collected,
        "records": Record.objects.count(),
        "copies_added": copies,
    }
