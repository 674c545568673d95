"""How far Kitobxon's MARC crosswalk agrees with Open Library's on OL's own MARC test records.

`python bench/openlibrary_agreement.py [--json] [--verbose] [--data DIR]`

Open Library's catalog tests (openlibrary/catalog/marc/tests/test_data, copied to
shared/data/marc-openlibrary/catalog-marc-tests) pair each binary (bin_input/*.mrc) and MARCXML
(xml_input/*_marc.xml) record with the edition JSON that OL's parser must produce
(bin_expect/*.json, xml_expect/*.json). Each record with an expectation is read with
`read_marc21`/`read_marcxml`, and five fields are compared after normalisation (case, accents
kept, punctuation and spacing ignored):

* titles: OL's title and subtitle against ours, joined (the two split 245 differently). OL shows
  the 880 original-script form as the title; ours keeps it as a title variant, so a match with a
  variant is counted as agreement and reported apart;
* authors: OL's author names (100/110/111 and 700/710/711) against our contributors' names or
  their 880 variants, as sets;
* publishers: as sets;
* dates: OL's publish_date against our year, by their first four-digit year;
* ISBNs: isbn_10 and isbn_13 against our ISBNs without hyphens.

A field is compared when either side has a value. With --verbose every disagreement is listed
with the likely cause.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kitobxon.catalogue.data import RecordData  # noqa: E402
from kitobxon.catalogue.formats.marc import read_marc21, read_marcxml  # noqa: E402

FIELDS = ("titles", "authors", "publishers", "dates", "isbns")
_YEAR = re.compile(r"\d{4}")


@dataclass
class Tally:
    compared: int = 0
    agreed: int = 0
    via_880: int = 0
    disagreements: list[dict[str, object]] = field(default_factory=list)

    def percent(self) -> float:
        return round(100 * self.agreed / self.compared, 1) if self.compared else 100.0


def normal(text: str) -> str:
    """Case, punctuation and spacing do not count, nor how a ligature over two letters is
    coded (two half marks or one double diacritic); letters, with their accents, do."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def pairs(data_dir: Path) -> list[tuple[str, Path, Path]]:
    tests = data_dir / "catalog-marc-tests"
    found = []
    for expect in sorted((tests / "bin_expect").glob("*.json")):
        source = tests / "bin_input" / f"{expect.stem}.mrc"
        if source.exists():
            found.append(("marc21", source, expect))
    for expect in sorted((tests / "xml_expect").glob("*.json")):
        source = tests / "xml_input" / f"{expect.stem}_marc.xml"
        if source.exists():
            found.append(("marcxml", source, expect))
    return found


def read_one(kind: str, source: Path) -> tuple[RecordData | None, str]:
    reader = read_marc21 if kind == "marc21" else read_marcxml
    with source.open("rb") as handle:
        parsed = next(iter(reader(io.BytesIO(handle.read()))), None)
    if parsed is None:
        return None, "no record read"
    return parsed.data, parsed.error or ""


def compare_titles(expected: dict, ours: RecordData) -> tuple[bool, bool, str, str]:
    theirs = normal(" ".join(filter(None, [expected.get("title"), expected.get("subtitle")])))
    mine = normal(" ".join(filter(None, [ours.title, ours.subtitle])))
    if theirs == mine:
        return True, False, theirs, mine
    variants = {normal(v) for v in ours.title_variants}
    variants |= {normal(v.split(" : ")[0]) for v in ours.title_variants}
    if theirs in variants or normal(expected.get("title", "")) in variants:
        return True, True, theirs, mine
    return False, False, theirs, mine


def compare_authors(expected: dict, ours: RecordData) -> tuple[bool, bool, object, object]:
    theirs = [normal(a["name"]) for a in expected.get("authors", []) if a.get("name")]
    names = [{normal(c.name), *(normal(v) for v in c.variants)} for c in ours.contributors]
    mine = [normal(c.name) for c in ours.contributors]
    unmatched = list(names)
    via_880 = False
    for name in theirs:
        match = next((forms for forms in unmatched if name in forms), None)
        if match is None:
            return False, False, sorted(theirs), sorted(mine)
        via_880 = via_880 or name not in mine
        unmatched.remove(match)
    return not unmatched, via_880, sorted(theirs), sorted(mine)


def compare_sets(theirs: list[str], mine: list[str]) -> tuple[bool, object, object]:
    a, b = sorted({normal(t) for t in theirs if t}), sorted({normal(m) for m in mine if m})
    return a == b, a, b


def isbns_of(expected: dict) -> list[str]:
    return [*expected.get("isbn_10", []), *expected.get("isbn_13", [])]


def compact_isbn(value: str) -> str:
    return value.replace("-", "").replace(" ", "").upper()


