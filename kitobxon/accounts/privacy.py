"""A reader's personal data: everything held about them, to download or to erase.

Each app that keeps personal data registers a section here (in its AppConfig.ready):
what to export and how to erase or anonymise it. Accounts registers its own sections below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kitobxon.accounts.models import PersonalAccessToken, User


@dataclass(frozen=True)
class Section:
    name: str
    export: Callable[[User], Any]
    erase: Callable[[User], None]


_sections: dict[str, Section] = {}


def register(section: Section) -> None:
    _sections[section.name] = section


def sections() -> list[Section]:
    return list(_sections.values())


def _export_profile(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "card_number": user.card_number,
        "full_name": user.full_name,
        "segment": user.segment,
        "faculty": user.faculty,
        "preferred_language": user.preferred_language,
        "role": str(user.role),
        "card_expires_on": user.card_expires_on.isoformat() if user.card_expires_on else None,
        "date_joined": user.date_joined.isoformat(),
        "email_confirmed_at": (
            user.email_confirmed_at.isoformat() if user.email_confirmed_at else None
        ),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }


def _erase_profile(user: User) -> None:
    """Keep the row (history points at it), drop everything that names the person."""
    user.email = None
    user.full_name = ""
    user.faculty = ""
    user.card_number = f"erased-{user.pk}"
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def _export_tokens(user: User) -> list[dict[str, Any]]:
    return [
        {
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        }
        for token in PersonalAccessToken.objects.filter(user=user)
    ]


def _erase_tokens(user: User) -> None:
    PersonalAccessToken.objects.filter(user=user).delete()


def _export_login_attempts(user: User) -> list[dict[str, Any]]:
    from axes.models import AccessLog

    logins = {user.email, user.card_number} - {None}
    return [
        {"at": log.attempt_time.isoformat(), "ip_address": log.ip_address}
        for log in AccessLog.objects.filter(username__in=logins).order_by("-attempt_time")[:200]
    ]


def _erase_login_attempts(user: User) -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    logins = {user.email, user.card_number} - {None}
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=logins).delete()


# Erasure runs in this order: the profile last, since the others look up its e-mail.
register(Section("login_history", _export_login_attempts, _erase_login_attempts))
register(Section("access_tokens", _export_tokens, _erase_tokens))
register(Section("profile", _export_profile, _erase_profile))
