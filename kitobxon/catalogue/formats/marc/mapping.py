"""The crosswalk from a MARC 21 bibliographic record to ``RecordData``, the way a cataloguer
reads it.

The mapping decisions are recorded in docs/adr/0013-marc-crosswalk.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pymarc import Field, Record, Subfield

from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.formats.marc.codes import (
    _AUDIENCES,
    _CLASSIFICATION_TAGS,
    _CONTENTS_TAGS,
    _CONTRIBUTOR_TAGS,
    _IDENTIFIER_TAGS,
    _LANGUAGE_CODES,
    _NOT_LANGUAGES,
    _NOTE_TAGS,
    _PARALLEL_TITLE_TAGS,
    _PUBLICATION_TAGS,
    _RELATOR_CODES,
    _RELATOR_TERMS,
    _SERIES_STATEMENT_TAGS,
    _SUBJECT_SOURCES,
    _SUBJECT_TAGS,
    _SUMMARY_TAGS,
    _TEXTBOOK_TERMS,
)
from kitobxon.catalogue.formats.marc.source import _Source

_NAME_PARTS = {"00": frozenset("abc"), "10": frozenset("ab"), "11": frozenset("acdenq")}
_SUBDIVISIONS = frozenset("vxyz")


_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_NOT_IN_KEY = re.compile(r"[\s.,:\[\]]")
_RELATOR_PUNCTUATION = re.compile(r"[.()\[\],;:]")
_COPYRIGHT = re.compile(r"[cp©℗]\s?$")
_FROM_OLD_CATALOG = re.compile(r"\s*\[from old catalog\][\s.,]*$", re.IGNORECASE)
_ISBN_AS_GIVEN = re.compile(r"\d[\dXx-]*")
_ISBD_CLOSING = " /:;=,"
_ABBREVIATIONS = frozenset(
    {"inc", "ltd", "co", "corp", "dept", "bros", "jr", "sr", "etc", "st", "ed", "eds", "comp",
     "hrsg", "mr", "mrs", "dr", "prof", "изд", "ред", "сост", "пер", "вып", "т", "ч", "кн", "др"}
)  # fmt: skip
_UNKNOWN_PLACE_OR_PUBLISHER = frozenset(
    {"sl", "sn", "slsn", "sineloco", "sinenomine", "oo", "ov", "бм", "би", "бмби",
     "placeofpublicationnotidentified", "publishernotidentified"}
)  # fmt: skip


def data_from_marc(record: Record) -> RecordData:
    """A MARC 21 bibliographic record as ``RecordData``, the way a cataloguer reads it."""
    source = _Source.of(record)
    title, subtitle, responsibility, parallel = _title_statement(source.first("245"))
    if not title:
        title = _fallback_title(source) or subtitle
        subtitle = "" if title == subtitle else subtitle
    place, publisher, year = _publication(source)
    return RecordData(
        title=title,
        subtitle=subtitle,
        parallel_titles=_unique(parallel + _parallel_titles(source)),
        title_variants=_title_variants(source),
        responsibility=responsibility,
        contributors=_contributors(source),
        publisher=publisher,
        place=place,
        year=year,
        edition=_edition(source),
        extent=_extent(source),
        languages=_languages(source),
        resource_type=_resource_type(source),
        audience=_audience(source),
        subjects=_unique(
            [found for each in source.among(_SUBJECT_TAGS) for found in _subjects_of(each, source)]
        ),
        classifications=_unique(
            [
                found
                for each in source.among(_CLASSIFICATION_TAGS)
                for found in _classifications_of(each, source)
            ]
        ),
        identifiers=_unique(
            [
                found
                for each in source.among(_IDENTIFIER_TAGS)
                for found in _identifiers_of(each, source)
            ]
        ),
        series=_series(source),
        abstract=_paragraphs(source, _SUMMARY_TAGS),
        contents=_paragraphs(source, _CONTENTS_TAGS),
        notes=_paragraphs(source, _NOTE_TAGS),
        control_number=_control_text(source, "001"),
        control_number_source=_control_text(source, "003"),
    )


def _unique(items: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


def _control_text(source: _Source, tag: str) -> str:
    """``_control_value`` from the fields indexed by tag."""
    found = source.by_tag.get(tag)
    if not found:
        return ""
    first = found[0]
    return (first.data or "").strip() if first.control_field else ""


def _control_value(record: Record, tag: str) -> str:
    for each in record.fields:
        if each.tag == tag:
            return (each.data or "").strip() if each.control_field else ""
    return ""


def _without_final_stop(text: str) -> str:
    """A full stop ending a MARC subfield is ISBD punctuation, except after an initial
    ("Smith, J."), inside an abbreviation with stops ("U.S.A."), after a known abbreviation
    ("Inc.", "ред.") or in an ellipsis."""
    if not text.endswith(".") or text.endswith(".."):
        return text
    words = text[:-1].split()
    word = words[-1].lstrip("([") if words else ""
    if (len(word) == 1 and word.isalpha()) or "." in word or word.lower() in _ABBREVIATIONS:
        return text
    return text[:-1].rstrip()


@lru_cache(maxsize=1 << 16)
def _bare(value: str) -> str:
    """A subfield's value without the ISBD punctuation that introduces the next element
    (" /", " :", " ;", " =", ",") and without a closing full stop."""
    return _without_final_stop(_without_isbd_closing(value))


def _without_isbd_closing(value: str) -> str:
    """The value without trailing ISBD separators, including a stray stop after one
    ("Москва :.")."""
    text = value.strip()
    while text and (
        text[-1] in _ISBD_CLOSING or (text[-1] == "." and text[:-1].rstrip()[-1:] in _ISBD_CLOSING)
    ):
        text = text[:-1].rstrip()
    return text


def _title_statement(statement: Field | None) -> tuple[str, str, str, list[str]]:
    """245 as (title, other title information, statement of responsibility, parallel titles).

    The title proper is $a with the number ($n) and name ($p) of a part: "Title. Part 2,
    Name". $b is other title information, or a parallel title when ISBD's " =" precedes it.
    """
    if statement is None:
        return "", "", "", []
    title = ""
    subtitles: list[str] = []
    parallel: list[str] = []
    responsibility: list[str] = []
    previous_code, previous = "", ""
    for code, value in statement.subfields:
        if code == "a":
            title = f"{title} {_bare(value)}".strip()
        elif code in ("n", "p"):
            part = _bare(value)
            if part and title:
                title += (", " if code == "p" and previous_code == "n" else ". ") + part
            elif part:
                title = part
        elif code == "b":
            part = _bare(value)
            if part:
                (parallel if previous.rstrip().endswith("=") else subtitles).append(part)
        elif code == "c":
            responsibility.append(_bare(value))
        if code not in ("6", "8"):
            previous_code, previous = code, value
    return title, " : ".join(subtitles), " ".join(r for r in responsibility if r), parallel


def _fallback_title(source: _Source) -> str:
    """A record without a 245 $a: the 245 in another script (an unlinked 880), the varying
    form (246), the uniform title (240, 130) or an uncontrolled related title (740)."""
    candidates = [
        f for (tag, _occ), found in source.alternates.items() if tag == "245" for f in found
    ]
    for tag in ("246", "240", "130", "740"):
        candidates.extend(source.by_tag.get(tag, ()))
    for each in candidates:
        title = _title_statement(each)[0]
        if title:
            return title
    return ""


def _title_variants(source: _Source) -> list[str]:
    """Every 880 that gives the 245 in another script, linked or not: "title : subtitle"."""
    variants: list[str] = []
    for (tag, _occurrence), alternates in source.alternates.items():
        if tag != "245":
            continue
        for each in alternates:
            title, subtitle, _responsibility, _parallel = _title_statement(each)
            text = f"{title} : {subtitle}" if title and subtitle else title or subtitle
            if text and text not in variants:
                variants.append(text)
    return variants


def _parallel_titles(source: _Source) -> list[str]:
    return [found for each in source.among(_PARALLEL_TITLE_TAGS) for found in _titles_of(each)]


def _titles_of(varying: Field, source: _Source | None = None) -> list[str]:
    """246 (varying form) and 242 (translation by the cataloguing agency): $a, $n, $p, $b."""
    title, subtitle, _responsibility, _parallel = _title_statement(varying)
    text = f"{title} : {subtitle}" if title and subtitle else title or subtitle
    return [text] if text else []


def _contributors(source: _Source) -> list[ContributorData]:
    """Main and added entries in record order. A name/title entry ($t) names the author of a
    contained (second indicator 2) or related work: that person joins the contributors only
    if not there already, as the author of a contained work or as a contributor."""
    found: list[ContributorData] = []
    for each in source.among(_CONTRIBUTOR_TAGS):
        if "t" not in each:
            found.extend(_contributors_of(each, source))
            continue
        for work_author in _contributors_of(each, source):
            if all(work_author.name != known.name for known in found):
                found.append(work_author)
    return found


def _contributor_items(entry: Field, source: _Source) -> list[ContributorData]:
    """What a field adds to the contributors when the form edits them: a name/title entry is
    about another work, so it is never rebuilt from the form."""
    return [] if "t" in entry else _contributors_of(entry, source)


def _contributors_of(entry: Field, source: _Source) -> list[ContributorData]:
    """1XX main entry or 7XX added entry: a person (X00), organisation (X10) or meeting (X11).

    The role comes from the relator code ($4) or term ($e, or $j for meetings); without one
    a main entry, or the author of a contained work, is an author and any other added entry
    a contributor.
    """
    kind = entry.tag[1:]
    name, role = _name_and_role(entry.tag, entry.indicator2, tuple(entry.subfields))
    if not name:
        return []
    variants = _unique(
        [
            variant
            for alternate in source.linked(entry)
            if (variant := _name_of(alternate, kind)) and variant != name
        ]
    )
    return [ContributorData(name=name, role=role, variants=variants, is_organisation=kind != "00")]


@lru_cache(maxsize=1 << 14)
def _name_and_role(tag: str, indicator2: str, subfields: tuple[Subfield, ...]) -> tuple[str, str]:
    """An entry's name heading and role, worked out once for every entry written the same
    way: a catalogue names the same people and bodies again and again."""
    kind = tag[1:]
    name = _name_in(subfields, kind)
    if not name:
        return "", ""
    is_author = tag.startswith("1") or (indicator2 == "2" and any(c == "t" for c, _v in subfields))
    role = _role_in(subfields, kind) or ("author" if is_author else "contributor")
    return name, role


def _name_of(entry: Field, kind: str) -> str:
    """The name heading: $a $b $c for a person, $a $b for an organisation, $a $q $e $n $d $c
    for a meeting; LC's "[from old catalog]" note is not part of it."""
    return _name_in(entry.subfields, kind)


