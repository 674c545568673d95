"""MARC 21's tag groups and code tables (relators, subject sources, audiences, languages,
record types) shared by the crosswalk in both directions.

The mapping decisions are recorded in docs/adr/0013-marc-crosswalk.md.
"""

from __future__ import annotations

_CONTRIBUTOR_TAGS = frozenset({"100", "110", "111", "700", "710", "711"})
_SUBJECT_TAGS = frozenset({"600", "610", "611", "630", "648", "650", "651", "653", "655"})
_NOTE_TAGS = frozenset({"500", "502", "504"})
_IDENTIFIER_TAGS = frozenset({"020", "022", "024"})
_CLASSIFICATION_TAGS = frozenset({"050", "080", "082", "084", "090"})
_PARALLEL_TITLE_TAGS = frozenset({"242", "246"})
_SERIES_TAGS = frozenset({"440", "490", "830"})
_SERIES_STATEMENT_TAGS = frozenset({"440", "490"})
_PUBLICATION_TAGS = frozenset({"260", "264"})
_SUMMARY_TAGS = frozenset({"520"})
_CONTENTS_TAGS = frozenset({"505"})

# The tag groups the crosswalk reads together, gathered in one pass when a record's fields
# are indexed (marc.source): the mapping asks for each of them once per record.
_READ_TOGETHER = frozenset(
    {
        _CONTRIBUTOR_TAGS,
        _SUBJECT_TAGS,
        _NOTE_TAGS,
        _IDENTIFIER_TAGS,
        _CLASSIFICATION_TAGS,
        _PARALLEL_TITLE_TAGS,
        _SERIES_STATEMENT_TAGS,
        _PUBLICATION_TAGS,
        _SUMMARY_TAGS,
        _CONTENTS_TAGS,
    }
)


_RELATOR_CODES = {
    "aut": "author",
    "cre": "author",
    "edt": "editor",
    "edc": "editor",
    "trl": "translator",
    "ill": "illustrator",
    "ths": "supervisor",
    "dgs": "supervisor",
    "com": "compiler",
    "nrt": "narrator",
    "drt": "director",
    "fmd": "director",
    "ctb": "contributor",
}
_RELATOR_TERMS = {
    term: role
    for role, terms in {
        "author": "author|joint author|writer|автор|muallif",
        "editor": "editor|ed|eds|editor of compilation|редактор|ред|под ред|muharrir",
        "translator": "translator|tr|trans|переводчик|пер|tarjimon",
        "illustrator": "illustrator|ill|illus|художник|худож|ил|rassom",
        "supervisor": "thesis advisor|degree supervisor|научный руководитель|науч рук|ilmiy rahbar",
        "compiler": "compiler|comp|составитель|сост|tuzuvchi",
        "narrator": "narrator|чтец|диктор",
        "director": "director|film director|режиссер|режиссёр|rejissyor",
        "contributor": "contributor",
    }.items()
    for term in terms.split("|")
}
_SUBJECT_SOURCES = {"0": "lcsh", "1": "lcshac", "2": "mesh", "3": "nal", "5": "cash", "6": "rvm"}
_TEXTBOOK_TERMS = frozenset(
    {"textbooks", "textbook", "учебники", "учебник", "учебное пособие", "учебные пособия",
     "darslik", "darsliklar", "o'quv qo'llanma"}
)  # fmt: skip
_AUDIENCES = {
    "a": "children",
    "b": "children",
    "c": "children",
    "j": "children",
    "d": "youth",
    "e": "general",
    "g": "general",
    "f": "academic",
}
_LANGUAGE_CODES = {  # discontinued MARC codes and ISO 639-2/T codes -> ISO 639-2/B
    "scc": "srp", "scr": "hrv", "mol": "rum", "cam": "khm", "esp": "epo", "eth": "gez",
    "far": "fao", "fri": "fry", "gae": "gla", "gag": "glg", "gal": "orm", "gua": "grn",
    "int": "ina", "iri": "gle", "lan": "oci", "lap": "smi", "mla": "mlg", "sao": "smo",
    "sho": "sna", "snh": "sin", "sso": "sot", "swz": "ssw", "tag": "tgl", "taj": "tgk",
    "tar": "tat", "tsw": "tsn", "max": "glv", "deu": "ger", "fra": "fre", "zho": "chi",
    "ces": "cze", "fas": "per", "nld": "dut", "ell": "gre", "sqi": "alb", "hye": "arm",
    "kat": "geo", "mkd": "mac", "mri": "mao", "msa": "may", "mya": "bur", "ron": "rum",
    "slk": "slo", "bod": "tib", "cym": "wel", "eus": "baq", "isl": "ice",
}  # fmt: skip
_NOT_LANGUAGES = frozenset({"und", "zxx", "|||", "###", "???", "n/a"})


_RECORD_TYPES = {  # resource type -> leader/06 (type of record), leader/07 (bibliographic level)
    "book": "am",
    "textbook": "am",
    "dissertation": "am",
    "article": "ab",
    "journal": "as",
    "issue": "ad",
    "audio": "im",
    "video": "gm",
    "map": "em",
    "dataset": "mm",
    "3d_model": "rm",
}
_AUDIENCE_CODES = {"children": "j", "youth": "d", "general": "g", "academic": "f"}
_SUBJECT_INDICATORS = {source: indicator for indicator, source in _SUBJECT_SOURCES.items()}
_ROLE_RELATORS = {
    "author": ("author", "aut"),
    "editor": ("editor", "edt"),
    "translator": ("translator", "trl"),
    "illustrator": ("illustrator", "ill"),
    "supervisor": ("thesis advisor", "ths"),
    "compiler": ("compiler", "com"),
    "narrator": ("narrator", "nrt"),
    "director": ("director", "drt"),
    "contributor": ("contributor", "ctb"),
}
_CLASSIFICATION_TAG = {"udc": "080", "ddc": "082", "lcc": "050", "bbk": "084"}
