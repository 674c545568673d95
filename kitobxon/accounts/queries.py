"""Reads, and the one door through which protected account objects are fetched."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from kitobxon.accounts.models import PersonalAccessToken, User

AnyUser = User | AnonymousUser


def is_librarian(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_librarian)


def access_user(viewer: AnyUser, user_id: int) -> User:
    """A reader sees their own account; librarians see every reader's."""
    if not viewer.is_authenticated:
        raise Http404
    if viewer.pk == user_id:
        return viewer
    if not is_librarian(viewer):
        raise Http404
    try:
        return User.objects.get(pk=user_id)
    except User.DoesNotExist as exc:
        raise Http404 from exc


def readable_users(viewer: AnyUser) -> QuerySet[User]:
    """Librarians find every reader whose account was not erased; a reader finds only themselves."""
    if not viewer.is_authenticated:
        return User.objects.none()
    users = User.objects.filter(erased_at__isnull=True)
    # Librarians by their role (read once per request, usually already); anyone else by the
    # permission, which an administrator may grant (its first check costs two queries).
    if is_librarian(viewer) or (viewer.is_active and viewer.has_perm("accounts.view_user")):
        return users
    return users.filter(pk=viewer.pk)


def readable_access_tokens(user: AnyUser) -> QuerySet[PersonalAccessToken]:
    """A reader's own tokens; nobody else's, not even a librarian's view of them."""
    if not user.is_authenticated:
        return PersonalAccessToken.objects.none()
    return PersonalAccessToken.objects.filter(user_id=user.pk)


def access_access_token(user: AnyUser, token_id: int) -> PersonalAccessToken:
    token = readable_access_tokens(user).filter(pk=token_id).first()
    if token is None:
        raise Http404
    return token