def _name_in(subfields: Iterable[Subfield], kind: str) -> str:
    parts = _NAME_PARTS.get(kind, _NAME_PARTS["00"])
    text = " ".join(v.strip() for c, v in subfields if c in parts and v.strip())
    return _bare(_FROM_OLD_CATALOG.sub("", text))


def _role_in(subfields: Iterable[Subfield], kind: str) -> str | None:
    """The role a relator code ($4) names, else a relator term ($e, $j for meetings)."""
    pairs = list(subfields)
    for code, value in pairs:
        if code == "4":
            role = _RELATOR_CODES.get(
                value.strip().rstrip("/").rsplit("/", 1)[-1].lower().strip(". ")
            )
            if role:
                return role
    term_code = "j" if kind == "11" else "e"
    for code, value in pairs:
        if code == term_code:
            role = _RELATOR_TERMS.get(
                " ".join(_RELATOR_PUNCTUATION.sub(" ", value).lower().split())
            )
            if role:
                return role
    return None


def _publication(source: _Source) -> tuple[str, str, int | None]:
    """Place, publisher and year of publication.

    The publication statement is 264 with second indicator 1, else 260, else any other 264
    but the copyright notice, else an unlinked 880 standing for one. The year is the first
    four-digit year of its $c that is not a copyright date, else 008/07-10 (Date 1), else a
    copyright date ($c, or 264 with second indicator 4).
    """
    statements = source.among(_PUBLICATION_TAGS) or [
        f
        for (tag, _occ), found in source.alternates.items()
        if tag in ("260", "264")
        for f in found
    ]
    statement = next((s for s in statements if s.tag == "264" and s.indicator2 == "1"), None)
    if statement is None:
        statement = next((s for s in statements if s.tag == "260"), None)
    if statement is None:
        statement = next((s for s in statements if s.indicator2 != "4"), None)
    parts = _statement_parts(statement, statements)
    places = [p for p in map(_place_or_publisher, parts["a"]) if p]
    publishers = [p for p in map(_place_or_publisher, parts["b"]) if p]
    year = _first_year(parts["c"], copyright=False)
    if year is None:
        year = _first_year([source.fixed[7:11]]) if source.fixed[7:11].isdigit() else None
    if year is None:
        year = _first_year(parts["c"])
    if year is None:
        notices = [s for s in statements if s.tag == "264" and s.indicator2 == "4"]
        year = _first_year([v for s in notices for v in s.get_subfields("c")])
    return (places[0] if places else ""), " ; ".join(publishers), year


