from __future__ import annotations

from django import template

from kitobxon.catalogue.languages import language_name

register = template.Library()


@register.filter
def language_names(codes: list[str]) -> str:
    """['uzb', 'rus'] -> 'Uzbek, Russian' in the reader's language."""
    return ", ".join(language_name(code) for code in codes)
