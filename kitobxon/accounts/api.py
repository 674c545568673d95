from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.security import HttpBearer, SessionAuth

from kitobxon.accounts import services
from kitobxon.accounts.models import User
from kitobxon.accounts.schemas import MeOut


class AccessTokenAuth(HttpBearer):
    """`Authorization: Bearer kbx_…` with a personal access token from the profile page."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = services.user_for_access_token(token)
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """The browser's session (CSRF-checked on writes by django-ninja)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


AUTH = [AccessTokenAuth(), ActiveSessionAuth()]

router = Router(tags=["accounts"])


@router.get("/me", response=MeOut, auth=AUTH, summary="The signed-in reader")
def me(request: HttpRequest) -> MeOut:
    user: User = request.auth  # type: ignore[attr-defined]
    return MeOut(
        id=user.pk,
        email=user.email,
        card_number=user.card_number,
        full_name=user.full_name,
        segment=user.segment,
        faculty=user.faculty,
        preferred_language=user.preferred_language,
        role=str(user.role),
        card_expires_on=user.card_expires_on,
        date_joined=user.date_joined,
    )