def _statement_parts(statement: Field | None, statements: list[Field]) -> dict[str, list[str]]:
    """Place ($a), publisher ($b) and date ($c) of a publication statement; one that lacks an
    element takes it from the next statement of its kind, for records that split one
    statement over several fields (260 $a in one, 260 $b $c in the next)."""
    parts: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    if statement is None:
        return parts
    if len(statements) == 1:  # the usual case
        for code, value in statement.subfields:
            if code in parts:
                parts[code].append(value)
        return parts
    kin = [statement] + [
        s
        for s in statements
        if s is not statement and s.tag == statement.tag and s.indicator2 == statement.indicator2
    ]
    for code, values in parts.items():
        values.extend(next((s.get_subfields(code) for s in kin if code in s), []))
    return parts


@lru_cache(maxsize=1 << 14)
def _place_or_publisher(value: str) -> str:
    """A place ($a) or publisher ($b) as printed, without ISBD punctuation or the brackets of a
    cataloguer's addition; "[S.l.]", "[s.n.]", "[Б. м.]" and the like say it is unknown."""
    text = _without_isbd_closing(value)
    if (text.startswith("[") and text.endswith("]")) or text.count("[") != text.count("]"):
        text = _without_isbd_closing(text.strip("[]"))
    key = _NOT_IN_KEY.sub("", text.lower())
    return "" if key in _UNKNOWN_PLACE_OR_PUBLISHER else text


def _first_year(values: Iterable[str], *, copyright: bool = True) -> int | None:
    """The first plausible four-digit year; with ``copyright=False`` a copyright or phonogram
    date ("c1972", "©1972", "p1990") does not count, since it is not the publication date."""
    for value in values:
        year = _year_in(value, copyright)
        if year is not None:
            return year
    return None


@lru_cache(maxsize=1 << 12)
def _year_in(value: str, copyright: bool) -> int | None:
    for match in _YEAR.finditer(value):
        year = int(match[1])
        if not copyright and _COPYRIGHT.search(value[: match.start()]):
            continue
        if 1000 <= year <= 2100:
            return year
    return None


def _edition(source: _Source) -> str:
    statement = source.first("250")
    if statement is None:
        return ""
    text = " ".join(v.strip() for v in statement.get_subfields("a", "b") if v.strip())
    return text.rstrip(_ISBD_CLOSING).strip()


def _extent(source: _Source) -> str:
    description = source.first("300")
    if description is None:
        return ""
    text = " ".join(v.strip() for v in description.get_subfields("a") if v.strip())
    return text.rstrip(" :;+,").strip()


def _languages(source: _Source) -> list[str]:
    """008/35-37 and 041 $a (text) and $d (sung or spoken text), as ISO 639-2/B codes.

    041 with second indicator 7 uses another code list and is skipped; an obsolete practice
    ran several codes together in one subfield ("engfre").
    """
    found: list[str] = []
    candidates = [source.fixed[35:38]] if len(source.fixed) >= 38 else []
    for each in source.by_tag.get("041", ()):
        if each.indicator2 == "7":
            continue
        for value in each.get_subfields("a", "d"):
            packed = value.replace(" ", "").replace("-", "")
            if len(packed) % 3 == 0:
                candidates.extend(packed[i : i + 3] for i in range(0, len(packed), 3))
    for candidate in candidates:
        code = candidate.strip().lower()
        code = _LANGUAGE_CODES.get(code, code)
        if len(code) == 3 and code.isalpha() and code not in _NOT_LANGUAGES and code not in found:
            found.append(code)
    return found


