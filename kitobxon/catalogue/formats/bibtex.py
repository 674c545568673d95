"""BibTeX entries in and out, read with bibtexparser 2.

Reading: each ``@entry`` is parsed on its own (a new entry starts at a line beginning with
"@type{"), so one malformed entry is one error and the entries around it still import.
``@string`` macros apply to the entries after them; ``@comment`` and ``@preamble`` are
skipped. LaTeX is decoded to Unicode with pylatexenc, the decoder of bibtexparser's latex
middleware, applied after the names are split so that a braced organisation stays whole:
``{\\'a}`` → á, ``{\\i}`` → ı, braces dropped.

The crosswalk: ``author``/``editor``/``translator`` → contributors ("Last, First", whichever
way they were written; a fully braced name is an organisation), ``title`` → title and
subtitle (split at " : " or ": "; a biblatex ``subtitle`` field wins), ``journal`` →
``series`` (the host title; a ``series`` field goes there when there is no journal, else to
the notes), ``booktitle`` → notes ("In: …"), ``volume``/``number``/``pages`` → notes
("Vol. 12, no. 3, pp. 45–67"), ``school``/``institution`` → publisher when there is none,
``address`` → place, ``keywords`` → subjects, ``url`` → an "other" identifier (``isbn``,
``issn``, ``doi`` and ``url`` are taken verbatim, not as LaTeX). Chapters and papers
(``inbook``, ``incollection``, ``inproceedings``) are articles; ``misc``, ``online`` and
``book`` are books unless a ``type`` field names another resource type.

Writing: one entry per record, UTF-8, LaTeX specials escaped, with a stable citation key
(``CitationKeys``). Resource types BibTeX has no entry type for are written as ``@misc``
(``@book`` for a textbook) with a ``type`` field. Roles that BibTeX has no field for go to a
``contributor`` field as "Name (role)", which BibTeX ignores and this reader understands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts
from bibtexparser.model import Entry, ParsingFailedBlock, String
from pylatexenc.latex2text import LatexNodes2Text

from kitobxon.catalogue.data import ContributorData, IdentifierData, RecordData, SubjectData
from kitobxon.catalogue.formats import Parsed
from kitobxon.catalogue.formats.vocabulary import (
    contributor_from,
    first_year,
    host_details,
    identifier_of,
    join_title,
    language_code,
    resource_type_of,
    split_title,
    unique,
    with_role,
)

ENTRY_TYPES = {
    "article": "article",
    "book": "book",
    "phdthesis": "dissertation",
    "mastersthesis": "dissertation",
    "thesis": "dissertation",
    "inbook": "article",
    "incollection": "article",
    "inproceedings": "article",
    "conference": "article",
    "misc": "book",
    "online": "book",
    "booklet": "book",
    "manual": "book",
    "techreport": "book",
    "proceedings": "book",
    "unpublished": "book",
    "periodical": "journal",
    "dataset": "dataset",
    "audio": "audio",
    "video": "video",
}
_GENERIC_ENTRIES = {"misc", "online", "book", "booklet", "manual", "unpublished"}
_ROLE_FIELDS = (("author", "author"), ("editor", "editor"), ("translator", "translator"))
_VERBATIM = {"url", "doi", "isbn", "issn", "eprint"}

_DECODER = LatexNodes2Text(math_mode="verbatim", keep_braced_groups=False)
_ENTRY_START = re.compile(rb"^\s*@\s*([A-Za-z]+)\s*[{(]")
_BOM = b"\xef\xbb\xbf"


def _parse_stack() -> list[Any]:
    return [SeparateCoAuthors(), SplitNameParts()]


# --- Reading --------------------------------------------------------------------------------


def _chunks(stream: BinaryIO) -> Iterator[tuple[int, int, bytes]]:
    """(byte offset, line number, bytes) of each block that starts with "@" on its line."""
    offset = 0
    start: tuple[int, int] | None = None
    block = bytearray()
    for line_number, read_line in enumerate(iter(stream.readline, b""), start=1):
        line = read_line
        if offset == 0 and line.startswith(_BOM):
            offset, line = len(_BOM), line[len(_BOM) :]
        if _ENTRY_START.match(line):
            if start is not None:
                yield start[0], start[1], bytes(block)
            start, block = (offset, line_number), bytearray()
        if start is not None:
            block += line
        offset += len(line)
    if start is not None:
        yield start[0], start[1], bytes(block)


def _text(value: Any) -> str:
    """A field's LaTeX as plain Unicode on one line: ``{\\'a}`` → á, braces dropped."""
    return " ".join(_DECODER.latex_to_text(str(value)).split()) if value is not None else ""


def _fields(entry: Entry) -> dict[str, str]:
    """The entry's text fields by lower-case name; identifiers and links are taken verbatim
    (a "%" or "_" in a URL is not LaTeX)."""
    return {
        f.key.lower(): " ".join(str(f.value).split())
        if f.key.lower() in _VERBATIM
        else _text(f.value)
        for f in entry.fields
        if isinstance(f.value, str)
    }


def _person(parts: Any) -> ContributorData:
    """A name split by bibtexparser as "Last, First[, Jr.]"; a braced whole is an organisation."""
    braced = (
        not parts.first
        and not parts.von
        and not parts.jr
        and len(parts.last) == 1
        and parts.last[0].startswith("{")
        and parts.last[0].endswith("}")
    )

    def decoded(words: list[str]) -> str:
        return " ".join(_DECODER.latex_to_text(w) for w in words).strip()

    last, first, jr = decoded(parts.von + parts.last), decoded(parts.first), decoded(parts.jr)
    name = ", ".join(part for part in (last, first, jr) if part)
    return ContributorData(name=" ".join(name.split()), is_organisation=braced)


def _contributors(entry: Entry) -> list[ContributorData]:
    found: list[ContributorData | None] = []
    for name, role in _ROLE_FIELDS:
        names = entry.get(name)
        for parts in names.value if names is not None else []:
            found.append(replace(_person(parts), role=role))
    others = _text(entry["contributor"]) if "contributor" in entry else ""
    found += [contributor_from(n, "contributor") for n in re.split(r"\s+and\s+", others) if n]
    return unique(found)


def _list(value: str) -> list[str]:
    separator = ";" if ";" in value else ","
    return [item.strip() for item in value.split(separator) if item.strip()]


def _identifiers(fields: dict[str, str]) -> list[IdentifierData]:
    found = [IdentifierData("isbn", v) for v in _list(fields.get("isbn", ""))]
    found += [IdentifierData("issn", v) for v in _list(fields.get("issn", ""))]
    if fields.get("doi"):
        doi = identifier_of(fields["doi"])
        found.append(IdentifierData("doi", doi.value if doi else fields["doi"]))
    if fields.get("url"):
        found.append(IdentifierData("other", fields["url"]))
    return unique(found)


def record_from_entry(entry: Entry) -> RecordData:
    """The crosswalk from one parsed BibTeX entry to a record (ValueError if it has no title)."""
    fields = _fields(entry)
    if not fields.get("title"):
        raise ValueError("the entry has no title")
    if fields.get("subtitle"):
        title, subtitle = fields["title"], fields["subtitle"]
    else:
        title, subtitle = split_title(fields["title"])
    kind = entry.entry_type.lower()
    resource_type = ENTRY_TYPES.get(kind, "book")
    if kind in _GENERIC_ENTRIES and fields.get("type"):
        resource_type = resource_type_of([fields["type"]]) or resource_type
    host = fields.get("journal") or fields.get("journaltitle") or ""
    series = host or fields.get("series", "")
    notes = [
        f"Series: {fields['series']}" if host and fields.get("series") else "",
        f"In: {fields['booktitle']}" if fields.get("booktitle") else "",
        host_details(
            fields.get("volume", ""),
            fields.get("number", "") or fields.get("issue", ""),
            fields.get("pages", ""),
        ),
        fields.get("note", ""),
    ]
    publisher = (
        fields.get("publisher")
        or fields.get("school")
        or fields.get("institution")
        or fields.get("organization", "")
    )
    return RecordData(
        title=title,
        subtitle=subtitle,
        contributors=_contributors(entry),
        publisher=publisher,
        place=fields.get("address") or fields.get("location", ""),
        year=first_year(fields.get("year") or fields.get("date", "")),
        edition=fields.get("edition", ""),
        languages=unique(language_code(v) for v in _list(fields.get("language", ""))),
        resource_type=resource_type,
        subjects=[SubjectData(label=s) for s in unique(_list(fields.get("keywords", "")))],
        identifiers=_identifiers(fields),
        series=series,
        abstract=fields.get("abstract", ""),
        notes=". ".join(note for note in notes if note),
        source_format="bibtex",
    )


def _reason(error: Exception) -> str:
    """bibtexparser's reason for a failed block, on one line."""
    reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
    return " ".join(str(reason).split())


