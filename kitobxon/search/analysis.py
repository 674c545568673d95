"""Text analysis for search: one pipeline for Uzbek, Karakalpak, Russian and English text.

A reader finds a record whatever script, apostrophe or inflected form they type, and the exact
form still ranks first. No search engine ships an analyser for Uzbek or Karakalpak, so every
backend indexes the terms made here and looks up the terms `analyse_query` makes from the reader's
words. The rules are those of LANGUAGE.md (R95 Uzbek Latin orthography, KAA16 Karakalpak
alphabet, Snowball); each step below is one small function.

Index time, per record field (`analyse`):

1. cleanup      — soft hyphens and zero-width characters out, Unicode spaces to spaces, NFC;
                  legacy 8-bit Karakalpak letters (ѳ є ќ њ) to the real ones
2. apostrophes  — oʻ gʻ get U+02BB, the tutuq belgisi U+02BC, any other apostrophe is punctuation;
                  then tokens: runs of letters, digits and ʻ ʼ (hyphens split)
3. homoglyphs   — a token mixing Latin and Cyrillic look-alikes takes its majority script
4. case, script — lowercase; Uzbek and Karakalpak Cyrillic to Latin        → `exact`
5. loose fold   — ʻ ʼ dropped, Karakalpak and Turkic letters folded, ts → s
6. Uzbek stem   — a light suffix stripper on the loose key                 → `uzkey`
7. Snowball     — Russian and English stems                                → `ru`, `en`

The record's language decides the path: Russian keeps Cyrillic in `exact`; Karakalpak is folded
but not stemmed; text of unknown language is guessed from its letters, and Cyrillic that is not
clearly Uzbek or Karakalpak gets both the Uzbek transliteration and Russian stems.

Query time (`analyse_query`) runs steps 1–5 on the reader's words and gives each word every form
it may take in the index. Per-word work is cached, so a title costs a few dictionary look-ups.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from kitobxon.search import uzbek_stemmer

#: Sizes of the per-word caches: with all of them full a process holds about 35 MB more.
_MANY_WORDS = 32_768
_SOME_WORDS = 16_384

#: Language families of the pipeline; "" is unknown.
FAMILIES: tuple[str, ...] = ("uz", "kaa", "ru", "en", "")

_FAMILY_OF_CODE = {
    "uz": "uz",
    "uzb": "uz",
    "kaa": "kaa",
    "ru": "ru",
    "rus": "ru",
    "en": "en",
    "eng": "en",
}


@lru_cache(maxsize=256)
def language_family(code: str) -> str:
    """A MARC / ISO 639 language code ("uzb", "uz-Cyrl", "rus", "eng", "kaa") → its family."""
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return _FAMILY_OF_CODE.get(base, "")


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Analysed:
    """The index terms of one text, in token order."""

    exact: tuple[str, ...]
    uzkey: tuple[str, ...]
    ru: tuple[str, ...]
    en: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueryToken:
    """One word a reader typed, with every form under which the index may hold it."""

    text: str
    exact: tuple[str, ...]
    uzkeys: tuple[str, ...]
    ru: str | None
    en: str | None
    fuzzy_key: str
    stopword: bool


# --- step 1: cleanup --------------------------------------------------------------------------

_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACES += "\u2028\u2029\u202f\u205f\u3000"
_CLEANUP_TABLE: dict[int, str | None] = {ord(c): None for c in _INVISIBLE}
_CLEANUP_TABLE |= {ord(c): " " for c in _SPACES}
_CLEANUP_TABLE[ord("＇")] = "'"
_NEEDS_CLEANUP = re.compile(f"[{_INVISIBLE}{_SPACES}＇]")

_KAA_LEGACY = str.maketrans("ѳѲєЄќЌњЊ", "өӨәӘқҚңҢ")
_HAS_KAA_LEGACY = re.compile("[ѳѲєЄќЌњЊ]")


def _clean(text: str, family: str) -> str:
    """Step 1. ASCII text needs none of it, which keeps the common case cheap."""
    if text.isascii():
        return text
    if _NEEDS_CLEANUP.search(text):
        text = text.translate(_CLEANUP_TABLE)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if family in ("kaa", "") and _HAS_KAA_LEGACY.search(text):
        text = text.translate(_KAA_LEGACY)
    return text


# --- step 2: apostrophes and tokens -----------------------------------------------------------

#: Every character typists use for oʻ, gʻ and the tutuq belgisi.
APOSTROPHES = "'`´‘’‛′ʹʻʼʽʾʿ＇"
_ANY_APOSTROPHE = re.compile(f"[{re.escape(APOSTROPHES)}]")
_TOKEN = re.compile(r"[^\W_]+")


def _is_letter(char: str) -> bool:
    return char.isalpha() and char not in APOSTROPHES


def _apostrophe(match: re.Match[str]) -> str:
    text, at = match.string, match.start()
    before = text[at - 1] if at else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    if not (_is_letter(before) and _is_letter(after)):
        return " "
    return "ʻ" if before in "oOgG" else "ʼ"


def _mark_apostrophes(chunk: str) -> str:
    """Step 2: oʻ/gʻ before a letter → U+02BB; between other letters → U+02BC; else a break."""
    return _ANY_APOSTROPHE.sub(_apostrophe, chunk)


def _tokens(chunk: str) -> list[str]:
    """Runs of letters, digits and the joining ʻ ʼ; everything else, hyphens too, splits."""
    return [_repair_homoglyphs(token) for token in _TOKEN.findall(_mark_apostrophes(chunk))]


# --- step 3: homoglyphs -----------------------------------------------------------------------

_CYRILLIC = re.compile("[\u0400-\u052f]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_CYRILLIC_LOOKALIKES = "АВЕКМНОРСТХаеорсухІіЈјЅѕһԛԝҮ"
_LATIN_LOOKALIKES = "ABEKMHOPCTXaeopcyxIiJjSshqwY"
_TO_LATIN = str.maketrans(_CYRILLIC_LOOKALIKES, _LATIN_LOOKALIKES)
_TO_CYRILLIC = str.maketrans(_LATIN_LOOKALIKES[:18], _CYRILLIC_LOOKALIKES[:18])


def _repair_homoglyphs(token: str) -> str:
    """Step 3: `Тoshkent` typed with a Cyrillic Т is Toshkent; ties go to Latin."""
    if not (_CYRILLIC.search(token) and _LATIN.search(token)):
        return token
    cyrillic = len(_CYRILLIC.findall(token))
    latin = len(_LATIN.findall(token))
    return token.translate(_TO_LATIN if latin >= cyrillic else _TO_CYRILLIC)


# --- step 4: case and script ------------------------------------------------------------------

_UZ_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ё": "yo", "ж": "j", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "x", "ч": "ch", "ш": "sh",
    "щ": "sh", "ы": "i", "э": "e", "ю": "yu", "я": "ya", "ў": "oʻ", "қ": "q", "ғ": "gʻ",
    "ҳ": "h",
}  # fmt: skip
_KAA_LETTERS = {
    "а": "a", "ә": "á", "б": "b", "в": "v", "г": "g", "ғ": "ǵ", "д": "d", "е": "e",
    "ё": "yo", "ж": "j", "з": "z", "и": "i", "й": "y", "к": "k", "қ": "q", "л": "l",
    "м": "m", "н": "n", "ң": "ń", "о": "o", "ө": "ó", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ү": "ú", "ў": "w", "ф": "f", "х": "x", "ҳ": "h", "ц": "c",
    "ч": "ch", "ш": "sh", "щ": "sh", "ы": "ı", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_UZ_CYRILLIC_VOWELS = "аеёиоуэюяў"
#: е is written ye at the start of a word and after these (R95; BGN/PCGN 2000 note 1).
_YE_AFTER = _UZ_CYRILLIC_VOWELS + "ъьй"
#: Loans whose ё/ю/я after a consonant the spelling dictionary writes o/u/a (R95-A 1).
_UZ_EXCEPTION_PREFIXES = (
    ("сентябр", "sentabr"),
    ("октябр", "oktabr"),
    ("бюджет", "budjet"),
    ("стажёр", "stajor"),
    ("фляг", "flag"),
)
#: Letters only Karakalpak writes (with the legacy 8-bit forms and the 2016 Latin ones).
_KAA_HINT = re.compile("[әӘөӨүҮңҢǵǴńŃı]")
#: Letters Uzbek (and Karakalpak) add to the Russian alphabet.
_UZ_HINT = re.compile("[ўЎқҚғҒҳҲ]")


def _lowercase(token: str, family: str) -> str:
    """Step 4, case: İ is i; in Karakalpak Í is the capital of ı, so Í/í → ı (KAA16, CLDR)."""
    if family == "kaa" and ("Í" in token or "í" in token):
        token = token.replace("Í", "ı").replace("í", "ı")
    if "İ" in token:
        token = token.replace("İ", "i")
    return token.lower()


def _russian_lowercase(token: str) -> str:
    return token.replace("ё", "е")


def _uz_hard_sign(before: str, after: str) -> str:
    """ъ (R95-A 3, R95-32): the tutuq ʼ in Arabic loans (маъно, маъюс, санъат).

    Not written in Russian loans, where it follows a prefix consonant before е/ю (разъезд,
    адъютант), nor after ў (мўъжиза), nor at either end of a word (as a Latin apostrophe there).
    """
    if not before or not after or before == "ў":
        return ""
    if before in _UZ_CYRILLIC_VOWELS or after not in "ею":
        return "ʼ"
    return ""


_UZ_IN_CONTEXT = re.compile("сҳ|[ецъь]")
_UZ_TO_LATIN = str.maketrans(_KAA_LETTERS | _UZ_LETTERS)
_KAA_IN_CONTEXT = re.compile("[ьъ]")
_KAA_TO_LATIN = str.maketrans(_UZ_LETTERS | _KAA_LETTERS | {"ь": "", "ъ": ""})


def _uz_letter_in_context(match: re.Match[str]) -> str:
    """е, ц, ъ, ь and сҳ, which depend on their neighbours (R95 letter table, R95-A 1–6)."""
    word, at, char = match.string, match.start(), match[0]
    before = word[at - 1] if at else ""
    after = word[at + 1] if at + 1 < len(word) else ""
    if char == "е":
        return "ye" if not before or before in _YE_AFTER else "e"
    if char == "ц":
        return "ts" if before and before in _UZ_CYRILLIC_VOWELS and after else "s"
    if char == "ъ":
        return _uz_hard_sign(before, after)
    if char == "ь":
        return "y" if after and after in "оуи" else ""
    return "sʼh"  # сҳ: Is’hoq, as’hob (R95-17)


def _uz_by_rule(word: str) -> str:
    return _UZ_IN_CONTEXT.sub(_uz_letter_in_context, word).translate(_UZ_TO_LATIN)


#: (Cyrillic prefix, its dictionary spelling, length of its rule-made spelling)
_UZ_EXCEPTIONS = tuple(
    (prefix, spelling, len(_uz_by_rule(prefix))) for prefix, spelling in _UZ_EXCEPTION_PREFIXES
)


@lru_cache(maxsize=_SOME_WORDS)
def _uz_cyrillic_to_latin(word: str) -> str:
    """Step 4: Uzbek Cyrillic → Latin: йўл → yoʻl, поезд → poyezd, маъно → maʼno."""
    latin = _uz_by_rule(word)
    for prefix, spelling, replaced in _UZ_EXCEPTIONS:
        if word.startswith(prefix):
            return spelling + latin[replaced:]
    return latin


def _kaa_letter_in_context(match: re.Match[str]) -> str:
    """ь and ъ are not written, except ьи → yi, ьо → yo, ъе → ye (KAA16)."""
    word, at = match.string, match.end()
    after = word[at] if at < len(word) else ""
    if match[0] == "ь":
        return "y" if after and after in "ио" else ""
    return "y" if after == "е" else ""


@lru_cache(maxsize=_SOME_WORDS)
def _kaa_cyrillic_to_latin(word: str) -> str:
    """Step 4: Karakalpak Cyrillic → 2016 Latin: Қарақалпақстан → qaraqalpaqstan, ЫРЫС → ırıs."""
    return _KAA_IN_CONTEXT.sub(_kaa_letter_in_context, word).translate(_KAA_TO_LATIN)


# --- step 5: loose fold -----------------------------------------------------------------------

_LOOSE_FOLD = str.maketrans(
    {
        "ʻ": None, "ʼ": None, "á": "a", "ó": "o", "ú": "u", "ǵ": "g", "ń": "n", "ı": "i",
        "í": "i", "ö": "o", "õ": "o", "ō": "o", "ŭ": "o", "ü": "u", "ğ": "g", "ḡ": "g",
        "ş": "sh", "ç": "ch", "ñ": "ng",
    }
)  # fmt: skip


@lru_cache(maxsize=_MANY_WORDS)
def loose_key(token: str) -> str:
    """Step 5 on one exact term: oʻzbekiston → ozbekiston, respublikasınıń → respublikasinin.

    A Cyrillic term (the exact form of a Russian record) is first transliterated by the Uzbek
    rules, so Latin-typed queries reach it. c, w and x are not folded.
    """
    token = token.lower()
    if _CYRILLIC.search(token):
        token = _uz_cyrillic_to_latin(token)
    key = token.translate(_LOOSE_FOLD)
    return key.replace("ts", "s") if "ts" in key else key


# --- step 6: Uzbek light stemmer --------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


@lru_cache(maxsize=_MANY_WORDS)
def stem_uz(key: str) -> str:
    """Step 6 on a loose key (uzbek_stemmer.py): kitoblarimizdan → kitob, qishlogi → qishlok."""
    return uzbek_stemmer.stem(key)


def _uz_key(exact: str, abbreviation: bool) -> str:
    key = loose_key(exact)
    return key if abbreviation else stem_uz(key)


def _is_abbreviation(token: str, capitals_mean_abbreviation: bool) -> bool:
    """AQSH, BMT, ToshDU: all capitals in mixed-case text, or a capital inside the word.

    In text set wholly in capitals (a title typed in caps) capitals say nothing, so its words
    are stemmed as usual.
    """
    if token.isupper():
        return capitals_mean_abbreviation and len(token) > 1
    rest = token[1:]
    return rest != rest.lower()


# --- step 7: Snowball -------------------------------------------------------------------------

_stemmers = threading.local()


def _snowball(algorithm: str) -> Stemmer.Stemmer:
    """PyStemmer objects keep state, so each thread has its own (the cache is ours)."""
    stemmer = getattr(_stemmers, algorithm, None)
    if stemmer is None:
        stemmer = Stemmer.Stemmer(algorithm, 0)
        setattr(_stemmers, algorithm, stemmer)
    return stemmer


@lru_cache(maxsize=_SOME_WORDS)
def _ru_stem(word: str) -> str:
    """Step 7: a lowercase Russian word with ё → е → its Snowball stem (ёлки, ёлка → елк)."""
    return str(_snowball("russian").stemWord(word))


@lru_cache(maxsize=_SOME_WORDS)
def _en_stem(word: str) -> str:
    """Step 7: English Porter2; the apostrophes of step 2 go back to ' which Snowball knows."""
    return str(_snowball("english").stemWord(word.replace("ʻ", "'").replace("ʼ", "'")))


