"""The value rules every crosswalk shares: language names and codes to ISO 639-2/B
(``language_code``), identifiers recognised by their shape (``identifier_of``), "Title :
subtitle" (``split_title``), a role in brackets after a name (``contributor_from``), the first
four-digit year (``first_year``) and type words to resource types (``resource_type_of``).

Dublin Core's fifteen elements are the common ground of the non-MARC formats; the Dublin Core,
CSV, BibTeX and RIS crosswalks all read and write these values the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stdnum import isbn, issn

from kitobxon.catalogue.data import ContributorData, IdentifierData

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
