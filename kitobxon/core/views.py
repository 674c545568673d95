from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kitobxon.core import health, metrics

LOOPBACK = {"127.0.0.1", "::1"}


def _is_operator(request: HttpRequest) -> bool:
    return request.META.get("REMOTE_ADDR") in LOOPBACK or request.user.is_staff


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when database, job queue and search index answer; 503 naming what failed."""
    results = health.run_checks()
    failed = {name: reason for name, reason in results.items() if reason}
    # Error texts can name hosts and paths: only the machine itself and staff read them.
    detailed = _is_operator(request)
    body = {
        "status": "ok" if not failed else "unavailable",
        "checks": {
            name: "ok" if not reason else (reason if detailed else "failed")
            for name, reason in results.items()
        },
    }
    return JsonResponse(body, status=503 if failed else 200)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus scrapes from the machine itself; from elsewhere only staff may look."""
    if not _is_operator(request):
        raise PermissionDenied
    return metrics.render(health.queue_depth())


def _error(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(request, template, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request's context processors: the database may be what failed.
    from django.template import loader

    template = loader.get_template("500.html")
    return HttpResponse(template.render({"library_name": ""}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
