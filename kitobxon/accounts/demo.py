"""Demo readers and staff, one per segment and role, for `kitobxon demo`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from kitobxon.accounts import services
from kitobxon.accounts.models import Role, Segment, User

DEMO_PASSWORD = "kitobxon-demo"  # noqa: S105 - printed on purpose for the demo library


@dataclass(frozen=True)
class DemoUser:
    email: str
    full_name: str
    role: Role
    segment: Segment
    faculty: str
    language: str


DEMO_USERS = [
    DemoUser("admin@kitobxon.uz", "Dilnoza Rahimova", Role.ADMIN, Segment.GUEST, "", "uz"),
    DemoUser(
        "kutubxonachi@kitobxon.uz",
        "Gulnora Karimova",
        Role.LIBRARIAN,
        Segment.GUEST,
        "Axborot-resurs markazi",
        "uz",
    ),
    DemoUser(
        "talaba@kitobxon.uz",
        "Jasur Toshmatov",
        Role.PATRON,
        Segment.STUDENT,
        "Fizika fakulteti",
        "uz",
    ),
    DemoUser(
        "oquvchi@kitobxon.uz",
        "Madina Yusupova",
        Role.PATRON,
        Segment.PUPIL,
        "110-maktab",
        "uz-cyrl",
    ),
    DemoUser(
        "izlanuvchi@kitobxon.uz",
        "Aybek Jumabaev",
        Role.PATRON,
        Segment.RESEARCHER,
        "Qaraqalpaq mámleketlik universiteti",
        "kaa",
    ),
    DemoUser(
        "oqituvchi@kitobxon.uz",
        "Elena Petrova",
        Role.PATRON,
        Segment.TEACHER,
        "Filologiya fakulteti",
        "ru",
    ),
    DemoUser(
        "dasturchi@kitobxon.uz",
        "Timur Aliev",
        Role.PATRON,
        Segment.IT_YOUTH,
        "IT Park",
        "en",
    ),
]


def load() -> list[tuple[User, bool]]:
    """Create the demo accounts that do not exist yet. Returns (user, created) pairs."""
    result = []
    with transaction.atomic():
        for demo in DEMO_USERS:
            user = User.objects.filter(email=demo.email).first()
            created = user is None
            if user is None:
                user = User.objects.create_user(
                    demo.email,
                    DEMO_PASSWORD,
                    full_name=demo.full_name,
                    segment=demo.segment,
                    faculty=demo.faculty,
                    preferred_language=demo.language,
                    email_confirmed_at=timezone.now(),
                )
                services.set_role(user, demo.role, by=None)
            result.append((user, created))
    return result
