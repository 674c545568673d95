"""The JSON API: every app's router mounted under /api/, errors in the caller's language."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.throttling import AnonRateThrottle, AuthRateThrottle

from kitobxon.accounts.api import router as accounts_router
from kitobxon.catalogue.api import READ_AUTH
from kitobxon.catalogue.api import router as catalogue_router
from kitobxon.circulation.api import router as circulation_router
from kitobxon.digital.api import router as digital_router
from kitobxon.ledger.api import router as ledger_router
from kitobxon.search.api import router as search_router

api = NinjaAPI(
    title="Kitobxon API",
    version="1",
    description="The library's JSON API. Sign in with the browser session, or send a personal "
    "access token from your profile page as `Authorization: Bearer kbx_…`.",
    urls_namespace="api",
    throttle=[
        AnonRateThrottle(settings.API_THROTTLE_ANONYMOUS),
        AuthRateThrottle(settings.API_THROTTLE_USER),
    ],
)
api.add_router("/", accounts_router)
api.add_router("/", catalogue_router)
api.add_router("/", search_router, auth=READ_AUTH)
api.add_router("/", ledger_router)
api.add_router("/", circulation_router)
api.add_router("/digital/", digital_router)


def _error(request: HttpRequest, status: int, message: str, **extra: object) -> HttpResponse:
    return api.create_response(request, {"detail": message, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("Sign in, or send a valid personal access token."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, _("The request is not valid."), errors=exc.errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))