def _has_letter(token: str) -> bool:
    return not token.isdigit()


# --- index time -------------------------------------------------------------------------------

_Terms = tuple[str, str, str | None, str | None]


def _guess_family(text: str) -> str:
    """Letter heuristics, used only when the record's language is missing."""
    if _KAA_HINT.search(text):
        return "kaa"
    if _UZ_HINT.search(text):
        return "uz"
    return ""


def _cyrillic_terms(lower: str, family: str, abbreviation: bool) -> _Terms:
    if family == "ru":
        exact = _russian_lowercase(lower)
        return exact, loose_key(_uz_cyrillic_to_latin(lower)), _ru_stem(exact), None
    if family == "kaa":
        exact = _kaa_cyrillic_to_latin(lower)
        return exact, loose_key(exact), None, None
    exact = _uz_cyrillic_to_latin(lower)
    russian = None if family == "uz" else _ru_stem(_russian_lowercase(lower))
    return exact, _uz_key(exact, abbreviation), russian, None


def _latin_terms(lower: str, family: str, abbreviation: bool) -> _Terms:
    if family == "kaa":
        return lower, loose_key(lower), None, None
    if family == "uz":
        return lower, _uz_key(lower, abbreviation), None, None
    english = _en_stem(lower) if _has_letter(lower) else None
    if family == "":
        return lower, _uz_key(lower, abbreviation), None, english
    return lower, loose_key(lower), None, english


