from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Segment(models.TextChoices):
    """Reader segments: loan rules, limits and recommendations differ by segment."""

    PUPIL = "pupil", _("School pupil")
    STUDENT = "student", _("Student")
    RESEARCHER = "researcher", _("Researcher")
    TEACHER = "teacher", _("Teacher")
    IT_YOUTH = "it_youth", _("IT youth")
    GUEST = "guest", _("Guest")


class Role(models.TextChoices):
    PATRON = "patron", _("Patron")
    LIBRARIAN = "librarian", _("Librarian")
    ADMIN = "admin", _("Administrator")


def luhn_check_digit(digits: str) -> str:
    """The mod-10 check digit barcode scanners and library systems use for card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def new_card_number() -> str:
    """A fresh 12-digit library-card barcode: prefix, random body, Luhn check digit."""
    prefix = settings.CARD_NUMBER_PREFIX
    body = prefix + "".join(secrets.choice("0123456789") for _ in range(11 - len(prefix)))
    return body + luhn_check_digit(body)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str | None, password: str | None = None, **fields: Any) -> User:
        email = self.normalize_email(email).lower() if email else None
        fields.setdefault("card_number", new_card_number())
        user = self.model(email=email, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, is_active=True)
        fields.setdefault("full_name", email)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A reader or a member of staff. Signs in with e-mail or library-card number."""

    email = models.EmailField(_("e-mail"), unique=True, null=True, blank=True)
    card_number = models.CharField(
        _("library card number"),
        max_length=32,
        unique=True,
        help_text=_("The barcode printed on the library card."),
    )
    full_name = models.CharField(_("full name"), max_length=200)
    segment = models.CharField(
        _("reader segment"), max_length=16, choices=Segment.choices, default=Segment.STUDENT
    )
    faculty = models.CharField(_("faculty or school"), max_length=200, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    card_expires_on = models.DateField(_("card expires on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("May open the back office.")
    )
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed"), null=True, blank=True)
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.card_number

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.card_number

    @property
    def role(self) -> Role:
        """Patron, librarian or administrator, read from the groups once per instance.

        A request's user is asked many times (every access query); changing the groups
        through this user (``set_role``, erasure) forgets it (``forget_role``)."""
        known = self.__dict__.get("_role")
        if known is not None and known[0] == self.is_superuser:
            return known[1]
        role = self._role_from_groups()
        self.__dict__["_role"] = (self.is_superuser, role)
        return role

    def _role_from_groups(self) -> Role:
        if self.is_superuser:
            return Role.ADMIN
        names = {group.name for group in self.groups.all()}
        if Role.ADMIN in names:
            return Role.ADMIN
        if Role.LIBRARIAN in names:
            return Role.LIBRARIAN
        return Role.PATRON

    def forget_role(self) -> None:
        """Forget the role and Django's permission caches on this instance."""
        for name in ("_role", "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
            self.__dict__.pop(name, None)

    @property
    def is_librarian(self) -> bool:
        return self.role in (Role.LIBRARIAN, Role.ADMIN)


class PersonalAccessToken(models.Model):
    """A secret a reader gives an app or script to call the API as themselves.

    Only a SHA-256 digest is stored; the token is shown once, when created.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="access_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
