"""Step 6 of LANGUAGE.md: the light Uzbek suffix stripper, on loose keys (no ʻ, folded).

`analysis.stem_uz` is this module's `stem` with a per-word cache; the rules and the stems they
must not cut live here, apart from the rest of the pipeline.
"""

from __future__ import annotations


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


VOWELS = frozenset("aeiou")

#: Stems the suffix rules must not cut (a stemmer override list, like Lucene's
#: StemmerOverrideFilter). First the LANGUAGE.md seed; then frequent title words whose
#: possessive -i would be read as -ni or -si of a shorter stem (roman-i is not roma-ni,
#: meros-i is not mero-si); then bare words that end in a suffix-like string and would meet
#: another word once cut (modda/mod, sovgʻa/sov, qoʻshni/qoʻsh). Checked against the
#: uzbek-hunspell stems and a sample of real Uzbek sentences; keys are loose (no ʻ).
PROTECTED_STEMS: frozenset[str] = _word_set(
    """
    majlis asos qoida foyda ifoda nafas iltimos libos miqyos qonun zamon inson vatan maydon
    dastur hayvon kelin oltin

    arslon armon ayvon badan bayon boston chayon chempion darmon davron dehqon devon doston dokon
    dovon ehson ekin farmon guliston gumon hijron imkon imon imtihon isyon iymon jahon jarayon
    karvon maskan mazmun mezon nishon okean organ ormon osmon qahramon qalqon qomondon qorgon
    qozgolon quron roman shayton sovun sulton talqin tomon tuman tutun ummon ustun vijdon xirmon
    xiyobon xotin yakun zamin zaytun
    atlas epos globus hadis havas ixlos korpus kosmos meros muassis muhandis mutaxassis qafas
    qasos qiyos qomus nomus rais status tashabbus tovus virus
    aqida banda chingiz dollar kishi mayda modda ogayni parda qasida qoshni sovga tanga xonanda
    ziyoda
    """
)

_SUFFIXES: tuple[tuple[str, int, str], ...] = (
    # suffix, minimum stem length, condition on the stem ("" none, "V" vowel, "C" consonant,
    # or the letter the stem must end in); longest first.
    ("gacha", 3, ""), ("kacha", 3, "k"), ("qacha", 3, "q"), ("ingiz", 3, ""),
    ("dagi", 3, ""), ("ning", 3, ""), ("imiz", 3, ""), ("lari", 3, ""), ("ngiz", 3, "V"),
    ("dan", 3, ""), ("lar", 3, ""), ("miz", 3, "V"), ("ing", 4, "C"),
    ("im", 4, "C"), ("da", 3, ""), ("ni", 3, ""), ("ga", 3, ""), ("ka", 3, "k"),
    ("qa", 3, "q"), ("si", 3, "V"),
    ("i", 3, "C"),
)  # fmt: skip
_MAX_ROUNDS = 12


def _suffix_fits(stem: str, minimum: int, condition: str) -> bool:
    if len(stem) < minimum or VOWELS.isdisjoint(stem):
        return False
    last = stem[-1]
    if condition == "V":
        return last in VOWELS
    if condition == "C":
        return last not in VOWELS
    return not condition or last == condition


_SUFFIXES_BY_LAST_LETTER = {
    last: tuple(rule for rule in _SUFFIXES if rule[0][-1] == last)
    for last in {suffix[-1] for suffix, _, _ in _SUFFIXES}
}


def _strip_one(key: str) -> tuple[str, bool]:
    """One round: (shorter key, stop?) — a protected remainder wins and ends stemming."""
    candidates = [
        key[: -len(suffix)]
        for suffix, minimum, condition in _SUFFIXES_BY_LAST_LETTER.get(key[-1], ())
        if key.endswith(suffix) and _suffix_fits(key[: -len(suffix)], minimum, condition)
    ]
    for stem in candidates:
        if stem in PROTECTED_STEMS:
            return stem, True
    return (candidates[0], False) if candidates else (key, True)


def _soften_final(stem: str) -> str:
    """qishloq ~ qishlogʻi, darslik ~ darsligi (R95-34): a final g or q after ≥2 vowels is k."""
    if stem[-1] in "gq" and sum(char in VOWELS for char in stem) >= 2:
        return stem[:-1] + "k"
    return stem


def stem(key: str) -> str:
    """A loose key's stem: kitoblarimizdan → kitob, qishlogi → qishlok, qonuni → qonun.

    Only case, plural and possessive endings have rules; -lik, -li, -siz, -chi and verb endings
    have none (the final i of -li and -chi goes like any -i after a consonant, in every form
    alike). Stripping repeats, so a base word ending in a suffix-like string stays consistent across
    its forms (qoidalari → qoida → …). Abbreviations are the caller's to skip: they need the
    original capitals.
    """
    if len(key) < 4 or key in PROTECTED_STEMS or not key.isalpha():
        return key
    stem = key
    for _ in range(_MAX_ROUNDS):
        stem, done = _strip_one(stem)
        if done:
            break
    return stem if stem in PROTECTED_STEMS else _soften_final(stem)
