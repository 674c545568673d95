"""Names of the languages records are written in, for display (ISO 639-2/B codes)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NAMES = {
    "uzb": _("Uzbek"),
    "kaa": _("Karakalpak"),
    "rus": _("Russian"),
    "eng": _("English"),
    "kaz": _("Kazakh"),
    "kir": _("Kyrgyz"),
    "tgk": _("Tajik"),
    "tuk": _("Turkmen"),
    "tur": _("Turkish"),
    "per": _("Persian"),
    "ara": _("Arabic"),
    "chg": _("Chagatai"),
    "ger": _("German"),
    "fre": _("French"),
    "spa": _("Spanish"),
    "chi": _("Chinese"),
    "jpn": _("Japanese"),
    "kor": _("Korean"),
    "lat": _("Latin"),
    "ita": _("Italian"),
}


def language_name(code: str) -> str:
    name = NAMES.get(code)
    return str(name) if name is not None else code