def _index_terms(token: str, family: str, capitals_mean_abbreviation: bool) -> _Terms:
    """Steps 4–7 for one token: (exact, uzkey, ru or None, en or None)."""
    abbreviation = _is_abbreviation(token, capitals_mean_abbreviation)
    lower = _lowercase(token, family)
    if _CYRILLIC.search(lower):
        return _cyrillic_terms(lower, family, abbreviation)
    return _latin_terms(lower, family, abbreviation)


_ChunkTerms = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=_MANY_WORDS)
def _analyse_chunk(chunk: str, family: str, capitals_mean_abbreviation: bool) -> _ChunkTerms:
    """Steps 2–7 for one whitespace-separated piece of cleaned text."""
    terms = [_index_terms(t, family, capitals_mean_abbreviation) for t in _tokens(chunk)]
    return (
        tuple(exact for exact, _, _, _ in terms),
        tuple(key for _, key, _, _ in terms),
        tuple(ru for _, _, ru, _ in terms if ru is not None),
        tuple(en for _, _, _, en in terms if en is not None),
    )


def analyse(text: str, lang: str = "") -> Analysed:
    """Index terms of one field of a record in language family (or code) `lang`.

    `exact` and `uzkey` have one term per token, in order (phrase queries use the positions of
    `exact`); `ru` and `en` hold stems only for the tokens that have them.
    """
    family = language_family(lang)
    text = _clean(text, family)
    if not family:
        family = _guess_family(text)
    capitals_mean_abbreviation = not text.isupper()
    chunks = text.split()
    if len(chunks) == 1:
        return Analysed(*_analyse_chunk(chunks[0], family, capitals_mean_abbreviation))
    exact: list[str] = []
    uzkey: list[str] = []
    ru: list[str] = []
    en: list[str] = []
    for chunk in chunks:
        chunk_exact, chunk_uzkey, chunk_ru, chunk_en = _analyse_chunk(
            chunk, family, capitals_mean_abbreviation
        )
        exact += chunk_exact
        uzkey += chunk_uzkey
        if chunk_ru:
            ru += chunk_ru
        if chunk_en:
            en += chunk_en
    return Analysed(tuple(exact), tuple(uzkey), tuple(ru), tuple(en))