def _resource_type(source: _Source) -> str:
    """Leader/06 (type of record) and /07 (bibliographic level), 502 and 008/24-27."""
    leader = source.leader
    kind, level = leader[6], leader[7]
    if kind in ("a", "t"):
        if level in ("a", "b"):
            return "article"
        if level == "d":
            return "issue"
        if level in ("s", "i"):
            return "journal"
        if "502" in source.by_tag or "m" in source.fixed[24:28]:
            return "dissertation"
        if _is_textbook(source):
            return "textbook"
        return "book"
    return {
        "i": "audio",
        "j": "audio",
        "g": "video",
        "e": "map",
        "f": "map",
        "m": "dataset",
        "r": "3d_model",
    }.get(kind, "book")


def _is_textbook(source: _Source) -> bool:
    """A genre/form heading (655 $a, or a $v form subdivision) saying "Textbooks"."""
    for each in source.among(_SUBJECT_TAGS):
        codes = ("a", "v") if each.tag == "655" else ("v",)
        for value in each.get_subfields(*codes):
            if _bare(value).lower() in _TEXTBOOK_TERMS:
                return True
    return False


def _audience(source: _Source) -> str:
    """008/22 (target audience) of books, music, visual materials and computer files."""
    leader = source.leader
    has_audience = leader[6] in "acdgijkmort" and not (leader[6] in "at" and leader[7] in "bis")
    if not has_audience or len(source.fixed) < 23:
        return "general"
    return _AUDIENCES.get(source.fixed[22], "general")


def _subjects_of(heading: Field, source: _Source | None = None) -> list[SubjectData]:
    """A 6XX subject access point: the heading, then its form ($v), general ($x),
    chronological ($y) and geographic ($z) subdivisions, joined with " -- "."""
    return [
        SubjectData(label=label, scheme=scheme)
        for label, scheme in _headings(heading.tag, heading.indicator2, tuple(heading.subfields))
    ]


@lru_cache(maxsize=1 << 14)
def _headings(
    tag: str, indicator2: str, subfields: tuple[Subfield, ...]
) -> tuple[tuple[str, str], ...]:
    """``_subjects_of`` as (label, scheme) pairs, worked out once for every heading written
    the same way: the same subjects come back record after record."""
    if tag == "653":
        terms = (_bare(v) for c, v in subfields if c == "a")
        return tuple((term, "local") for term in terms if term)
    scheme = _scheme_in(indicator2, subfields)
    relator = "j" if tag == "611" else "e"
    main = " ".join(
        v.strip()
        for c, v in subfields
        if c.isalpha() and c not in _SUBDIVISIONS and c != relator and v.strip()
    )
    parts = [_bare(main)] + [_bare(v) for c, v in subfields if c in _SUBDIVISIONS]
    label = " -- ".join(p for p in parts if p)
    return ((label, scheme),) if label else ()


def _scheme_in(indicator2: str, subfields: Iterable[Subfield]) -> str:
    if indicator2 == "7":
        source = next((v for c, v in subfields if c == "2"), "").strip().lower()
        return source or "local"
    return _SUBJECT_SOURCES.get(indicator2, "local")