def read(stream: BinaryIO) -> Iterator[Parsed]:
    """One ``Parsed`` per entry, in file order; a malformed entry is an error with its line."""
    strings: list[String] = []
    position = 0
    for offset, line, raw in _chunks(stream):
        kind = _ENTRY_START.match(raw)
        block_type = kind.group(1).decode("ascii").lower() if kind else ""
        if block_type in ("comment", "preamble"):
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            if block_type != "string":
                position += 1
                yield Parsed(position, offset, raw, error=f"entry at line {line}: not UTF-8")
            continue
        known = {id(s) for s in strings}
        library = bibtexparser.parse_string(
            text, append_middleware=_parse_stack(), library=Library(list(strings))
        )
        for block in library.blocks:
            if id(block) in known:
                continue
            if isinstance(block, String):
                strings.append(block)
            elif isinstance(block, ParsingFailedBlock) and block_type != "string":
                position += 1
                yield Parsed(
                    position,
                    offset,
                    raw,
                    error=f"entry at line {line} is malformed: {_reason(block.error)}",
                )
            elif isinstance(block, Entry):
                position += 1
                try:
                    data = record_from_entry(block)
                except ValueError as error:
                    yield Parsed(position, offset, raw, error=f"entry {block.key!r}: {error}")
                    continue
                data.source_data = raw
                yield Parsed(position, offset, raw, data=data)


