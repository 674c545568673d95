"""Prometheus metrics: requests by route and their latency, and the job queue's depth.

Under gunicorn with several workers each process counts on its own; ``kitobxon serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` so that ``/metrics`` adds the workers' counts together.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter(
    "kitobxon_http_requests_total",
    "HTTP requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "kitobxon_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _route(request: HttpRequest) -> str:
    """The URL pattern that answered, never the raw path (which would explode the label set)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return "/" + match.route


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
        REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        return response


def render(queue_depth: int | None) -> HttpResponse:
    """The metrics page in Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    depth = Gauge("kitobxon_job_queue_depth", "Jobs waiting in the queue.", registry=extra)
    depth.set(queue_depth if queue_depth is not None else float("nan"))
    body += generate_latest(extra)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
