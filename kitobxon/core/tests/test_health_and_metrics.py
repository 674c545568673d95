from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_every_part_healthy(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "queue": "ok", "search": "ok"},
    }


@pytest.mark.django_db
def test_healthz_names_the_part_that_failed(client: Client, settings, tmp_path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the index should be")
    settings.SEARCH_INDEX_DIR = blocker / "index"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["search"].startswith("search index unreachable")


@pytest.mark.django_db
def test_metrics_count_requests_by_route_and_show_the_queue(client: Client) -> None:
    client.get("/")
    client.get("/accounts/login/")
    text = client.get("/metrics").content.decode()
    assert 'kitobxon_http_requests_total{method="GET",route="/",status="200"}' in text
    assert 'route="/accounts/login/"' in text
    assert "kitobxon_http_request_duration_seconds_bucket" in text
    assert "kitobxon_job_queue_depth" in text


@pytest.mark.django_db
def test_metrics_are_private_to_the_machine_and_staff(client: Client, librarian) -> None:
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    client.force_login(librarian)
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200


@pytest.mark.django_db
def test_healthz_hides_failure_details_from_the_public(client: Client, settings, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.SEARCH_INDEX_DIR = blocker / "index"
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 503
    assert response.json()["checks"]["search"] == "failed"