# --- Writing --------------------------------------------------------------------------------

# Entry types written; every other resource type is @misc. Resource types other than book,
# article and dissertation are also named in a ``type`` field, which this reader understands.
_WRITE_TYPES = {
    "book": "book",
    "textbook": "book",
    "article": "article",
    "dissertation": "phdthesis",
}
_CYRILLIC = str.maketrans(
    {
        **dict(
            zip(
                "абвгдезийклмнопрстуфыэўқғҳәөүңұіһı",
                "abvgdeziyklmnoprstufyeoqghaounuihi",
                strict=True,
            )
        ),
        **{"ё": "yo", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch"},
        **{"ю": "yu", "я": "ya", "ъ": None, "ь": None},
    }
)
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
}


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: Cyrillic transliterated, accents dropped."""
    latin = text.casefold().translate(_CYRILLIC)
    plain = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", plain)


def _surname_word(record: RecordData) -> str:
    people = [c for c in record.contributors if c.role == "author"] or record.contributors
    if not people:
        return ""
    words = people[0].name.split(",")[0].split()
    return ascii_fold((words[0] if people[0].is_organisation else words[-1]) if words else "")


def key_base(record: RecordData) -> str:
    """First author's surname + year + first title word, ASCII-folded: "qodiriy1926otkan"."""
    title_word = next((w for w in map(ascii_fold, record.title.split()) if w), "")
    return f"{_surname_word(record)}{record.year or ''}{title_word}" or "record"


def _suffix(n: int) -> str:
    return "" if n == 0 else "bcdefghijklmnopqrstuvwxyz"[n - 1] if n < 26 else str(n)


@dataclass
class CitationKeys:
    """The citation keys given so far in one file: none repeats.

    The first record with a base keeps it bare; the next get "b", "c", … then numbers, so
    a record's key depends only on the records before it.
    """

    used: set[str] = field(default_factory=set)
    next_suffix: dict[str, int] = field(default_factory=dict)

    def key_for(self, record: RecordData) -> str:
        base = key_base(record)
        n = self.next_suffix.get(base, 0)
        while base + _suffix(n) in self.used:
            n += 1
        self.used.add(base + _suffix(n))
        self.next_suffix[base] = n + 1
        return base + _suffix(n)


def _latex(value: str) -> str:
    return "".join(_LATEX_SPECIALS.get(c, c) for c in value)


def _bibtex_name(contributor: ContributorData) -> str:
    """A name as BibTeX reads it: "Last, Jr., First" has its parts reordered, orgs braced."""
    parts = [p.strip() for p in contributor.name.split(",")]
    if contributor.is_organisation or " and " in contributor.name:
        return "{" + _latex(contributor.name) + "}"
    if len(parts) == 3:
        return _latex(f"{parts[0]}, {parts[2]}, {parts[1]}")
    return _latex(contributor.name)


def _written_fields(record: RecordData) -> Iterator[tuple[str, str]]:
    for name, role in _ROLE_FIELDS:
        names = [_bibtex_name(c) for c in record.contributors if c.role == role]
        if names:
            yield name, " and ".join(names)
    others = [c for c in record.contributors if c.role not in ("author", "editor", "translator")]
    if others:
        yield "contributor", " and ".join(_latex(with_role(c, "contributor")) for c in others)
    yield "title", _latex(join_title(record.title, record.subtitle))
    if record.series:
        yield ("journal" if record.resource_type == "article" else "series"), _latex(record.series)
    text_fields = (
        ("edition", record.edition),
        ("publisher", record.publisher),
        ("address", record.place),
        ("year", str(record.year or "")),
        ("language", ", ".join(record.languages)),
        ("keywords", "; ".join(s.label for s in record.subjects)),
        ("abstract", record.abstract),
        ("note", record.notes),
    )
    for name, value in text_fields:
        if value:
            yield name, _latex(value)
    for scheme in ("isbn", "issn", "doi"):
        values = [i.value for i in record.identifiers if i.scheme == scheme]
        if values:
            yield scheme, ", ".join(values)
    urls = [i.value for i in record.identifiers if i.scheme == "other" and "://" in i.value]
    if urls:
        yield "url", urls[0]
    if record.resource_type not in ("book", "article", "dissertation"):
        yield "type", record.resource_type


def entry_text(record: RecordData, key: str) -> str:
    """One record as a BibTeX entry."""
    entry_type = _WRITE_TYPES.get(record.resource_type, "misc")
    lines = [f"  {field} = {{{value}}}," for field, value in _written_fields(record)]
    return "\n".join([f"@{entry_type}{{{key},", *lines, "}", "", ""])


def write(records: Iterable[RecordData], out: BinaryIO) -> int:
    """One entry per record, UTF-8, streamed; returns the count."""
    keys = CitationKeys()
    count = 0
    for record in records:
        out.write(entry_text(record, keys.key_for(record)).encode("utf-8"))
        count += 1
    return count
