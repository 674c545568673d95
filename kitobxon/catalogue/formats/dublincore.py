"""Simple Dublin Core (oai_dc) records in and out, and the value rules every crosswalk shares.

Dublin Core's fifteen elements are the common ground of the non-MARC formats, so the rules for
the values they all carry live here and the CSV, BibTeX and RIS crosswalks reuse them:
language names and codes to ISO 639-2/B (``language_code``), identifiers recognised by their
shape (``identifier_of``), "Title : subtitle" (``split_title``), a role in brackets after a
name (``contributor_from``), the first four-digit year (``first_year``) and type words to
resource types (``resource_type_of``).

Reading takes ``oai_dc:dc`` records, OAI-PMH ListRecords and GetRecord responses (each record's
``<metadata>``; deleted records have none and are skipped), a plain ``<record>`` or
``<metadata>`` wrapper, or a bare element holding dc elements. Any element whose children
include dc elements is a record. ``dc:format``, ``relation``, ``rights``, ``coverage`` and
``source`` are not carried. Writing gives a ``<collection>`` of ``oai_dc:dc`` records valid
against the OAI oai_dc schema. DC has no place of publication, so the writer gives
``dc:publisher`` as "Place : Publisher" (ISBD order) and the reader splits it back; roles
other than author and contributor follow the name in brackets: "Karimov, Aziz (translator)".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from lxml import etree
from stdnum import isbn, issn

from kitobxon.catalogue.data import ContributorData, IdentifierData, RecordData, SubjectData
from kitobxon.catalogue.formats import Parsed, xmlsafety

DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI = "http://www.openarchives.org/OAI/2.0/"

# --- Languages ----------------------------------------------------------------------------

# ISO 639-2/B code, ISO 639-1 code, ISO 639-2/T code when it differs, then names people write.
_LANGUAGE_ROWS: tuple[tuple[str, ...], ...] = (
    ("uzb", "uz", "", "uzbek", "ozbek", "ozbekcha", "ўзбек", "ўзбекча", "узбекский"),
    ("kaa", "", "", "karakalpak", "qaraqalpaq", "qaraqalpaqsha", "қарақалпақ", "каракалпакский"),
    ("rus", "ru", "", "russian", "rus", "ruscha", "русский", "рус"),
    ("eng", "en", "", "english", "ingliz", "inglizcha", "английский", "american", "british"),
    ("kaz", "kk", "", "kazakh", "qozoq", "қазақ", "казахский"),
    ("kir", "ky", "", "kyrgyz", "kirghiz", "qirgʻiz", "кыргыз", "киргизский"),
    ("tgk", "tg", "", "tajik", "tojik", "тоҷикӣ", "таджикский"),
    ("tuk", "tk", "", "turkmen", "turkman", "туркменский"),
    ("tur", "tr", "", "turkish", "turk", "türkçe", "турецкий"),
    ("aze", "az", "", "azerbaijani", "ozarbayjon", "азербайджанский"),
    ("tat", "tt", "", "tatar", "татарский"),
    ("uig", "ug", "", "uyghur", "uighur", "uygʻur", "уйгурский"),
    ("per", "fa", "fas", "persian", "farsi", "fors", "персидский"),
    ("ara", "ar", "", "arabic", "arab", "арабский"),
    ("ger", "de", "deu", "german", "deutsch", "ngerman", "nemis", "немецкий"),
    ("fre", "fr", "fra", "french", "français", "francais", "fransuz", "французский"),
    ("spa", "es", "", "spanish", "español", "ispan", "испанский"),
    ("ita", "it", "", "italian", "italiano", "итальянский"),
    ("por", "pt", "", "portuguese", "português", "португальский"),
    ("chi", "zh", "zho", "chinese", "xitoy", "китайский"),
    ("jpn", "ja", "", "japanese", "yapon", "японский"),
    ("kor", "ko", "", "korean", "koreys", "корейский"),
    ("hin", "hi", "", "hindi", "хинди"),
    ("urd", "ur", "", "urdu", "урду"),
    ("ukr", "uk", "", "ukrainian", "украинский"),
    ("bel", "be", "", "belarusian", "белорусский"),
    ("pol", "pl", "", "polish", "polski", "польский"),
    ("cze", "cs", "ces", "czech", "чешский"),
    ("slo", "sk", "slk", "slovak"),
    ("dut", "nl", "nld", "dutch", "nederlands", "голландский"),
    ("swe", "sv", "", "swedish", "svenska"),
    ("nor", "no", "", "norwegian", "norsk"),
    ("dan", "da", "", "danish", "dansk"),
    ("fin", "fi", "", "finnish", "suomi"),
    ("est", "et", "", "estonian"),
    ("lav", "lv", "", "latvian"),
    ("lit", "lt", "", "lithuanian"),
    ("hun", "hu", "", "hungarian", "magyar"),
    ("rum", "ro", "ron", "romanian"),
    ("bul", "bg", "", "bulgarian"),
    ("srp", "sr", "", "serbian"),
    ("hrv", "hr", "", "croatian"),
    ("slv", "sl", "", "slovenian"),
    ("mac", "mk", "mkd", "macedonian"),
    ("alb", "sq", "sqi", "albanian"),
    ("gre", "el", "ell", "greek", "греческий"),
    ("arm", "hy", "hye", "armenian", "армянский"),
    ("geo", "ka", "kat", "georgian", "грузинский"),
    ("heb", "he", "", "hebrew", "иврит"),
    ("ind", "id", "", "indonesian"),
    ("may", "ms", "msa", "malay"),
    ("vie", "vi", "", "vietnamese"),
    ("tha", "th", "", "thai"),
    ("lat", "la", "", "latin", "латинский"),
    ("baq", "eu", "eus", "basque"),
    ("ice", "is", "isl", "icelandic"),
    ("wel", "cy", "cym", "welsh"),
    ("bur", "my", "mya", "burmese"),
    ("tib", "bo", "bod", "tibetan"),
    ("mao", "mi", "mri", "maori"),
    ("mon", "mn", "", "mongolian", "монгольский"),
    ("pus", "ps", "", "pashto", "pushtu"),
    ("ben", "bn", "", "bengali"),
    ("cat", "ca", "", "catalan"),
    ("glg", "gl", "", "galician"),
    ("gle", "ga", "", "irish"),
    ("epo", "eo", "", "esperanto"),
    ("afr", "af", "", "afrikaans"),
    ("swa", "sw", "", "swahili"),
    ("nob", "nb", "", "norwegian bokmål", "bokmål"),
    ("nno", "nn", "", "norwegian nynorsk", "nynorsk"),
    ("tgl", "tl", "", "tagalog"),
    ("fil", "", "", "filipino"),
    ("mul", "", "", "multiple languages", "multilingual"),
)
_APOSTROPHES = str.maketrans("", "", "ʻʼ'‘’`")
_LANGUAGE_SUFFIX = re.compile(r"\s+(?:tili|language|язык|тили)$")
_REGION = re.compile(r"[-_]")


def _language_key(text: str) -> str:
    key = _LANGUAGE_SUFFIX.sub("", " ".join(text.casefold().split()).strip(" ."))
    return key.translate(_APOSTROPHES)


def _language_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for code, two, terminology, *names in _LANGUAGE_ROWS:
        for key in (code, two, terminology, *names):
            if key:
                index[_language_key(key)] = code
    return index


_LANGUAGES = _language_index()


def language_code(text: str) -> str | None:
    """The ISO 639-2/B code for a language as people write it, or None when unknown.

    Accepts ISO 639-1 codes with or without a region or script ("en", "en-US", "uz-Cyrl"),
    ISO 639-2 codes in either the bibliographic or the terminology form ("fre", "fra") and
    names in English, Uzbek and Russian ("English", "oʻzbek tili", "русский"). Any other
    three-letter code is taken as ISO 639-2 already.
    """
    key = _language_key(text)
    if not key:
        return None
    if key in _LANGUAGES:
        return _LANGUAGES[key]
    base = _REGION.split(key, maxsplit=1)[0]
    if base in _LANGUAGES and len(base) in (2, 3):
        return _LANGUAGES[base]
    if len(base) == 3 and base.isascii() and base.isalpha():
        return base
    return None


# --- Identifiers ----------------------------------------------------------------------------

_URN = re.compile(r"^urn:(isbn|issn):\s*(.+)$", re.IGNORECASE)
_PREFIXED = re.compile(r"^(isbn|issn)(?:[-\s]?1[03](?=[\s:]))?\s*:?\s*(\S.*)$", re.IGNORECASE)
_DOI = re.compile(
    r"^(?:doi:\s*|info:doi/|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE
)
_QUALIFIER = re.compile(r"\s*[(\[].*$")
_ISSN_SHAPE = re.compile(r"^\d{4}-\d{3}[\dXx]$")


def identifier_of(text: str) -> IdentifierData | None:
    """An identifier recognised by its shape: ISBN, ISSN, DOI, else "other".

    "urn:isbn:…", "ISBN 978…" and "ISSN: …" name their scheme (the number is kept even if
    its check digit is wrong, so that a cataloguer sees the misprint). A DOI is "10.xxxx/…",
    alone, after "doi:" or "info:doi/", or in a doi.org link, and is kept as "10.xxxx/…".
    A bare number is an ISBN or an ISSN ("1234-5679") only when its check digit is right;
    a qualifier such as "(pbk.)" is dropped. Anything else is kept whole as "other".
    """
    value = " ".join(text.split())
    if not value:
        return None
    named = _URN.match(value) or _PREFIXED.match(value)
    if named:
        number = _QUALIFIER.sub("", named.group(2))
        return IdentifierData(named.group(1).lower(), number) if number else None
    doi = _DOI.match(value)
    if doi:
        return IdentifierData("doi", doi.group(1))
    bare = _QUALIFIER.sub("", value)
    if isbn.is_valid(bare):
        return IdentifierData("isbn", bare)
    if _ISSN_SHAPE.match(bare) and issn.is_valid(bare):
        return IdentifierData("issn", bare)
    return IdentifierData("other", value)


def identifier_text(identifier: IdentifierData) -> str:
    """How an identifier is written where its scheme must show in the value itself."""
    if identifier.scheme in ("isbn", "issn"):
        return f"urn:{identifier.scheme}:{identifier.value}"
    if identifier.scheme == "doi":
        return f"https://doi.org/{identifier.value}"
    return identifier.value


# --- Titles, names, years, types ------------------------------------------------------------


def split_title(text: str) -> tuple[str, str]:
    """("Title", "subtitle") from "Title : subtitle" (ISBD) or "Title: subtitle"."""
    value = " ".join(text.split())
    for separator in (" : ", ": "):
        head, found, tail = value.partition(separator)
        if found and head.strip() and tail.strip():
            return head.strip(), tail.strip()
    return value, ""


def join_title(title: str, subtitle: str) -> str:
    """The title proper and the subtitle in ISBD order, "Title : subtitle"."""
    return f"{title} : {subtitle}" if subtitle else title


_ROLE_WORDS: dict[str, str] = {
    **dict.fromkeys(("author", "aut", "muallif", "автор"), "author"),
    **dict.fromkeys(
        ("editor", "ed", "eds", "edt", "muharrir", "редактор", "ред", "под ред"), "editor"
    ),
    **dict.fromkeys(
        ("translator", "tr", "trans", "transl", "trl", "tarjimon", "переводчик", "пер"),
        "translator",
    ),
    **dict.fromkeys(
        ("illustrator", "ill", "illus", "rassom", "иллюстратор", "художник"), "illustrator"
    ),
    **dict.fromkeys(
        ("supervisor", "ths", "advisor", "adviser", "ilmiy rahbar", "научный руководитель"),
        "supervisor",
    ),
    **dict.fromkeys(("compiler", "comp", "com", "tuzuvchi", "составитель", "сост"), "compiler"),
    **dict.fromkeys(("narrator", "nrt", "чтец"), "narrator"),
    **dict.fromkeys(("director", "drt", "rejissyor", "режиссёр", "режиссер"), "director"),
    **dict.fromkeys(("contributor", "ctb"), "contributor"),
}
_TRAILING_ROLE = re.compile(r"^(?P<name>.*?)\s*[(\[](?P<role>[^()\[\]]+)[)\]]\s*$")


def contributor_from(text: str, default_role: str) -> ContributorData | None:
    """A contributor from "Surname, Forename", with a role word in brackets after the name.

    "Karimov, Aziz (translator)", "Doe, J. (ed.)" and "Иванов, И. [пер.]" carry their role;
    a bracket that is not a role word ("Navoiy, Alisher (1441-1501)") stays in the name.
    """
    value = " ".join(text.split())
    if not value:
        return None
    match = _TRAILING_ROLE.match(value)
    if match and match.group("name"):
        role = _ROLE_WORDS.get(match.group("role").casefold().strip(" ."))
        if role:
            return ContributorData(name=match.group("name"), role=role)
    return ContributorData(name=value, role=default_role)


def with_role(contributor: ContributorData, plain_role: str) -> str:
    """The contributor's name, followed by its role in brackets unless it is ``plain_role``."""
    if contributor.role == plain_role:
        return contributor.name
    return f"{contributor.name} ({contributor.role})"


