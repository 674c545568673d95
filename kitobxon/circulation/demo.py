"""The demo library's lending desk: branch timetables, Uzbekistan's public holidays, a few
loans and a hold. Loaded by `kitobxon demo` after the accounts and the catalogue; safe to run
again (it adds only what is missing)."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone

from kitobxon.accounts.models import User
from kitobxon.catalogue.models import Branch, Item, ItemStatus
from kitobxon.circulation import services
from kitobxon.circulation.errors import CirculationError
from kitobxon.circulation.models import ClosureDay, Hold, Loan, OpeningHours

# Weekday numbers (0 = Monday) and opening hours per demo branch.
TIMETABLES = {
    "toshkent": (range(6), time(9), time(20)),  # Monday to Saturday
    "nukus": (range(5), time(9), time(18)),  # Monday to Friday
}
# Fixed-date public holidays of Uzbekistan (month, day, reason).
HOLIDAYS = [
    (1, 1, "Yangi yil"),
    (3, 8, "Xalqaro xotin-qizlar kuni"),
    (3, 21, "Navroʻz bayrami"),
    (5, 9, "Xotira va qadrlash kuni"),
    (9, 1, "Mustaqillik kuni"),
    (10, 1, "Oʻqituvchi va murabbiylar kuni"),
    (12, 8, "Konstitutsiya kuni"),
]
# Demo reader (e-mail) → how many copies they have out.
LOANS = {"talaba@kitobxon.uz": 2, "izlanuvchi@kitobxon.uz": 1, "oqituvchi@kitobxon.uz": 1}
HOLD_BY = "oquvchi@kitobxon.uz"


def load() -> dict[str, int]:
    """Add the calendar, then lend some copies and place a hold; returns what was added."""
    added = {"opening_hours": 0, "closure_days": 0, "loans": 0, "holds": 0}
    today = timezone.localdate()
    with transaction.atomic():
        for code, (weekdays, opens, closes) in TIMETABLES.items():
            branch = Branch.objects.filter(code=code).first()
            if branch is None:
                continue
            for weekday in weekdays:
                _row, created = OpeningHours.objects.get_or_create(
                    branch=branch, weekday=weekday, defaults={"opens": opens, "closes": closes}
                )
                added["opening_hours"] += created
        for year in (today.year, today.year + 1):
            for month, day, reason in HOLIDAYS:
                _day, created = ClosureDay.objects.get_or_create(
                    branch=None, date=date(year, month, day), defaults={"reason": reason}
                )
                added["closure_days"] += created
    librarian = User.objects.filter(email="kutubxonachi@kitobxon.uz").first()
    copies = iter(
        Item.objects.filter(status=ItemStatus.AVAILABLE, loan_type="standard").order_by("pk")
    )
    lent_at = timezone.now() - timedelta(days=10)
    for email, count in LOANS.items():
        reader = User.objects.filter(email=email).first()
        if reader is None or Loan.objects.filter(patron=reader).exists():
            continue
        for _n in range(count):
            copy = next(copies, None)
            if copy is None:
                break
            try:
                services.check_out(copy, reader, by=librarian, at=lent_at)
            except CirculationError:
                continue
            added["loans"] += 1
    waiter = User.objects.filter(email=HOLD_BY).first()
    loan = Loan.objects.filter(state="active").select_related("item__record").first()
    if waiter is not None and loan is not None and not Hold.objects.filter(patron=waiter).exists():
        try:
            services.place_hold(loan.item.record, waiter, pickup_branch=loan.item.branch, by=waiter)
            added["holds"] += 1
        except CirculationError:
            pass
    return added
