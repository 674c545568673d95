"""Harvest sources and copy-cataloguing servers the library refuses to reach (private, loopback,
metadata addresses): the reason is shown where a librarian looks, and nothing is requested.

The test settings allow the loopback the suite's servers listen on; these tests take the
allowance away (kitobxon/core/tests/test_outbound.py tests the guard itself)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Record
from kitobxon.protocols.harvest import services
from kitobxon.protocols.harvest.harvesting import harvest
from kitobxon.protocols.models import HarvestRun, HarvestSource, RunStatus
from kitobxon.protocols.sru import client
from kitobxon.protocols.tests.test_harvest import Repository, dc_page, fast, repository

__all__ = ["repository"]

NOTHING_ALLOWED = override_settings(OUTBOUND_ALLOW=[], OUTBOUND_ALLOW_PRIVATE=False)
ONE_PAGE = dc_page([("oai:x:1", "Sariq devni minib")])


def _client(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _form(base_url: str) -> dict[str, str]:
    return {
        "name": "Ichki",
        "base_url": base_url,
        "metadata_prefix": "oai_dc",
        "schedule": "never",
        "hour": "3",
        "weekday": "0",
        "active": "on",
    }


@pytest.fixture
def local(repository: Callable[..., Repository]) -> Repository:
    """A working OAI-PMH repository on the loopback."""
    return repository(lambda params: (200, {}, ONE_PAGE))


@pytest.mark.parametrize(
    ("address", "kind"),
    [("http://169.254.169.254/oai", "link-local"), ("http://10.0.0.5:8080/oai", "private network")],
)
def test_the_source_form_refuses_a_private_address_when_it_is_saved(
    librarian: User, address: str, kind: str
) -> None:
    with NOTHING_ALLOWED:
        page = _client(librarian).post("/harvest/add/", _form(address))

    assert page.status_code == 200
    assert f"is not a public internet address ({kind})" in page.content.decode()
    assert not HarvestSource.objects.exists()


def test_the_source_form_refuses_the_loopback_and_saves_it_when_allowed(
    librarian: User, local: Repository
) -> None:
    source = services.save_source(HarvestSource(name="Ichki", base_url=local.url()), by=None)
    browser = _client(librarian)

    with NOTHING_ALLOWED:
        refused = browser.post(f"/harvest/{source.pk}/edit/", _form(local.url("/other")))
    allowed = browser.post(f"/harvest/{source.pk}/edit/", _form(local.url("/other")))

    assert refused.status_code == 200
    assert "127.0.0.1 is not a public internet address (loopback)" in refused.content.decode()
    assert allowed.status_code == 302
    source.refresh_from_db()
    assert source.base_url == local.url("/other")
    assert local.requests == []  # saving checks the address, it fetches nothing


def test_a_run_of_a_source_on_the_loopback_fails_with_the_reason_on_its_page(
    librarian: User,
    local: Repository,
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    """A source saved while the loopback was allowed, run after the allowance was taken away."""
    source = services.save_source(HarvestSource(name="Ichki", base_url=local.url()), by=None)
    browser = _client(librarian)

    with NOTHING_ALLOWED, django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        browser.post(f"/harvest/{source.pk}/run/")

    run = HarvestRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "127.0.0.1 is not a public internet address (loopback)" in run.errors
    assert "(loopback)" in browser.get(f"/harvest/{source.pk}/").content.decode()
    assert local.requests == [] and not Record.objects.exists()


def test_the_command_refuses_before_it_creates_a_source(db: None, local: Repository) -> None:
    with NOTHING_ALLOWED, pytest.raises(CommandError, match=r"127\.0\.0\.1 is not a public"):
        call_command("harvest", local.url(), stdout=io.StringIO())
    with pytest.raises(CommandError, match="Only http:// and https://"):
        call_command("harvest", "file:///etc/passwd", stdout=io.StringIO())

    assert not HarvestSource.objects.exists() and local.requests == []
    call_command("harvest", local.url(), stdout=io.StringIO())  # the test settings allow it
    assert Record.objects.count() == 1


def test_a_harvest_redirected_to_a_refused_address_stops_at_once(
    db: None, repository: Callable[..., Repository]
) -> None:
    """127.0.0.1 is allowed and redirects to a working repository on 127.0.0.2, which is not."""
    second = repository(lambda params: (200, {}, ONE_PAGE), host="127.0.0.2")
    first = repository(lambda params: (302, {"Location": second.url()}, b""))

    with override_settings(OUTBOUND_ALLOW=["127.0.0.1"], OUTBOUND_ALLOW_PRIVATE=False):
        report = harvest(first.url(), fetcher=fast())

    assert not report.completed and (report.requests, report.retries) == (1, 0)
    assert report.errors == [
        f"page 1: {first.url()}?verb=ListRecords&metadataPrefix=oai_dc: The server redirected to "
        f"{second.url()}. 127.0.0.2 is not a public internet address (loopback); the library "
        "does not fetch from it. An administrator can allow it with KITOBXON_OUTBOUND_ALLOW."
    ]
    assert second.requests == [] and not Record.objects.exists()

    with override_settings(OUTBOUND_ALLOW=["127.0.0.1", "127.0.0.2"]):
        assert harvest(first.url(), fetcher=fast()).harvested == 1
    assert len(second.requests) == 1


def test_copy_cataloguing_refuses_a_private_server_on_the_page(
    librarian: User, repository: Callable[..., Repository]
) -> None:
    sru = repository(lambda params: (200, {}, b"<never-read/>"))
    browser = _client(librarian)

    with NOTHING_ALLOWED:
        searched = browser.get(
            "/cataloguing/copy/", {"target": sru.url("/sru"), "query": 'dc.title = "kunlar"'}
        )
        typed = browser.get("/cataloguing/copy/", {"target": "http://169.254.169.254/sru"})
        imported = browser.post(
            "/cataloguing/copy/",
            {"target": sru.url("/sru"), "query": 'dc.title = "kunlar"', "position": "1"},
        )

    assert "127.0.0.1 is not a public internet address (loopback)" in searched.content.decode()
    assert "169.254.169.254 is not a public internet address (link-local)" in (
        typed.content.decode()
    )
    assert imported.status_code == 200 and "(loopback)" in imported.content.decode()
    assert sru.requests == [] and not Record.objects.exists()


def test_the_sru_client_refuses_without_asking_the_server(
    repository: Callable[..., Repository],
) -> None:
    sru = repository(lambda params: (200, {}, b"<never-read/>"))

    with NOTHING_ALLOWED, pytest.raises(client.RemoteError, match=r"\(loopback\)"):
        client.search_remote(sru.url("/sru"), 'dc.title = "kunlar"')
    with pytest.raises(client.RemoteError, match="Only http:// and https://"):
        client.search_remote("ftp://127.0.0.1/sru", 'dc.title = "kunlar"')

    assert sru.requests == []