def cause(name: str, expected: dict, ours: RecordData) -> str:
    """The likely reason for a disagreement, from what the two sides hold."""
    if name == "titles":
        subtitle = expected.get("subtitle") or ""
        if ours.parallel_titles and any(
            normal(p) in normal(subtitle) for p in ours.parallel_titles
        ):
            return (
                "OL takes a parallel title (245 $b after ' =') for the subtitle; we keep it apart"
            )
        if ours.subtitle.startswith("[") and ours.subtitle.endswith("]") and not subtitle:
            return "OL drops a subtitle supplied in brackets by the cataloguer; we keep it"
        return "245 read differently"
    if name == "publishers":
        if any("[s.n" in p.lower() for p in expected.get("publishers", [])):
            return "OL keeps '[s.n.]' (publisher unknown); we leave the publisher empty"
        return "260/264 $b read differently"
    if name == "dates":
        if not _YEAR.search(expected.get("publish_date", "")):
            return (
                "OL leaves a date known only to the decade ('190u') empty; we take its first year"
            )
        return "OL takes 008/07-10 (Date 1) before 260/264 $c; we take $c first"
    if name == "authors":
        theirs = {normal(a["name"]) for a in expected.get("authors", [])}
        extra = [c.name for c in ours.contributors if normal(c.name) not in theirs]
        if extra and all(any(normal(e).startswith(t) for t in theirs) for e in extra):
            return "a 7XX repeats a 1XX heading with more detail (a date); OL lists it once"
        return "names read differently"
    return "ISBNs read differently"


def run(data_dir: Path) -> dict[str, Any]:
    tallies = {name: Tally() for name in FIELDS}
    refused: list[dict[str, str]] = []
    records = 0
    for kind, source, expect in pairs(data_dir):
        expected = json.loads(expect.read_text(encoding="utf-8"))
        ours, problem = read_one(kind, source)
        records += 1
        if ours is None:
            refused.append({"record": source.name, "reason": problem})
            for tally in tallies.values():
                tally.compared += 1
                tally.disagreements.append({"record": source.name, "cause": f"not read: {problem}"})
            continue
        checks: dict[str, tuple[bool, bool, object, object]] = {}
        checks["titles"] = compare_titles(expected, ours)
        checks["authors"] = compare_authors(expected, ours)
        agree, theirs, mine = compare_sets(
            expected.get("publishers", []), [p for p in ours.publisher.split(" ; ") if p]
        )
        checks["publishers"] = (agree, False, theirs, mine)
        their_year = _YEAR.search(expected.get("publish_date", ""))
        their_date = their_year[0] if their_year else ""
        our_date = str(ours.year) if ours.year else ""
        checks["dates"] = (their_date == our_date, False, their_date, our_date)
        agree, theirs, mine = compare_sets(
            [compact_isbn(i) for i in isbns_of(expected)], [compact_isbn(i) for i in ours.isbns()]
        )
        checks["isbns"] = (agree, False, theirs, mine)
        for name, (agree, via_880, theirs, mine) in checks.items():
            if not theirs and not mine:
                continue
            tally = tallies[name]
            tally.compared += 1
            tally.agreed += agree
            tally.via_880 += agree and via_880
            if not agree:
                tally.disagreements.append(
                    {
                        "record": source.name,
                        "open_library": theirs,
                        "kitobxon": mine,
                        "cause": cause(name, expected, ours),
                    }
                )
    return {
        "records": records,
        "refused": refused,
        "fields": {
            name: {
                "compared": t.compared,
                "agreed": t.agreed,
                "percent": t.percent(),
                "agreed_through_880_variant": t.via_880,
                "disagreements": t.disagreements,
            }
            for name, t in tallies.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--verbose", action="store_true", help="list every disagreement")
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "marc-openlibrary",
        help="the marc-openlibrary folder",
    )
    args = parser.parse_args()
    if not (args.data / "catalog-marc-tests").is_dir():
        raise SystemExit(f"no Open Library test data in {args.data}")
    logging.getLogger("pymarc").setLevel(logging.ERROR)
    result = run(args.data)
    if args.json:
        if not args.verbose:
            for summary in result["fields"].values():
                summary.pop("disagreements")
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"Open Library MARC test records compared: {result['records']}")
    for name, summary in result["fields"].items():
        note = (
            f" (of which {summary['agreed_through_880_variant']} through the 880 variant)"
            if summary["agreed_through_880_variant"]
            else ""
        )
        print(
            f"  {name:<11} {summary['percent']:5.1f} %  "
            f"{summary['agreed']}/{summary['compared']} agree{note}"
        )
    if args.verbose:
        for name, summary in result["fields"].items():
            for item in summary["disagreements"]:
                print(f"\n[{name}] {item['record']}: {item['cause']}")
                if "open_library" in item:
                    print(f"    Open Library: {item['open_library']}")
                    print(f"    Kitobxon:     {item['kitobxon']}")


if __name__ == "__main__":
    main()