def exact_terms(text: str, lang: str = "") -> list[str]:
    """The `*_exact` terms of `text`: O‘zbekiston → ["oʻzbekiston"], йўл → ["yoʻl"]."""
    return list(analyse(text, lang).exact)


def fold(text: str) -> str:
    """Unstemmed loose keys, space-joined, for comparing names and for autocomplete.

    "Gʻafur Gʻulom", "G'afur G'ulom" and "Ғафур Ғулом" all fold to "gafur gulom".
    """
    return " ".join(loose_key(term) for term in analyse(text).exact)


# --- query time -------------------------------------------------------------------------------

UZ_STOPWORDS: frozenset[str] = _word_set(
    """
    va bilan uchun ham bu shu u ular bir esa lekin ammo yoki hamda deb edi emas kabi biz siz men
    sen nima qanday qaysi qachon qayerda nega haqida boʻyicha orqali uning ularning oʻz har hech
    endi yana juda eng faqat chunki agar balki yoʻq bor mumkin kerak ekan boʻlgan
    """
)
RU_STOPWORDS: frozenset[str] = _word_set(
    """
    и в во не что он она оно они на я с со как а то все так его ее но да ты к у же вы за
    бы по только мне было вот от меня еще нет о об из ему когда даже ли если уже или ни быть был
    до вас там где есть для мы их чем без под это этот эта эти при про над между через после
    """
)
EN_STOPWORDS: frozenset[str] = _word_set(
    """
    a an the and or of in on at to for with by from as is are was were be been it its this that
    these those not no but if into about over under than then so such what which who whom how
    why when where i you he she we they me him her us them my your his our their do does did
    have has had will would can could should may might there here also only
    """
)
_STOPWORDS = UZ_STOPWORDS | RU_STOPWORDS | EN_STOPWORDS


