"""Mail to readers, sent by the job worker in the reader's own language."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from kitobxon.accounts.models import User


def _send(user: User, subject: str, template: str, context: dict[str, object]) -> None:
    if not user.email:
        return
    body = render_to_string(template, {"user": user, **context})
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@db_task(retries=3, retry_delay=60)
def send_confirmation(user_id: int, link: str, language: str) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    with translation.override(language):
        _send(
            user,
            _("Confirm your e-mail address for %(library)s") % {"library": settings.LIBRARY_NAME},
            "accounts/email/confirm.txt",
            {"link": link, "library_name": settings.LIBRARY_NAME},
        )


@db_task(retries=3, retry_delay=60)
def send_already_registered(user_id: int, base_url: str, language: str) -> None:
    from django.urls import reverse

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    with translation.override(language):
        _send(
            user,
            _("You already have an account at %(library)s") % {"library": settings.LIBRARY_NAME},
            "accounts/email/already_registered.txt",
            {
                "login_link": base_url.rstrip("/") + reverse("accounts:login"),
                "reset_link": base_url.rstrip("/") + reverse("accounts:password_reset"),
                "library_name": settings.LIBRARY_NAME,
            },
        )
