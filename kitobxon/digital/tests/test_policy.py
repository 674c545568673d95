"""Who may open a file: every policy, the embargo, campus networks, loans and librarians."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from kitobxon.accounts.models import Role, Segment
from kitobxon.digital import policy
from kitobxon.digital.models import Access, DigitalFile

TODAY = date(2026, 12, 4)


def file(access: str = Access.OPEN, **fields: object) -> DigitalFile:
    return DigitalFile(access=access, **fields)  # unsaved: decide() reads fields only


@pytest.fixture
def student(make_user):
    return make_user(Role.PATRON, segment=Segment.STUDENT)


def test_open_files_open_for_anyone_signed_in_or_not(student) -> None:
    assert policy.decide(file(), AnonymousUser(), today=TODAY).reason == "open"
    assert policy.decide(file(), student, today=TODAY).allowed


def test_registered_files_ask_anonymous_readers_to_sign_in(student) -> None:
    refused = policy.decide(file(Access.REGISTERED), AnonymousUser(), today=TODAY)
    assert (refused.allowed, refused.reason) == (False, "sign_in")
    assert policy.decide(file(Access.REGISTERED), student, today=TODAY).reason == "registered"


def test_segment_files_open_only_to_the_chosen_segments(make_user, student) -> None:
    teacher = make_user(Role.PATRON, segment=Segment.TEACHER)
    for_teachers = file(Access.SEGMENTS, segments=[Segment.TEACHER])
    assert policy.decide(for_teachers, teacher, today=TODAY).reason == "segment"
    assert policy.decide(for_teachers, student, today=TODAY).reason == "segment_refused"
    assert policy.decide(for_teachers, AnonymousUser(), today=TODAY).reason == "sign_in"


def test_campus_files_follow_the_address_not_the_account(settings, student) -> None:
    settings.DIGITAL_CAMPUS_NETWORKS = "10.20.0.0/16, 2001:db8::/32"
    campus = file(Access.CAMPUS)
    assert policy.decide(campus, AnonymousUser(), ip="10.20.3.4", today=TODAY).reason == "campus"
    assert policy.decide(campus, student, ip="2001:db8::7", today=TODAY).allowed
    assert policy.decide(campus, student, ip="203.0.113.9", today=TODAY).reason == "off_campus"
    assert policy.decide(campus, student, ip="not an address", today=TODAY).reason == "off_campus"
    assert policy.decide(campus, student, ip=None, today=TODAY).reason == "off_campus"


def test_licensed_files_need_a_digital_loan(student) -> None:
    licensed = file(Access.LICENSED)
    assert policy.decide(licensed, student, today=TODAY).reason == "borrow"
    assert policy.decide(licensed, student, has_loan=True, today=TODAY).reason == "loan"
    assert policy.decide(licensed, AnonymousUser(), has_loan=True, today=TODAY).reason == "sign_in"


def test_an_embargo_comes_before_any_policy_until_its_day(student) -> None:
    embargoed = file(Access.OPEN, embargo_until=date(2027, 1, 1))
    refused = policy.decide(embargoed, student, today=TODAY)
    assert (refused.allowed, refused.reason) == (False, "embargo")
    with translation.override("en"):
        assert "2027" in policy.decide(embargoed, student, today=TODAY).message
    assert policy.decide(embargoed, student, today=date(2027, 1, 1)).reason == "open"


def test_librarians_open_everything_and_readers_never_open_librarian_files(
    librarian, student
) -> None:
    closed = file(Access.LIBRARIANS, embargo_until=date(2030, 1, 1))
    assert policy.decide(closed, librarian, today=TODAY).reason == "librarian"
    assert policy.decide(file(Access.LIBRARIANS), student, today=TODAY).reason == "librarians_only"


def test_download_is_offered_only_where_the_file_allows_it(student) -> None:
    assert policy.decide(file(downloadable=True), student, today=TODAY).download
    assert not policy.decide(file(downloadable=False), student, today=TODAY).download
    assert not policy.decide(
        file(Access.LICENSED, downloadable=True), student, today=TODAY
    ).download


def test_refusals_speak_the_readers_language(student) -> None:
    with translation.override("ru"):
        russian = policy.decide(file(Access.LICENSED), student, today=TODAY).message
    with translation.override("en"):
        english = policy.decide(file(Access.LICENSED), student, today=TODAY).message
    assert english == "Borrow this title to read it."
    assert russian != english


def test_search_sees_text_only_where_the_index_can_know_the_reader_may_read_it() -> None:
    assert policy.search_principals(file(), TODAY) == ["public", "staff"]
    assert policy.search_principals(file(Access.REGISTERED), TODAY) == ["registered", "staff"]
    segments = file(Access.SEGMENTS, segments=["teacher"])
    assert policy.search_principals(segments, TODAY) == ["segment:teacher", "staff"]
    for per_request in (Access.CAMPUS, Access.LICENSED, Access.LIBRARIANS):
        assert policy.search_principals(file(per_request), TODAY) == ["staff"]
    embargoed = file(embargo_until=date(2027, 1, 1))
    assert policy.search_principals(embargoed, TODAY) == ["staff"]