_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def first_year(text: str) -> int | None:
    """The first four-digit number in a date ("2008", "c2008", "2008-05-12", "[2008?]")."""
    match = _YEAR.search(text)
    if match is None or int(match.group(1)) == 0:
        return None
    return int(match.group(1))


def _type_key(text: str) -> str:
    last = re.split(r"[/:#]", text.strip().rstrip("/").casefold())[-1]
    return re.sub(r"[\s\-_]", "", last)


def _type_index(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_type_key(word): kind for kind, words in table.items() for word in words}


_SPECIFIC_TYPES = _type_index(
    {
        "book": ("book", "monograph", "c_2f33", "ebook", "kitob", "книга"),
        "textbook": ("textbook", "learning object", "c_e059", "darslik", "учебник"),
        "article": (
            "article",
            "journal article",
            "c_6501",
            "research article",
            "c_2df8fbb1",
            "review article",
            "conference paper",
            "c_5794",
            "contribution to journal",
            "c_3e5a",
            "book part",
            "c_3248",
            "bookpart",
            "preprint",
            "c_816b",
            "maqola",
            "статья",
        ),
        "journal": ("journal", "periodical", "c_0640", "c_2659", "magazine", "newspaper"),
        "issue": ("issue", "journal issue", "periodical issue"),
        "dissertation": (
            "thesis",
            "dissertation",
            "doctoral thesis",
            "master thesis",
            "bachelor thesis",
            "c_46ec",
            "c_db06",
            "c_bdcc",
            "c_7a1f",
            "dissertatsiya",
            "диссертация",
        ),
        "audio": ("sound", "audio", "audiobook", "sound recording", "c_18cc"),
        "video": ("moving image", "video", "film", "video recording", "c_12ce", "c_8a7e"),
        "dataset": ("dataset", "data set", "c_ddb1"),
        "map": ("map", "cartographic material", "cartographic", "c_12cd", "c_12cc"),
        "3d_model": ("3d", "3d model", "3d object", "3d_model"),
    }
)
_GENERIC_TYPES = _type_index({"book": ("text", "c_18cf")})


def resource_type_of(values: Iterable[str]) -> str | None:
    """The resource type named by type words or URIs, the most specific one first.

    Understands plain words ("Text", "thesis", "moving image"), the DCMI type vocabulary,
    COAR resource type URIs (".../resource_type/c_2f33") and info:eu-repo/semantics terms.
    "Text" alone means a book; any more specific word wins over it.
    """
    generic = None
    for value in values:
        key = _type_key(value)
        if key in _SPECIFIC_TYPES:
            return _SPECIFIC_TYPES[key]
        generic = generic or _GENERIC_TYPES.get(key)
    return generic


def host_details(volume: str, number: str, pages: str) -> str:
    """Where an article sits in its host: "Vol. 12, no. 3, pp. 45–67"."""
    parts = []
    if volume:
        parts.append(f"Vol. {volume}")
    if number:
        parts.append(f"no. {number}")
    if pages:
        parts.append(f"pp. {pages}" if re.search(r"\d\s*[-–]+\s*\d", pages) else f"p. {pages}")
    return ", ".join(parts)


def unique(values: Iterable[Any]) -> list[Any]:
    """The values in their first order, each once."""
    seen: list[Any] = []
    for value in values:
        if value is not None and value not in seen:
            seen.append(value)
    return seen


# --- Reading --------------------------------------------------------------------------------

