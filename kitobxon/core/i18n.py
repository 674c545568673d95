"""Choosing the interface language of a request.

Pages speak Uzbek unless the reader chose otherwise: the language switch (a cookie) wins,
then the signed-in reader's preferred language. Browsers in Uzbekistan often announce
Russian or English, so a page ignores Accept-Language; the JSON API and the other addresses
for tools (``settings.ACCEPT_LANGUAGE_PATHS``) honour it, because there the header is the
caller's deliberate choice.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import trans_real

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
# Tags whose base language alone would pick the wrong script; "ru-RU", "en-GB" reduce to the base.
ALIASES = {
    "uz-latn": "uz",
    "uz-latn-uz": "uz",
    "uz-uz": "uz",
    "uz-cyrl-uz": "uz-cyrl",
    "kaa-latn": "kaa",
    "kaa-uz": "kaa",
}


def supported(code: str | None) -> str | None:
    """Return the supported language code matching ``code`` (case-insensitive), or None."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    if code in LANGUAGE_CODES:
        return code
    if code in ALIASES:
        return ALIASES[code]
    base = code.split("-")[0]
    return base if base in LANGUAGE_CODES else None


def in_language(texts: dict[str, str], language: str, fallback: str) -> str:
    """``texts`` (a label or name per language code) in ``language``, its base language
    ("uz" for "uz-cyrl"), else ``fallback``."""
    return str(texts.get(language) or texts.get(language.split("-")[0]) or fallback)


def language_for(request: HttpRequest) -> str:
    """The language this request should be answered in."""
    chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    user = getattr(request, "user", None)
    preferred = getattr(user, "preferred_language", "") if user is not None else ""
    if preferred and (chosen := supported(preferred)):
        return chosen
    if request.path.startswith(tuple(settings.ACCEPT_LANGUAGE_PATHS)):
        for code, _q in trans_real.parse_accept_lang_header(
            request.headers.get("Accept-Language", "")
        ):
            if chosen := supported(code):
                return chosen
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    """Activate the request's language for the whole request, errors included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