@lru_cache(maxsize=_SOME_WORDS)
def query_keys(exact_token: str) -> tuple[str, ...]:
    """`*_uzkey` terms to try for one exact query term: its stem, then the n/s expansions.

    -ni may be the accusative or an n-stem plus possessive -i (qonun-i), -si the possessive or an
    s-stem plus -i (asos-i), and the index keeps one reading. So a stem ending in vowel+n/s also
    tries itself without the n/s, and a word ending in vowel+ni/si also tries itself without the
    -i (LANGUAGE.md, query-time expansion). Last comes the unstemmed key: it is never the stem
    of another Uzbek word, and it reaches the unstemmed keys of Karakalpak, Russian and English
    records (qaraqalpaqstandagi).
    """
    loose = loose_key(exact_token)
    stem = stem_uz(loose)
    keys = [stem]
    if len(stem) > 3 and stem[-1] in "ns" and stem[-2] in uzbek_stemmer.VOWELS:
        keys.append(stem[:-1])
    if len(loose) > 3 and loose.endswith(("ni", "si")) and loose[-3] in uzbek_stemmer.VOWELS:
        keys.append(loose[:-1])
    keys.append(loose)
    return tuple(dict.fromkeys(keys))


def _cyrillic_query_forms(lower: str) -> tuple[tuple[str, ...], str, str | None]:
    """(exact forms, Latin form, Russian stem) of a Cyrillic query word of unknown language."""
    karakalpak = bool(_KAA_HINT.search(lower))
    latin = _kaa_cyrillic_to_latin(lower) if karakalpak else _uz_cyrillic_to_latin(lower)
    cyrillic = _russian_lowercase(lower)
    exact = [latin, cyrillic]
    if not karakalpak and "ы" in lower:
        exact.append(_kaa_cyrillic_to_latin(lower))
    clearly_turkic = karakalpak or _UZ_HINT.search(lower)
    return tuple(dict.fromkeys(exact)), latin, None if clearly_turkic else _ru_stem(cyrillic)


