from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language, get_language_info

# BCP 47 tags for the lang attribute (screen readers and fonts rely on the script subtag).
HTML_LANG = {"uz": "uz-Latn", "uz-cyrl": "uz-Cyrl", "kaa": "kaa-Latn", "ru": "ru", "en": "en"}


def site(request: HttpRequest) -> dict[str, object]:
    """What every page needs: the library's name and the interface languages."""
    return {
        "library_name": settings.LIBRARY_NAME,
        "html_lang": HTML_LANG.get(get_language() or "", "uz-Latn"),
        "ui_languages": [
            {"code": code, "name_local": get_language_info(code)["name_local"]}
            for code, _name in settings.LANGUAGES
        ],
    }
