"""Every write to readers and staff goes through here."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kitobxon.accounts import privacy, tasks
from kitobxon.accounts.errors import ConfirmationInvalid, TokenLimitReached, WrongPassword
from kitobxon.accounts.models import PersonalAccessToken, Role, Segment, User
from kitobxon.core import audit

CONFIRMATION_SALT = "kitobxon.accounts.confirm-email"
CONFIRMATION_MAX_AGE = timedelta(days=3)
TOKEN_PREFIX = "kbx_"  # noqa: S105 - a public marker, not a secret
MAX_ACTIVE_TOKENS = 20


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def register(
    *,
    email: str,
    password: str,
    full_name: str,
    segment: str = Segment.STUDENT,
    faculty: str = "",
    preferred_language: str = settings.LANGUAGE_CODE,
    base_url: str,
) -> User | None:
    """Open an account that stays inactive until its e-mail address is confirmed.

    When the address already has an account, nothing is created and its owner is told by
    e-mail instead, so that the form never reveals who is registered.
    """
    email = email.strip().lower()
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            language = existing.preferred_language
            transaction.on_commit(
                lambda: tasks.send_already_registered(existing.pk, base_url, language)
            )
            return None
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name.strip(),
            segment=segment,
            faculty=faculty.strip(),
            preferred_language=preferred_language,
            is_active=False,
        )
        Group.objects.get_or_create(name=Role.PATRON)[0].user_set.add(user)
        audit.record("account.registered", user, by=user)
        token = confirmation_token(user)
        link = _absolute(base_url, reverse("accounts:confirm", args=[token]))
        transaction.on_commit(lambda: tasks.send_confirmation(user.pk, link, preferred_language))
    return user


def confirmation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=CONFIRMATION_SALT)


def confirm_email(token: str) -> User:
    """Activate the account the link was sent for. A link works until it expires."""
    try:
        data = signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.BadSignature as exc:
        raise ConfirmationInvalid() from exc
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data.get("u")).first()
        if user is None or user.email != data.get("e") or user.erased_at is not None:
            raise ConfirmationInvalid()
        if user.email_confirmed_at is None:
            user.email_confirmed_at = timezone.now()
            user.is_active = True
            user.save(update_fields=["email_confirmed_at", "is_active"])
            audit.record("account.confirmed", user, by=user)
    return user


def update_profile(
    user: User, *, by: User, full_name: str, faculty: str, preferred_language: str
) -> User:
    changes: dict[str, Any] = {}
    for field, value in (
        ("full_name", full_name.strip()),
        ("faculty", faculty.strip()),
        ("preferred_language", preferred_language),
    ):
        if getattr(user, field) != value:
            changes[field] = [getattr(user, field), value]
            setattr(user, field, value)
    if changes:
        with transaction.atomic():
            user.save(update_fields=list(changes))
            audit.record("account.profile_changed", user, by=by, changes=changes)
    return user


def set_preferred_language(user: User, language: str) -> None:
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])


def set_role(user: User, role: Role, *, by: User | None) -> User:
    """Make ``user`` a patron, librarian or administrator.

    Librarians and administrators may open the back office; only administrators hold every
    permission.
    """
    with transaction.atomic():
        before = user.role
        groups = {r: Group.objects.get_or_create(name=r)[0] for r in Role}
        user.groups.remove(*groups.values())
        user.groups.add(groups[role])
        user.is_staff = role in (Role.LIBRARIAN, Role.ADMIN)
        user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["is_staff", "is_superuser"])
        audit.record("account.role_changed", user, by=by, changes={"role": [before, role]})
    return user


def create_admin(*, email: str, password: str, full_name: str = "") -> User:
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name or email,
            email_confirmed_at=timezone.now(),
            segment=Segment.GUEST,
        )
        set_role(user, Role.ADMIN, by=None)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_access_token(
    user: User, *, name: str, expires_in_days: int | None = None
) -> tuple[PersonalAccessToken, str]:
    """Create a token and return it with its secret, which is never stored nor shown again."""
    with transaction.atomic():
        active = PersonalAccessToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise TokenLimitReached()
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        token = PersonalAccessToken.objects.create(
            user=user,
            name=name.strip() or _("Token"),
            prefix=secret[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 8],
            digest=_digest(secret),
            expires_at=expires_at,
        )
        audit.record("token.created", token, by=user)
    return token, secret


def revoke_access_token(token: PersonalAccessToken, *, by: User) -> None:
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record("token.revoked", token, by=by)


def user_for_access_token(secret: str) -> User | None:
    """The active user a usable token belongs to, marking the token as used."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        PersonalAccessToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def export_personal_data(user: User) -> dict[str, Any]:
    """Everything Kitobxon holds about ``user``, by section, for the reader to download."""
    return {
        "exported_at": timezone.now().isoformat(),
        "library": settings.LIBRARY_NAME,
        **{section.name: section.export(user) for section in privacy.sections()},
    }


def delete_account(user: User, *, password: str | None, by: User) -> None:
    """Erase the reader's personal data; what other apps keep is anonymised by their sections.

    The account row stays, emptied, so anonymised history still adds up.
    """
    if by.pk == user.pk and (password is None or not user.check_password(password)):
        raise WrongPassword()
    ordered = sorted(privacy.sections(), key=lambda s: s.name == "profile")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        for section in ordered:
            section.erase(locked)
        locked.erased_at = timezone.now()
        locked.save(update_fields=["erased_at"])
        audit.record("account.erased", locked, by=by if by.pk != user.pk else None)
    user.refresh_from_db()