def _latin_query_forms(token: str, lower: str) -> tuple[str, ...]:
    """A Karakalpak Í/í in a query also tries ı: RESPUBLIKASÍNÍŃ → respublikasınıń."""
    if "í" in lower and ("Í" in token or _KAA_HINT.search(lower)):
        return (lower, lower.replace("í", "ı"))
    return (lower,)


def _query_token(token: str, capitals_mean_abbreviation: bool) -> QueryToken:
    lower = _lowercase(token, "")
    russian = english = None
    if _CYRILLIC.search(lower):
        exact, latin, russian = _cyrillic_query_forms(lower)
    else:
        exact, latin = _latin_query_forms(token, lower), lower
        english = _en_stem(lower) if _has_letter(lower) else None
    fuzzy_key = loose_key(latin)
    if _is_abbreviation(token, capitals_mean_abbreviation):
        uzkeys: tuple[str, ...] = (fuzzy_key,)
    else:
        uzkeys = query_keys(latin)
    stopword = any(form in _STOPWORDS for form in exact)
    return QueryToken(token, exact, uzkeys, russian, english, fuzzy_key, stopword)


@lru_cache(maxsize=_SOME_WORDS)
def _query_chunk(chunk: str, capitals_mean_abbreviation: bool) -> tuple[QueryToken, ...]:
    return tuple(_query_token(token, capitals_mean_abbreviation) for token in _tokens(chunk))


def analyse_query(text: str) -> list[QueryToken]:
    """Steps 1–5 on what a reader typed; one `QueryToken` per word, in order."""
    text = _clean(text, "")
    capitals_mean_abbreviation = not text.isupper()
    tokens: list[QueryToken] = []
    for chunk in text.split():
        tokens += _query_chunk(chunk, capitals_mean_abbreviation)
    return tokens


# --- sorting ----------------------------------------------------------------------------------

#: The Uzbek Latin alphabet in its own order (R95): the digraph letters come last.
UZBEK_ALPHABET: tuple[str, ...] = (
    *"abdefghijklmnopqrstuvxyz",
    "oʻ",
    "gʻ",
    "sh",
    "ch",
    "ng",
)
_SORT_FOLD = str.maketrans({"ʼ": None, "á": "a", "ó": "o", "ú": "u", "ǵ": "g", "ń": "n", "ı": "i"})
_DIGRAPHS = frozenset(letter for letter in UZBEK_ALPHABET if len(letter) == 2)


def _base26(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 26)
        digits.append(chr(ord("a") + digit))
    return "".join(reversed(digits))


#: The key is spelt in plain a–z, so a database orders it the same under any collation:
#: "a" between words, two letters per alphabet letter (then digit), "z" + five for anything else.
_WORD_BREAK = "a"
_SORT_CODE = {
    unit: _base26(26 + rank, 2) for rank, unit in enumerate((*UZBEK_ALPHABET, *"0123456789"))
}


@lru_cache(maxsize=_SOME_WORDS)
def _sort_word(term: str) -> str:
    """One exact term as collation codes: letters, then digits, then anything else."""
    term = term.translate(_SORT_FOLD)
    codes, at = [], 0
    while at < len(term):
        pair = term[at : at + 2]
        unit = pair if pair in _DIGRAPHS else term[at]
        codes.append(_SORT_CODE.get(unit) or "z" + _base26(ord(unit), 5))
        at += len(unit)
    return "".join(codes)


def uzbek_sort_key(text: str) -> str:
    """A key whose plain `<` gives Uzbek alphabetical order: … x y z oʻ gʻ sh ch ng.

    Case and punctuation are ignored (so are leading quotes: «Oʻtkan kunlar» files under O),
    Cyrillic sorts with its Latin form, and word by word: "Ona tili" before "Onalar".
    """
    return _WORD_BREAK.join(_sort_word(term) for term in analyse(text).exact)
