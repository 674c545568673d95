"""E-mail to one reader, in their own language: the shared last step of every app's notices.

An app composes its ``Message`` inside the reader's language (``compose`` is called under
``translation.override``) and names its templates; this sends it, or nothing when the reader is
gone, inactive, without an address, or when there is nothing to say any more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from kitobxon.accounts.models import User


@dataclass(frozen=True)
class Message:
    subject: str
    lines: list[str]
    link_path: str


def email_reader(reader_id: int, compose: Callable[[], Message | None], *, templates: str) -> bool:
    """Send ``compose()``'s message to the reader; ``templates`` is e.g. "digital/email/notice"
    (``.txt`` and ``.html``). False when nothing was sent."""
    reader = User.objects.filter(pk=reader_id, is_active=True).first()
    if reader is None or not reader.email:
        return False
    with translation.override(reader.preferred_language or settings.LANGUAGE_CODE):
        message = compose()
        if message is None:
            return False
        base = settings.SITE_URL
        context = {
            "reader": reader,
            "message": message,
            "link": f"{base}{message.link_path}" if base else "",
            "library_name": settings.LIBRARY_NAME,
            "language": translation.get_language(),
        }
        send_mail(
            f"{message.subject} · {settings.LIBRARY_NAME}",
            render_to_string(f"{templates}.txt", context),
            settings.DEFAULT_FROM_EMAIL,
            [reader.email],
            html_message=render_to_string(f"{templates}.html", context),
        )
    return True
