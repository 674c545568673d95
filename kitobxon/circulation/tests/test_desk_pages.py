"""The staff pages of the lending desk: check-out and check-in, readers, copies, work lists,
the rules matrix and the calendar. Librarians only; everyone else gets a 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, ItemStatus, LoanType, Record
from kitobxon.circulation import queries, services
from kitobxon.circulation.models import (
    Block,
    Charge,
    ChargeKind,
    ClosureDay,
    HoldState,
    Loan,
    LoanRule,
    LoanState,
    OpeningHours,
)
from kitobxon.core.testing import session_queries

pytestmark = pytest.mark.django_db

PAGES: list[tuple[str, list[object]]] = [
    ("circulation:desk", []),
    ("circulation:desk_check_in", []),
    ("circulation:desk_readers", []),
    ("circulation:desk_overdue", []),
    ("circulation:desk_pick_list", []),
    ("circulation:desk_transit", []),
    ("circulation:desk_rules", []),
    ("circulation:desk_rule_new", []),
    ("circulation:desk_calendar", []),
]


@pytest.fixture
def staff(librarian: User) -> Client:
    client = Client()
    client.force_login(librarian)
    client.cookies["kitobxon_language"] = "en"  # the sentences below are the English ones
    return client


def scan(client: Client, code: str, *, checking_in: bool = False, htmx: bool = False) -> str:
    """Post one scan to the desk and return the page the librarian then sees."""
    url = reverse("circulation:desk_check_in" if checking_in else "circulation:desk")
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(url, {"code": code}, headers=headers)
    if htmx:
        assert response.status_code == 200
        return response.content.decode()
    assert response.status_code == 302 and response["Location"] == url
    return client.get(url).content.decode()


def results(client: Client, key: str = "circulation.desk_lent") -> list[dict[str, object]]:
    return list(client.session.get(key, []))


# --- Who may open the desk -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_the_desk_pages_are_a_404_for_readers_and_visitors(
    name: str, args: list[object], patron_client: Client, client: Client
) -> None:
    url = reverse(name, args=args)
    assert patron_client.get(url).status_code == 404
    assert client.get(url).status_code == 404


def test_the_object_pages_and_actions_are_a_404_for_readers(
    patron_client: Client, patron: User, copy: Item, librarian: User
) -> None:
    loan = services.check_out(copy, patron, by=librarian)
    assert (
        patron_client.get(reverse("circulation:desk_reader", args=[patron.pk])).status_code == 404
    )
    assert (
        patron_client.get(reverse("circulation:desk_item", args=[copy.barcode])).status_code == 404
    )
    for name, arg in [
        ("circulation:desk_renew", loan.pk),
        ("circulation:desk_lost", loan.pk),
        ("circulation:desk_payment", patron.pk),
        ("circulation:desk_block", patron.pk),
    ]:
        assert patron_client.post(reverse(name, args=[arg])).status_code == 404
    assert (
        patron_client.post(reverse("circulation:desk"), {"code": copy.barcode}).status_code == 404
    )
    loan.refresh_from_db()
    assert loan.state == LoanState.ACTIVE and loan.renewals == 0


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_every_desk_page_opens_for_a_librarian(
    name: str, args: list[object], staff: Client, desk: Branch
) -> None:
    response = staff.get(reverse(name, args=args))
    assert response.status_code == 200
    assert 'href="/desk/"' in response.content.decode()  # the header's Desk link


# --- Check-out -----------------------------------------------------------------------------


def test_a_librarian_scans_a_card_then_lends_two_copies(
    staff: Client, patron: User, make_copy: Callable[..., Item], librarian: User
) -> None:
    first, second = make_copy(), make_copy()
    page = scan(staff, patron.card_number)
    assert patron.full_name in page and "Scan the barcode of a copy to lend" in page
    scan(staff, first.barcode)
    page = scan(staff, second.barcode)
    loans = Loan.objects.filter(patron=patron, state=LoanState.ACTIVE)
    assert {loan.item_id for loan in loans} == {first.pk, second.pk}
    due = timezone.localtime(loans[0].due_at).strftime("%m/%d/%Y")
    assert page.count("Lent, due") == 2 and f"Lent, due {due}." in page
    assert [r["barcode"] for r in results(staff)] == [second.barcode, first.barcode]
    assert loans[0].branch.code == "toshkent"


def test_the_desk_needs_the_csrf_token(patron: User, librarian: User, copy: Item) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(librarian)
    client.get(reverse("circulation:desk"))
    assert client.post(reverse("circulation:desk"), {"code": patron.card_number}).status_code == 403
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("circulation:desk"), {"code": patron.card_number, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    client.post(reverse("circulation:desk"), {"code": copy.barcode, "csrfmiddlewaretoken": token})
    assert Loan.objects.get(item=copy).patron == patron


def test_htmx_scans_swap_only_the_work_area(staff: Client, patron: User, copy: Item) -> None:
    page = scan(staff, patron.card_number, htmx=True)
    assert page.startswith('<div id="desk-workspace"') and "<html" not in page
    page = scan(staff, copy.barcode, htmx=True)
    assert "Lent, due" in page and copy.barcode in page
    assert "autofocus" in page  # the scan field takes the focus again


@pytest.mark.parametrize(
    ("setup", "sentence"),
    [
        ("reference", "This copy is for use in the library only and is not for loan."),
        ("blocked", "Lost two books"),
        ("expired", "The library card has expired. Renew it at the desk."),
        ("limit", "The reader already has 1 items on loan, the most allowed."),
        ("held", "This copy is being kept for another reader who placed a hold."),
        ("unknown", "No copy has the barcode 000."),
    ],
)
def test_a_refused_check_out_shows_the_reason_as_a_sentence(
    setup: str,
    sentence: str,
    staff: Client,
    patron: User,
    make_user: Callable[..., User],
    make_copy: Callable[..., Item],
    librarian: User,
    desk: Branch,
) -> None:
    code = make_copy(loan_type=LoanType.REFERENCE if setup == "reference" else LoanType.STANDARD)
    barcode = code.barcode
    if setup == "blocked":
        services.add_block(patron, reason="Lost two books", by=librarian)
    elif setup == "expired":
        User.objects.filter(pk=patron.pk).update(
            card_expires_on=timezone.localdate() - timedelta(days=1)
        )
    elif setup == "limit":
        LoanRule.objects.create(segment="student", loan_type="standard", branch=desk, max_items=1)
        services.check_out(make_copy(), patron, by=librarian)
    elif setup == "held":
        other = make_user()
        services.place_hold(code.record, other, pickup_branch=desk, by=other)
        services.check_in(code, by=librarian, branch=desk)  # set aside for the other reader
    elif setup == "unknown":
        barcode = "000"
    scan(staff, patron.card_number)
    page = scan(staff, barcode)
    assert sentence in page
    assert results(staff)[0]["ok"] is False
    assert not Loan.objects.filter(patron=patron, item=code).exists()


def test_the_reader_panel_shows_blocks_holds_ready_and_balance(
    staff: Client, patron: User, make_copy: Callable[..., Item], librarian: User, desk: Branch
) -> None:
    wanted = make_copy()
    services.place_hold(wanted.record, patron, pickup_branch=desk, by=patron)
    services.check_in(wanted, by=librarian, branch=desk)
    with_fine = make_copy()
    services.check_out(with_fine, patron, by=librarian, at=timezone.now() - timedelta(days=20))
    services.check_in(with_fine, by=librarian, branch=desk)
    services.add_block(patron, reason="Ask about the damaged atlas", by=librarian)
    page = scan(staff, patron.card_number)
    assert "Ask about the damaged atlas" in page
    assert "Ready for them on the hold shelf" in page and wanted.record.title in page
    assert f"{int(queries.balance(patron)):,} so'm" in page


def test_scanning_another_card_switches_reader_and_done_clears_the_desk(
    staff: Client, patron: User, make_user: Callable[..., User]
) -> None:
    other = make_user()
    scan(staff, patron.card_number)
    page = scan(staff, other.card_number)
    assert other.full_name in page and patron.full_name not in page
    staff.post(reverse("circulation:desk_done"))
    page = staff.get(reverse("circulation:desk")).content.decode()
    assert "Scan the reader's library card" in page and other.full_name not in page
    assert "No reader has the library card 123." in scan(staff, "123")


def test_the_desk_page_makes_a_fixed_number_of_queries(
    staff: Client,
    patron: User,
    make_copy: Callable[..., Item],
    librarian: User,
    django_assert_num_queries: Callable[..., object],
) -> None:
    for _n in range(5):
        services.check_out(make_copy(), patron, by=librarian)
    scan(staff, patron.card_number)
    with django_assert_num_queries(10 + session_queries()):  # type: ignore[attr-defined]
        response = staff.get(reverse("circulation:desk"))
    assert response.content.decode().count("desk-barcode") == 5


def test_the_desk_branch_is_remembered_for_the_session(
    staff: Client, patron: User, copy: Item, desk: Branch, nukus: Branch
) -> None:
    page = staff.get(reverse("circulation:desk")).content.decode()
    assert f'<option value="{nukus.pk}" selected>' in page  # the first branch by name
    response = staff.post(
        reverse("circulation:desk_set_branch"), {"branch": desk.pk, "next": "/desk/check-in/"}
    )
    assert response["Location"] == "/desk/check-in/"
    scan(staff, patron.card_number)
    scan(staff, copy.barcode)
    assert Loan.objects.get(item=copy).branch == desk


# --- Check-in ------------------------------------------------------------------------------


def test_check_in_says_where_each_copy_goes(
    staff: Client,
    patron: User,
    make_user: Callable[..., User],
    make_copy: Callable[..., Item],
    librarian: User,
    desk: Branch,
    nukus: Branch,
) -> None:
    staff.post(reverse("circulation:desk_set_branch"), {"branch": desk.pk})
    wanted = _other_record()
    plain, held, visiting, late = make_copy(), make_copy(wanted), make_copy(at="nukus"), make_copy()
    for item in (plain, held, visiting):
        services.check_out(item, patron, by=librarian)
    services.check_out(late, patron, by=librarian, at=timezone.now() - timedelta(days=20))
    waiting = make_user()
    services.place_hold(wanted, waiting, pickup_branch=desk, by=waiting)

    assert "Back to the shelf." in scan(staff, plain.barcode, checking_in=True)
    page = scan(staff, held.barcode, checking_in=True)
    assert f"To the hold shelf for {waiting.full_name} (card {waiting.card_number})" in page
    assert "In transit to Nukus, its home branch." in scan(
        staff, visiting.barcode, checking_in=True
    )
    assert "Overdue fine charged:" in scan(staff, late.barcode, checking_in=True)
    assert not Loan.objects.filter(state=LoanState.ACTIVE).exists()
    held.refresh_from_db()
    assert held.status == ItemStatus.ON_HOLD_SHELF
    assert len(results(staff, "circulation.desk_returned")) == 4
    staff.post(reverse("circulation:desk_clear_returns"))
    assert results(staff, "circulation.desk_returned") == []


def _other_record() -> Record:
    from kitobxon.catalogue.tests.factories import make_record

    return make_record(title="Mehrobdan chayon", identifiers=[], work_key="mehrobdan")


def test_check_in_with_htmx_answers_with_the_work_area(
    staff: Client, patron: User, copy: Item, librarian: User
) -> None:
    services.check_out(copy, patron, by=librarian)
    page = scan(staff, copy.barcode, checking_in=True, htmx=True)
    assert page.startswith('<div id="desk-workspace"') and "Back to the shelf." in page
    assert "It was not on loan." in scan(staff, copy.barcode, checking_in=True)


# --- Readers -------------------------------------------------------------------------------


def test_reader_lookup_by_name_email_and_card(
    staff: Client, make_user: Callable[..., User]
) -> None:
    wanted = make_user(email="dilnoza@example.org")
    User.objects.filter(pk=wanted.pk).update(full_name="Dilnoza Karimova")
    url = reverse("circulation:desk_readers")
    assert "Dilnoza Karimova" in staff.get(url, {"q": "karimova"}).content.decode()
    assert "Dilnoza Karimova" in staff.get(url, {"q": "dilnoza@"}).content.decode()
    response = staff.get(url, {"q": wanted.card_number})
    assert response["Location"] == reverse("circulation:desk_reader", args=[wanted.pk])
    assert "No reader matches" in staff.get(url, {"q": "zzz"}).content.decode()


def test_the_reader_page_renews_and_shows_a_refusal_as_its_sentence(
    staff: Client,
    patron: User,
    make_user: Callable[..., User],
    copy: Item,
    librarian: User,
    desk: Branch,
) -> None:
    loan = services.check_out(copy, patron, by=librarian)
    reader_url = reverse("circulation:desk_reader", args=[patron.pk])
    response = staff.post(reverse("circulation:desk_renew", args=[loan.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reader_url
    assert "Renewed, now due" in response.content.decode()
    other = make_user()
    services.place_hold(copy.record, other, pickup_branch=desk, by=other)
    response = staff.post(reverse("circulation:desk_renew", args=[loan.pk]), follow=True)
    html = response.content.decode()
    assert "Another reader is waiting for this title, so it cannot be renewed." in html
    loan.refresh_from_db()
    assert loan.renewals == 1


def test_claims_returned_and_lost_from_the_reader_page(
    staff: Client, patron: User, make_copy: Callable[..., Item], librarian: User
) -> None:
    claimed = services.check_out(make_copy(), patron, by=librarian)
    lost = services.check_out(make_copy(price="50000"), patron, by=librarian)
    staff.post(reverse("circulation:desk_claims_returned", args=[claimed.pk]))
    staff.post(reverse("circulation:desk_lost", args=[lost.pk]))
    claimed.refresh_from_db()
    lost.refresh_from_db()
    assert claimed.state == LoanState.CLAIMS_RETURNED and lost.state == LoanState.LOST
    page = staff.get(reverse("circulation:desk_reader", args=[patron.pk])).content.decode()
    assert "Claimed returned" in page and "Lost copy" in page and "50,000" in page


def test_a_librarian_cancels_a_readers_hold(
    staff: Client, patron: User, copy: Item, desk: Branch
) -> None:
    hold = services.place_hold(copy.record, patron, pickup_branch=desk, by=patron)
    page = staff.get(reverse("circulation:desk_reader", args=[patron.pk])).content.decode()
    assert "number 1 in the queue" in page
    staff.post(reverse("circulation:desk_cancel_hold", args=[hold.pk]))
    hold.refresh_from_db()
    assert hold.state == HoldState.CANCELLED


def test_payments_and_waivers_are_new_lines_in_the_readers_account(
    staff: Client, patron: User, librarian: User
) -> None:
    services.charge(patron.pk, ChargeKind.DAMAGE, Decimal(15000), by=librarian, note="atlas")
    url = reverse("circulation:desk_reader", args=[patron.pk])
    response = staff.post(
        reverse("circulation:desk_payment", args=[patron.pk]), {"amount": "10000", "note": "cash"}
    )
    assert response["Location"] == url
    staff.post(
        reverse("circulation:desk_waive", args=[patron.pk]),
        {"amount": "2000", "reason": "first time"},
    )
    lines = list(Charge.objects.filter(patron=patron).values_list("kind", "amount"))
    assert lines == [
        (ChargeKind.DAMAGE, Decimal("15000.00")),
        (ChargeKind.PAYMENT, Decimal("-10000.00")),
        (ChargeKind.WAIVER, Decimal("-2000.00")),
    ]
    page = staff.get(url).content.decode()
    assert "Balance: 3,000 so'm owed" in page and "first time" in page
    response = staff.post(
        reverse("circulation:desk_payment", args=[patron.pk]), {"amount": "5000", "note": ""}
    )
    assert response.status_code == 400
    assert "The amount is more than the reader owes." in response.content.decode()
    assert Charge.objects.filter(patron=patron).count() == 3


def test_a_librarian_blocks_a_reader_and_lifts_the_block(staff: Client, patron: User) -> None:
    staff.post(reverse("circulation:desk_block", args=[patron.pk]), {"reason": "Unpaid damage"})
    block = Block.objects.get(patron=patron)
    page = staff.get(reverse("circulation:desk_reader", args=[patron.pk])).content.decode()
    assert "Unpaid damage" in page
    assert staff.post(reverse("circulation:desk_block", args=[patron.pk]), {}).status_code == 400
    staff.post(reverse("circulation:desk_lift_block", args=[block.pk]))
    assert not queries.active_blocks(patron).exists()


# --- Copies --------------------------------------------------------------------------------


def test_the_item_page_shows_loan_queue_and_a_history_without_forgotten_readers(
    staff: Client,
    patron: User,
    make_user: Callable[..., User],
    copy: Item,
    librarian: User,
    desk: Branch,
) -> None:
    services.check_out(copy, patron, by=librarian)
    services.check_in(copy, by=librarian, branch=desk)  # the loan forgets the reader
    keeper = make_user()
    services.set_keep_history(keeper, True, by=keeper)
    services.check_out(copy, keeper, by=librarian)
    waiting = make_user()
    services.place_hold(copy.record, waiting, pickup_branch=desk, by=waiting)
    page = staff.get(reverse("circulation:desk_item", args=[copy.barcode])).content.decode()
    assert "On loan" in page and keeper.full_name in page
    assert waiting.full_name in page
    assert "not kept" in page and patron.full_name not in page
    assert staff.get(reverse("circulation:desk_item", args=["nope"])).status_code == 404


def test_marking_a_copy_damaged_and_changing_its_loan_type(
    staff: Client, copy: Item, patron: User, librarian: User
) -> None:
    url = reverse("circulation:desk_item", args=[copy.barcode])
    response = staff.post(
        reverse("circulation:desk_damaged", args=[copy.barcode]), {"note": "torn cover"}
    )
    assert response["Location"] == url
    copy.refresh_from_db()
    assert copy.status == ItemStatus.IN_REPAIR
    response = staff.post(
        reverse("circulation:desk_damaged", args=[copy.barcode]),
        {"note": "wet", "amount": "1000"},
    )
    assert response.status_code == 400
    assert "Choose the reader to charge for the damage." in response.content.decode()
    staff.post(
        reverse("circulation:desk_loan_type", args=[copy.barcode]), {"loan_type": "reference"}
    )
    copy.refresh_from_db()
    assert copy.loan_type == LoanType.REFERENCE


# --- Lists ---------------------------------------------------------------------------------


def test_the_overdue_list_shows_reader_and_days_late_per_branch(
    staff: Client, patron: User, make_copy: Callable[..., Item], librarian: User, desk: Branch
) -> None:
    staff.post(reverse("circulation:desk_set_branch"), {"branch": desk.pk})
    services.check_out(make_copy(), patron, by=librarian, at=timezone.now() - timedelta(days=17))
    services.check_out(make_copy(), patron, by=librarian)  # not overdue
    page = staff.get(reverse("circulation:desk_overdue")).content.decode()
    assert patron.full_name in page and page.count('class="days-late"') == 1
    assert '<td class="days-late">3</td>' in page
    other = staff.get(reverse("circulation:desk_overdue"), {"branch": "all"}).content.decode()
    assert patron.full_name in other


def test_the_pick_list_and_transit_list_and_an_arrival(
    staff: Client,
    make_user: Callable[..., User],
    make_copy: Callable[..., Item],
    librarian: User,
    desk: Branch,
    nukus: Branch,
) -> None:
    staff.post(reverse("circulation:desk_set_branch"), {"branch": desk.pk})
    copy = make_copy()
    reader = make_user()
    services.place_hold(copy.record, reader, pickup_branch=nukus, by=reader)
    page = staff.get(reverse("circulation:desk_pick_list")).content.decode()
    assert copy.barcode in page and reader.full_name in page
    response = staff.post(
        reverse("circulation:desk_check_in"), {"code": copy.barcode, "next": "/desk/check-in/"}
    )
    assert response["Location"] == "/desk/check-in/"
    assert (
        "In transit to Nukus, for a reader&#x27;s hold."
        in staff.get("/desk/check-in/").content.decode()
    )
    assert copy.barcode in staff.get(reverse("circulation:desk_transit")).content.decode()
    staff.post(reverse("circulation:desk_set_branch"), {"branch": nukus.pk})
    page = staff.get(reverse("circulation:desk_transit")).content.decode()
    assert "Arrived" in page and copy.barcode in page
    response = staff.post(reverse("circulation:desk_arrived", args=[copy.pk]), follow=True)
    assert f"To the hold shelf for {reader.full_name}" in response.content.decode()
    copy.refresh_from_db()
    assert copy.status == ItemStatus.ON_HOLD_SHELF


# --- Rules and calendar --------------------------------------------------------------------


def test_a_librarian_edits_adds_and_deletes_loan_rules(staff: Client, desk: Branch) -> None:
    student = LoanRule.objects.get(segment="student", loan_type="standard", branch=None)
    page = staff.get(reverse("circulation:desk_rules")).content.decode()
    assert "Student" in page and "Short loan" in page
    url = reverse("circulation:desk_rule_edit", args=[student.pk])
    form = staff.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k != "branch"}
    data.update(loan_period=21, holds_allowed="on")
    assert staff.post(url, data)["Location"] == reverse("circulation:desk_rules")
    student.refresh_from_db()
    assert student.loan_period == 21
    duplicate = staff.post(reverse("circulation:desk_rule_new"), data)
    assert duplicate.status_code == 400
    assert "A rule for this reader segment, loan type and branch already exists." in (
        duplicate.content.decode()
    )
    data["branch"] = desk.pk
    staff.post(reverse("circulation:desk_rule_new"), data)
    added = LoanRule.objects.get(segment="student", loan_type="standard", branch=desk)
    staff.post(reverse("circulation:desk_rule_delete", args=[added.pk]))
    assert not LoanRule.objects.filter(pk=added.pk).exists()


def test_a_librarian_sets_opening_hours_and_closure_days(staff: Client, desk: Branch) -> None:
    url = reverse("circulation:desk_hours")
    staff.post(url, {"branch": desk.pk, "weekday": 0, "opens": "09:00", "closes": "18:00"})
    assert OpeningHours.objects.get(branch=desk, weekday=0).closes.hour == 18
    bad = staff.post(url, {"branch": desk.pk, "weekday": 1, "opens": "18:00", "closes": "09:00"})
    assert bad.status_code == 400
    assert "The closing time must be after the opening time." in bad.content.decode()
    day = timezone.localdate() + timedelta(days=10)
    staff.post(
        reverse("circulation:desk_closure_add"),
        {"date": day.isoformat(), "reason": "Ta'mirlash", "branch": desk.pk},
    )
    closure = ClosureDay.objects.get(date=day)
    page = staff.get(reverse("circulation:desk_calendar"), {"branch": desk.pk}).content.decode()
    assert "Ta&#x27;mirlash" in page and 'value="09:00' in page
    staff.post(reverse("circulation:desk_closure_remove", args=[closure.pk]))
    assert not ClosureDay.objects.filter(pk=closure.pk).exists()


def test_librarians_set_a_copys_loan_type_when_adding_copies(
    staff: Client, record: Record, desk: Branch
) -> None:
    response = staff.post(
        reverse("catalogue:item_create", args=[record.pk]),
        {"branch": desk.pk, "copies": "1", "loan_type": "short_loan"},
    )
    assert response.status_code == 302
    assert Item.objects.get(record=record).loan_type == LoanType.SHORT_LOAN
