"""The reader's own account pages and the record page's hold panel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, Record
from kitobxon.circulation import errors, services
from kitobxon.circulation.models import ChargeKind, Hold, HoldState, Loan
from kitobxon.circulation.tests.factories import MONDAY
from kitobxon.core.testing import session_queries

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _sentence(error: type[errors.CirculationError], language: str = "uz") -> str:
    """A refusal's sentence as the page shows it, in the reader's language."""
    with translation.override(language):
        return escape(str(error.default_message))


def test_visitors_are_asked_to_sign_in_to_place_a_hold(
    client: Client, record: Record, copy: Item, django_assert_num_queries: Any
) -> None:
    # The catalogue's own 8 queries (with the record's collections), plus the panel's two: a
    # lendable copy? how many wait? And the digital library's one: does the record have files?
    with django_assert_num_queries(11):
        html = client.get(record.get_absolute_url()).content.decode()
    login = reverse("accounts:login") + "?next=" + record.get_absolute_url()
    assert f'href="{login}"' in html
    assert reverse("circulation:account_place_hold", args=[record.pk]) not in html


def test_a_record_with_no_lendable_copy_shows_no_hold_panel(
    patron_client: Client, record: Record
) -> None:
    html = patron_client.get(record.get_absolute_url()).content.decode()
    assert reverse("circulation:account_place_hold", args=[record.pk]) not in html
    assert 'id="hold-heading"' not in html


def test_a_reader_places_a_hold_from_the_record_page_and_sees_their_place(
    patron: User,
    patron_client: Client,
    make_user: Callable[..., User],
    record: Record,
    copy: Item,
    desk: Branch,
    nukus: Branch,
    django_assert_num_queries: Any,
) -> None:
    services.check_out(copy, make_user(), by=None)
    services.place_hold(record, make_user(), pickup_branch=desk, by=None)
    # The catalogue's 11 (the reader's role is read once per request), plus the panel's 6: a
    # lendable copy, how many wait, the reader's permissions (2, once per request), their hold
    # (none yet) and the pickup branches; and the digital library's one: does the record have
    # files?
    with django_assert_num_queries(17 + session_queries()):
        html = patron_client.get(record.get_absolute_url()).content.decode()
    action = reverse("circulation:account_place_hold", args=[record.pk])
    assert f'action="{action}"' in html
    assert f'<option value="{nukus.pk}">Nukus</option>' in html
    response = patron_client.post(action, {"pickup_branch": nukus.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("circulation:account_holds")
    hold = Hold.objects.get(patron=patron)
    assert hold.pickup_branch == nukus
    html = patron_client.get(record.get_absolute_url()).content.decode()
    assert f'action="{action}"' not in html
    assert reverse("circulation:account_holds") in html


def test_a_refused_hold_is_shown_on_the_form_in_the_readers_language(
    patron: User, patron_client: Client, record: Record, copy: Item, desk: Branch
) -> None:
    services.check_out(copy, patron, by=None)
    action = reverse("circulation:account_place_hold", args=[record.pk])
    response = patron_client.post(action, {"pickup_branch": desk.pk})
    assert response.status_code == 200
    assert _sentence(errors.AlreadyOnLoan) in response.content.decode()
    assert not Hold.objects.exists()


def test_account_pages_need_a_signed_in_reader(client: Client) -> None:
    for name in ("account_loans", "account_holds", "account_fines", "account_history"):
        response = client.get(reverse(f"circulation:{name}"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_the_loans_page_lists_the_readers_own_loans_and_marks_overdue_ones(
    patron: User,
    patron_client: Client,
    make_user: Callable[..., User],
    make_copy: Callable[..., Item],
    make_record: Callable[..., Record],
    django_assert_num_queries: Any,
) -> None:
    overdue = services.check_out(make_copy(), patron, by=None, at=MONDAY)
    fresh = services.check_out(
        make_copy(make_record(title="Mehrobdan chayon", identifiers=[])), patron, by=None
    )
    theirs = services.check_out(
        make_copy(make_record(title="Kecha va kunduz", identifiers=[])), make_user(), by=None
    )
    with django_assert_num_queries(6 + session_queries()):
        response = patron_client.get(reverse("circulation:account_loans"))
    html = response.content.decode()
    assert "Mehrobdan chayon" in html and "Oʻtkan kunlar" in html
    assert "Kecha va kunduz" not in html
    assert [row["loan"].pk for row in response.context["rows"]] == [overdue.pk, fresh.pk]
    assert html.count('class="flag"') == 1
    assert reverse("circulation:account_renew", args=[fresh.pk]) in html
    response = patron_client.post(reverse("circulation:account_renew", args=[theirs.pk]))
    assert response.status_code == 404


def test_a_reader_renews_from_the_loans_page_and_sees_why_a_renewal_is_refused(
    patron: User,
    patron_client: Client,
    make_user: Callable[..., User],
    record: Record,
    copy: Item,
    desk: Branch,
) -> None:
    loan = services.check_out(copy, patron, by=None)
    renew = reverse("circulation:account_renew", args=[loan.pk])
    response = patron_client.post(renew)
    assert response.status_code == 302
    assert Loan.objects.get(pk=loan.pk).renewals == 1
    services.place_hold(record, make_user(), pickup_branch=desk, by=None)
    response = patron_client.post(renew)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="loan-{loan.pk}-error" role="alert">{_sentence(errors.HoldWaiting)}' in html
    assert Loan.objects.get(pk=loan.pk).renewals == 1


def test_the_holds_page_shows_places_and_lets_the_reader_suspend_resume_and_cancel(
    patron: User,
    patron_client: Client,
    make_user: Callable[..., User],
    record: Record,
    copy: Item,
    desk: Branch,
    django_assert_num_queries: Any,
) -> None:
    services.check_out(copy, make_user(), by=None)
    services.place_hold(record, make_user(), pickup_branch=desk, by=None)
    hold = services.place_hold(record, patron, pickup_branch=desk, by=None)
    with django_assert_num_queries(5 + session_queries()):
        response = patron_client.get(reverse("circulation:account_holds"))
    assert response.context["rows"][0]["position"] == 2
    assert "Oʻtkan kunlar" in response.content.decode()

    suspend = reverse("circulation:account_suspend_hold", args=[hold.pk])
    today = timezone.localdate()
    response = patron_client.post(suspend, {f"hold{hold.pk}-until": today.isoformat()})
    assert response.status_code == 200
    assert Hold.objects.get(pk=hold.pk).state == HoldState.WAITING
    until = today + timedelta(days=14)
    response = patron_client.post(suspend, {f"hold{hold.pk}-until": until.isoformat()})
    assert response.status_code == 302
    assert Hold.objects.get(pk=hold.pk).suspended_until == until
    html = patron_client.get(reverse("circulation:account_holds")).content.decode()
    assert reverse("circulation:account_resume_hold", args=[hold.pk]) in html

    patron_client.post(reverse("circulation:account_resume_hold", args=[hold.pk]))
    assert Hold.objects.get(pk=hold.pk).state == HoldState.WAITING
    # Somebody else's hold is not there for this reader.
    stranger = _client(make_user())
    cancel = reverse("circulation:account_cancel_hold", args=[hold.pk])
    assert stranger.post(cancel).status_code == 404
    assert patron_client.post(cancel).status_code == 302
    assert Hold.objects.get(pk=hold.pk).state == HoldState.CANCELLED
    assert patron_client.get(reverse("circulation:account_holds")).context["rows"] == []


def test_the_fines_page_shows_charges_payments_and_the_balance(
    patron: User,
    patron_client: Client,
    make_user: Callable[..., User],
    django_assert_num_queries: Any,
) -> None:
    services.charge(patron.pk, ChargeKind.DAMAGE, Decimal("12000"), by=None, note="3100042")
    services.record_payment(patron, Decimal("2000"), by=None, note="naqd")
    services.charge(make_user().pk, ChargeKind.LOST, Decimal("99000"), by=None)
    with django_assert_num_queries(5 + session_queries()):
        response = patron_client.get(reverse("circulation:account_fines"))
    html = response.content.decode()
    assert response.context["balance"] == Decimal("10000.00")
    assert "3100042" in html and "naqd" in html
    assert [c.kind for c in response.context["charges"]] == ["payment", "damage"]


def test_reading_history_is_private_until_the_reader_opts_in_and_erased_on_opt_out(
    patron: User,
    patron_client: Client,
    copy: Item,
    make_copy: Callable[..., Item],
    make_record: Callable[..., Record],
    desk: Branch,
    django_assert_num_queries: Any,
) -> None:
    page = reverse("circulation:account_history")
    forgotten = services.check_out(copy, patron, by=None)
    services.check_in(copy, by=None, branch=desk)
    assert Loan.objects.get(pk=forgotten.pk).patron_id is None
    response = patron_client.get(page)
    assert response.context["keeps"] is False and response.context["page"] is None

    assert patron_client.post(page, {"keep": "True"}).status_code == 302
    kept_copy = make_copy(make_record(title="Sarob", identifiers=[]))
    kept = services.check_out(kept_copy, patron, by=None)
    services.check_in(kept_copy, by=None, branch=desk)
    with django_assert_num_queries(6 + session_queries()):
        response = patron_client.get(page)
    assert [loan.pk for loan in response.context["page"]] == [kept.pk]
    assert "Sarob" in response.content.decode()

    # Opting out forgets the past, so it needs a confirmation first.
    response = patron_client.post(page, {"keep": "False"})
    assert response.status_code == 200
    assert response.context["form"].errors["confirm"]
    assert Loan.objects.get(pk=kept.pk).patron_id == patron.pk
    assert patron_client.post(page, {"keep": "False", "confirm": "on"}).status_code == 302
    assert Loan.objects.get(pk=kept.pk).patron_id is None
    assert patron_client.get(page).context["keeps"] is False