_ALIASES = {"abstract": "description", "issued": "date", "created": "date"}
_NOT_RECORDS = {"setDescription", "about", "description"}  # OAI-PMH parts that are not records
_IMPRINT = re.compile(r"^(?P<place>.*?)\s+:(?:\s+(?P<publisher>.*))?$")


def _dc_name(element: Any) -> str | None:
    """The dc element an element is ("title", "creator", …), or None."""
    if not isinstance(element.tag, str):
        return None
    qname = etree.QName(element)
    if qname.namespace not in (DC, DCTERMS):
        return None
    return _ALIASES.get(qname.localname, qname.localname)


def _is_record(element: Any) -> bool:
    return _dc_name(element) is None and any(_dc_name(child) for child in element)


def _outside_metadata(element: Any) -> bool:
    return any(
        etree.QName(ancestor).namespace == OAI and etree.QName(ancestor).localname in _NOT_RECORDS
        for ancestor in element.iterancestors()
    )


def _oai_identifier(element: Any) -> str:
    for ancestor in element.iterancestors(f"{{{OAI}}}record"):
        found = ancestor.findtext(f"{{{OAI}}}header/{{{OAI}}}identifier")
        return (found or "").strip()
    return ""


def _values(element: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for child in element:
        name = _dc_name(child)
        text = " ".join("".join(child.itertext()).split()) if name else ""
        if name and text:
            values.setdefault(name, []).append(text)
    return values


def _imprint(publisher: str) -> tuple[str, str]:
    """(place, publisher) from "Place : Publisher", or ("", publisher)."""
    match = _IMPRINT.match(publisher)
    if match is None:
        return "", publisher
    return match.group("place"), match.group("publisher") or ""


def record_from_values(values: dict[str, list[str]], raw: bytes = b"") -> RecordData:
    """The crosswalk DC → RecordData, for a record that has at least one title."""
    titles = values["title"]
    title, subtitle = split_title(titles[0])
    place, publisher = _imprint(values.get("publisher", [""])[0])
    contributors = [contributor_from(v, "author") for v in values.get("creator", [])]
    contributors += [contributor_from(v, "contributor") for v in values.get("contributor", [])]
    subjects = [part.strip() for value in values.get("subject", []) for part in value.split(";")]
    return RecordData(
        title=title,
        subtitle=subtitle,
        parallel_titles=titles[1:],
        contributors=unique(contributors),
        publisher=publisher,
        place=place,
        year=next((y for y in map(first_year, values.get("date", [])) if y), None),
        languages=unique(language_code(v) for v in values.get("language", [])),
        resource_type=resource_type_of(values.get("type", [])) or "book",
        subjects=[SubjectData(label=s) for s in unique(s for s in subjects if s)],
        identifiers=unique(identifier_of(v) for v in values.get("identifier", [])),
        abstract="\n\n".join(values.get("description", [])),
        source_format="dc",
        source_data=raw,
    )


def _parsed(element: Any, position: int) -> Parsed:
    raw = etree.tostring(element, encoding="utf-8", with_tail=False)
    values = _values(element)
    control_number = _oai_identifier(element)
    if not values.get("title"):
        return Parsed(
            position,
            -1,
            raw,
            error=f"record {position} (line {element.sourceline}) has no dc:title",
            control_number=control_number,
        )
    data = record_from_values(values, raw)
    data.control_number = control_number
    return Parsed(position, -1, raw, data=data, control_number=control_number)


def _release(element: Any) -> None:
    """Free a read record and everything before it, so memory stays flat on big files."""
    element.clear(keep_tail=True)
    node = element
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def read(stream: BinaryIO) -> Iterator[Parsed]:
    """Dublin Core records, one ``Parsed`` each, streamed.

    A record without a title is an error and the next one is read. A document that declares
    entities is refused with one error and never expanded (see ``xmlsafety``). Where the XML
    stops being well-formed, the records before come through, then one error names the line.
    """
    position = 0
    try:
        for _event, element in xmlsafety.iterparse(stream, events=("end",)):
            if not _is_record(element) or _outside_metadata(element):
                continue
            position += 1
            yield _parsed(element, position)
            _release(element)
    except xmlsafety.UnsafeXMLError as error:
        yield Parsed(position + 1, -1, b"", error=str(error))
    except etree.XMLSyntaxError as error:
        yield Parsed(
            position + 1,
            -1,
            b"",
            error=f"the XML is not well-formed at line {error.lineno}: {error.msg}",
        )


# --- Writing --------------------------------------------------------------------------------

_COAR = "http://purl.org/coar/resource_type/"
_DC_TYPES: dict[str, tuple[str, str]] = {
    "book": ("Text", f"{_COAR}c_2f33"),
    "textbook": ("Text", "textbook"),
    "article": ("Text", f"{_COAR}c_6501"),
    "journal": ("Text", f"{_COAR}c_0640"),
    "issue": ("Text", "journal issue"),
    "dissertation": ("Text", f"{_COAR}c_46ec"),
    "audio": ("Sound", f"{_COAR}c_18cc"),
    "video": ("MovingImage", f"{_COAR}c_12ce"),
    "map": ("Image", f"{_COAR}c_12cd"),
    "dataset": ("Dataset", f"{_COAR}c_ddb1"),
    "3d_model": ("PhysicalObject", "3D model"),
}


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (control characters other than
    tab and line ends, lone surrogates), which lxml would refuse."""
    return _NOT_XML.sub("", text)


def _elements(record: RecordData) -> Iterator[tuple[str, str]]:
    yield "title", join_title(record.title, record.subtitle)
    for parallel in record.parallel_titles:
        yield "title", parallel
    for contributor in record.contributors:
        if contributor.role == "author":
            yield "creator", contributor.name
        else:
            yield "contributor", with_role(contributor, "contributor")
    for subject in record.subjects:
        yield "subject", subject.label
    if record.abstract:
        yield "description", record.abstract
    if record.place:
        yield "publisher", f"{record.place} : {record.publisher}".rstrip()
    elif record.publisher:
        yield "publisher", record.publisher
    if record.year:
        yield "date", str(record.year)
    for dc_type in _DC_TYPES.get(record.resource_type, ("Text",)):
        yield "type", dc_type
    for identifier in record.identifiers:
        yield "identifier", identifier_text(identifier)
    for language in record.languages:
        yield "language", language


def record_element(record: RecordData) -> Any:
    """One record as an ``oai_dc:dc`` element."""
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC})
    for name, value in _elements(record):
        if value:
            etree.SubElement(root, f"{{{DC}}}{name}").text = xml_text(value)
    return root


def write(records: Iterable[RecordData], out: BinaryIO) -> int:
    """A ``<collection>`` of ``oai_dc:dc`` records, UTF-8, streamed; returns the count."""
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("collection", nsmap={"oai_dc": OAI_DC, "dc": DC}):
            for record in records:
                xf.write("\n")
                xf.write(record_element(record), pretty_print=True)
                count += 1
            xf.write("\n")
    return count
