"""Who is asking the OPDS catalogue: OPDS Authentication 1.0 for reading apps.

Reading apps (Thorium, Palace, KyBook) cannot keep a session; they send credentials with every
request. Accepted:

- ``Authorization: Basic`` with the library card number or e-mail and the password, checked by
  Django's ``authenticate()`` so the sign-in page's lockout (django-axes: failures per login and
  address, ``AXES_FAILURE_LIMIT``, cooled off after ``AXES_COOLOFF_TIME``) counts them too;
- ``Authorization: Bearer kbx_…``, a personal access token from the profile page (the API's
  ``AccessTokenAuth``);
- the browser's session, for reading only: a request that changes something (borrow, return)
  must carry credentials, so a page elsewhere cannot make a signed-in browser borrow (CSRF).

Without usable credentials where a reader is needed, the answer is OPDS Authentication's 401:
``WWW-Authenticate: Basic``, the authentication document as the body, its media type.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from kitobxon.accounts.api import AccessTokenAuth

DOCUMENT_TYPE = "application/opds-authentication+json"
DOCUMENT_REL = "http://opds-spec.org/auth/document"
BASIC = "http://opds-spec.org/auth/basic"
PROBLEM_TYPE = "application/problem+json"
#: Browsers say where a request comes from; apps send no such header.
FOREIGN_SITES = ("cross-site", "same-site")
#: How long a checked Basic login is remembered, so an app browsing a feed page by page does
#: not cost an Argon2 check (tens of milliseconds of CPU, on purpose) per request.
REMEMBER_SECONDS = 300


def document(request: HttpRequest) -> dict[str, Any]:
    """The OPDS Authentication document: how to sign in, and where to get a library card."""
    here = request.build_absolute_uri(reverse("protocols:opds-authentication"))
    return {
        "id": here,
        "title": settings.LIBRARY_NAME,
        "description": _("Sign in with your library card number or e-mail and your password."),
        "links": [
            {
                "rel": "register",
                "href": request.build_absolute_uri(reverse("accounts:register")),
                "type": "text/html",
            },
            {
                "rel": "help",
                "href": request.build_absolute_uri(reverse("accounts:password_reset")),
                "type": "text/html",
                "title": _("Forgot your password?"),
            },
            {"rel": "start", "href": request.build_absolute_uri(reverse("protocols:opds-root"))},
        ],
        "authentication": [
            {
                "type": BASIC,
                "labels": {
                    "login": _("Library card number or e-mail"),
                    "password": _("Password"),
                },
            }
        ],
    }


def challenge(request: HttpRequest, *, invalid_token: bool = False) -> HttpResponse:
    """401 with the authentication document, asking for Basic credentials (or a new token)."""
    body = json.dumps(document(request), ensure_ascii=False)
    response = HttpResponse(body, status=401, content_type=DOCUMENT_TYPE)
    realm = settings.LIBRARY_NAME.replace('"', "'")
    if invalid_token:
        response["WWW-Authenticate"] = f'Bearer realm="{realm}", error="invalid_token"'
    else:
        response["WWW-Authenticate"] = f'Basic realm="{realm}", charset="UTF-8"'
    response["Cache-Control"] = "no-store"
    return response


def problem(status: int, detail: str, *, code: str, title: str = "") -> HttpResponse:
    """An RFC 7807 problem document: ``detail`` is the reader's sentence, ``code`` is stable."""
    body = {
        "type": "about:blank",
        "title": title or _("The request was refused."),
        "status": status,
        "detail": detail,
        "code": code,
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


def _basic(request: HttpRequest, encoded: str) -> Any:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return challenge(request)
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")
    login, colon, password = text.partition(":")
    if not colon or not login.strip():
        return challenge(request)
    remembered = _remembered(text)
    if remembered is not None:
        return remembered
    user = authenticate(request, username=login.strip(), password=password)
    if getattr(request, "axes_locked_out", False):
        # Answer in the app's terms rather than with the sign-in page's HTML lockout page.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        response = problem(
            429,
            _("Too many failed sign-ins. Try again in a quarter of an hour."),
            code="locked-out",
        )
        response["Retry-After"] = str(int(float(settings.AXES_COOLOFF_TIME) * 3600))
        return response
    if user is None:
        return challenge(request)
    cache.set(_memo_key(text), (user.pk, _password_mark(user)), REMEMBER_SECONDS)
    return user


def _memo_key(credentials: str) -> str:
    # Keyed with the secret key: the cache never holds anything a password can be tried against.
    digest = hmac.new(settings.SECRET_KEY.encode(), credentials.encode(), hashlib.sha256)
    return f"opds-basic:{digest.hexdigest()}"


def _password_mark(user: Any) -> str:
    """Changes when the password does, so a new password ends the remembered old one at once."""
    return hashlib.sha256(str(user.password).encode()).hexdigest()[:16]


def _remembered(credentials: str) -> Any:
    """The active user these exact credentials signed in as within ``REMEMBER_SECONDS``."""
    memo = cache.get(_memo_key(credentials))
    if memo is None:
        return None
    user = get_user_model().objects.filter(pk=memo[0], is_active=True).first()
    if user is None or _password_mark(user) != memo[1]:
        return None
    return user


def reader(request: HttpRequest, *, session: bool) -> Any:
    """The user the request speaks for, or the 401/429 to send back.

    Credentials in ``Authorization`` win; without them, the session's user when ``session``
    (which may be anonymous), else an anonymous visitor.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _space, value = header.partition(" ")
    if scheme.lower() == "basic":
        return _basic(request, value)
    if scheme.lower() == "bearer":
        holder = AccessTokenAuth().authenticate(request, value.strip())
        return holder if holder is not None else challenge(request, invalid_token=True)
    if session:
        return request.user
    return AnonymousUser()


def signed_in_reader(request: HttpRequest) -> Any:
    """The reader for a request that changes something: credentials only, never the session.

    Refuses (403) a browser's request sent from another site, whatever it carries: browsers
    replay Basic credentials they remember, as they do cookies.
    """
    if request.headers.get("Sec-Fetch-Site", "") in FOREIGN_SITES:
        return problem(
            403, _("Borrowing from another site is not allowed."), code="cross-site-request"
        )
    user = reader(request, session=False)
    if isinstance(user, HttpResponse):
        return user
    if not getattr(user, "is_authenticated", False):
        return challenge(request)
    request.user = user
    return user
