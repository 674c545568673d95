"""The librarians' harvest page and the hourly schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.http import Http404
from django.test import Client
from django.utils import timezone

from kitobxon.accounts.models import Role, User
from kitobxon.catalogue.models import Record
from kitobxon.protocols.harvest import services
from kitobxon.protocols.harvest.queries import access_harvest_source, readable_harvest_sources
from kitobxon.protocols.models import HarvestRun, HarvestSource, RunStatus, Schedule
from kitobxon.protocols.tests.test_harvest import Repository, dc_page, repository  # noqa: F401


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_librarians_reach_the_harvest_pages(make_user: Callable[..., User]) -> None:
    source = services.save_source(
        HarvestSource(name="Partner", base_url="http://partner.example.org/oai"), by=None
    )
    patron = make_user(Role.PATRON)
    for url in (
        "/harvest/",
        "/harvest/add/",
        f"/harvest/{source.pk}/",
        f"/harvest/{source.pk}/edit/",
    ):
        assert _client(patron).get(url).status_code == 404
        assert Client().get(url).status_code == 404
    assert _client(patron).post(f"/harvest/{source.pk}/run/").status_code == 404
    assert list(readable_harvest_sources(patron)) == []
    with pytest.raises(Http404):
        access_harvest_source(patron, source.pk)
    assert HarvestRun.objects.count() == 0


def test_a_librarian_adds_a_source_and_sees_it_listed(librarian: User) -> None:
    client = _client(librarian)
    response = client.post(
        "/harvest/add/",
        {
            "name": "Samarqand universiteti",
            "base_url": "https://lib.samdu.uz/oai",
            "metadata_prefix": "marc21",
            "set_spec": "books",
            "schedule": "weekly",
            "hour": "3",
            "weekday": "6",
            "active": "on",
        },
    )
    source = HarvestSource.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/harvest/{source.pk}/"
    assert (source.metadata_prefix, source.schedule, source.hour, source.weekday) == (
        "marc21",
        "weekly",
        3,
        6,
    )
    listing = client.get("/harvest/")
    assert listing.status_code == 200 and "Samarqand universiteti" in listing.content.decode()


def test_a_librarian_runs_a_source_now_and_sees_the_run(
    librarian: User,
    repository: Callable[..., Repository],  # noqa: F811
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    server = repository(lambda params: (200, {}, dc_page([("oai:x:1", "Sariq devni minib")])))
    source = services.save_source(HarvestSource(name="Partner", base_url=server.url()), by=None)
    client = _client(librarian)

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        response = client.post(f"/harvest/{source.pk}/run/")  # jobs run at once in tests

    assert response.status_code == 302
    run = HarvestRun.objects.get()
    assert (run.status, run.harvested, run.started_by) == (RunStatus.DONE, 1, librarian)
    assert Record.objects.get().title == "Sariq devni minib"
    page = client.get(f"/harvest/{source.pk}/").content.decode()
    assert server.url() in page and "2024-05-01T10:00:00Z" in page


def test_sources_are_due_in_their_hour_once_per_period(db: None) -> None:
    source = services.save_source(
        HarvestSource(
            name="P",
            base_url="http://p.example.org/oai",
            schedule=Schedule.WEEKLY,
            hour=2,
            weekday=0,
        ),
        by=None,
    )
    monday_2am = timezone.make_aware(datetime(2024, 4, 29, 2, 5))
    assert services.is_due(source, monday_2am)
    assert not services.is_due(source, monday_2am + timedelta(hours=1))
    assert not services.is_due(source, monday_2am + timedelta(days=1))
    source.last_run_at = monday_2am - timedelta(minutes=3)
    assert not services.is_due(source, monday_2am)
    source.last_run_at = None
    source.active = False
    assert not services.is_due(source, monday_2am)
    source.active, source.schedule = True, Schedule.DAILY
    assert services.is_due(source, monday_2am + timedelta(days=1))
    assert services.due_sources(monday_2am) == [source]
    assert services.due_sources(monday_2am + timedelta(days=1)) == []  # the row is weekly


def test_the_hourly_task_harvests_due_sources(
    db: None,
    repository: Callable[..., Repository],  # noqa: F811
) -> None:
    from kitobxon.protocols import tasks

    server = repository(lambda params: (200, {}, dc_page([("oai:x:7", "Ikki eshik orasi")])))
    hour = timezone.localtime(timezone.now()).hour
    services.save_source(
        HarvestSource(name="Due", base_url=server.url(), schedule=Schedule.DAILY, hour=hour),
        by=None,
    )
    services.save_source(
        HarvestSource(
            name="Not due",
            base_url=server.url() + "2",
            schedule=Schedule.DAILY,
            hour=(hour + 1) % 24,
        ),
        by=None,
    )

    assert tasks.harvest_due_sources.call_local() == 1
    assert Record.objects.get().title == "Ikki eshik orasi"
    assert tasks.harvest_due_sources.call_local() == 0  # ran this hour already