def _classifications_of(number: Field, source: _Source | None = None) -> list[ClassificationData]:
    """080 UDC ($a with its common auxiliaries $x), 082 DDC (segmentation marks dropped),
    050/090 LCC ($a with the item number $b), 084 BBK (source $2 rubbk) or UDC ($2 udc)."""
    tag = number.tag
    if tag == "080":
        text = "".join(v.strip() for v in number.get_subfields("a", "x"))
        return [ClassificationData("udc", text)] if text else []
    if tag == "082":
        return [
            ClassificationData("ddc", v.replace("/", "").replace("'", "").strip())
            for v in number.get_subfields("a")
            if v.strip()
        ]
    if tag in ("050", "090"):
        item = " ".join(v.strip() for v in number.get_subfields("b") if v.strip())
        return [
            ClassificationData("lcc", f"{v.strip()} {item}".strip())
            for v in number.get_subfields("a")
            if v.strip()
        ]
    origin = (number.get("2") or "").strip().lower()
    scheme = "bbk" if origin.startswith("rubbk") or origin == "bbk" else None
    scheme = "udc" if origin.startswith("udc") else scheme
    if scheme is None:
        return []
    return [ClassificationData(scheme, v.strip()) for v in number.get_subfields("a") if v.strip()]


def _identifiers_of(number: Field, source: _Source | None = None) -> list[IdentifierData]:
    """020 $a ISBN without its qualifier ("(pbk.)"), and 020 $z, a cancelled or invalid ISBN
    that is kept for the identifier service to flag; 022 $a ISSN; 024 with first indicator 7
    and $2 doi a DOI; any other 024 (EAN, ISMN, URN...) an other identifier."""
    if number.tag == "020":
        found = []
        for value in number.get_subfields("a", "z"):
            match = _ISBN_AS_GIVEN.search(value)
            text = match[0].rstrip("-") if match else value.strip()
            if text:
                found.append(IdentifierData("isbn", text))
        return found
    if number.tag == "022":
        return [IdentifierData("issn", v.strip()) for v in number.get_subfields("a") if v.strip()]
    is_doi = number.indicator1 == "7" and (number.get("2") or "").strip().lower() == "doi"
    scheme = "doi" if is_doi else "other"
    return [IdentifierData(scheme, v.strip()) for v in number.get_subfields("a") if v.strip()]


def _series(source: _Source) -> str:
    """Series statements (490, or 440 before 2008) as transcribed, "Title ; numbering";
    830 (the series added entry) only when there is no statement. Several series are each
    put in parentheses, as ISBD does."""
    statements = [s for s in map(_series_statement, source.among(_SERIES_STATEMENT_TAGS)) if s]
    if not statements:
        statements = [s for s in map(_series_statement, source.by_tag.get("830", ())) if s]
    if len(statements) <= 1:
        return statements[0] if statements else ""
    return " ".join(f"({s})" for s in statements)


def _series_statement(statement: Field) -> str:
    title = _bare(" ".join(v.strip() for v in statement.get_subfields("a") if v.strip()))
    numbering = _bare(" ".join(v.strip() for v in statement.get_subfields("v") if v.strip()))
    return f"{title} ; {numbering}" if title and numbering else title


def _paragraphs(source: _Source, tags: frozenset[str]) -> str:
    return "\n\n".join(p for each in source.among(tags) for p in _paragraphs_of(each))


def _paragraphs_of(note: Field, source: _Source | None = None) -> list[str]:
    """A note's text: its lettered subfields in order. A 502 without $a is rendered from its
    parts: "Thesis (degree)--Granting institution, year"."""
    if note.tag == "502" and "a" not in note:
        degree, granting, year = (" ".join(note.get_subfields(c)) for c in ("b", "c", "d"))
        text = "Thesis" + (f" ({degree.strip()})" if degree.strip() else "")
        text += f"--{granting.strip()}" if granting.strip() else ""
        text += f", {year.strip()}" if year.strip() else ""
        return [text]
    text = " ".join(v.strip() for c, v in note.subfields if c.isalpha() and c != "u" and v.strip())
    return [text] if text else []
