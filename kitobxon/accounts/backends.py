from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from kitobxon.accounts.models import User


class EmailOrCardBackend(ModelBackend):
    """Sign in with an e-mail address or the library-card number printed on the card."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        login = (username or kwargs.get("email") or "").strip()
        if not login or password is None:
            return None
        field = "email__iexact" if "@" in login else "card_number"
        user = User.objects.filter(**{field: login}).first()
        if user is None:
            User().set_password(password)  # same time spent as for a real user
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
