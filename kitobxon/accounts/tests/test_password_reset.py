from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from kitobxon.accounts.models import User


@pytest.mark.django_db
def test_a_reader_sets_a_new_password_from_the_emailed_link(client: Client, patron: User) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": patron.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", str(mail.outbox[0].body))
    assert link, mail.outbox[0].body

    form_page = client.get(link.group(1), follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "yangi-parol-2026!", "new_password2": "yangi-parol-2026!"},
    )
    assert done.status_code == 302
    patron.refresh_from_db()
    assert patron.check_password("yangi-parol-2026!")
    reused = client.get(link.group(1), follow=True)
    assert not reused.context["validlink"]


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: Client) -> None:
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []
