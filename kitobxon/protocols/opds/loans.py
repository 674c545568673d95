"""Borrowing through OPDS: what reading apps follow from a borrow link, a revoke link, a file.

- ``borrow`` (``/opds/borrow/<record>/``, ``/opds/v2/borrow/<record>/``; GET or POST, apps use
  GET) lends the title (``digital.services.loans.borrow``) and answers 201 with the publication,
  whose acquisition links now lead to the file's bytes, with ``opds:availability`` until the due
  date. No copy free: the reader joins the waiting list and the answer is 201 with
  ``reserved`` and their place. Asking again changes nothing and answers 200 with the same.
- ``revoke`` gives the loan back early or leaves the waiting list (Library Simplified's
  ``revoke`` relation) and answers 200 with the publication as it now stands.
- ``open_access`` (``/opds/open/<file>/<name>``) is the lasting address of an open, downloadable
  file's bytes that acquisition feeds give (``feeds.open_to_visitors``): each request is decided
  again (``access.grant``) and its bytes sent by ``digital.delivery``, as the byte server does.
- ``fulfil`` (``/opds/files/<token>/<name>``) is the digital library's byte server for apps
  that sign in with Basic credentials: it finds the reader as the catalogue does, then the
  signed link is checked and served by ``digital.views.files`` exactly as for a browser.

Borrow and revoke need credentials in the request (``auth.signed_in_reader``): a session cookie
alone is refused, so these GETs cannot be forged from another site, and CSRF tokens (which apps
do not have) are not needed. A refusal is an RFC 7807 problem document with the reader's
sentence from the service.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import resolve, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from kitobxon.catalogue.models import Record
from kitobxon.catalogue.queries import readable_records
from kitobxon.digital import delivery, errors
from kitobxon.digital import queries as digital
from kitobxon.digital.models import DigitalFile
from kitobxon.digital.services import access
from kitobxon.digital.services import loans as services
from kitobxon.digital.states import OPEN_WAIT_STATES
from kitobxon.digital.views.files import file_bytes
from kitobxon.protocols.opds import atom, auth, feeds, opds2

#: Refusals that are about the title, not about the moment: the others are conflicts (409).
STATUS: dict[type[errors.DigitalError], int] = {
    errors.NoLicence: 404,
    errors.LicenceExpired: 403,
    errors.ReaderMayNotBorrow: 403,
}


def _code(error: errors.DigitalError) -> str:
    name = type(error).__name__
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def refused(error: errors.DigitalError) -> HttpResponse:
    return auth.problem(STATUS.get(type(error), 409), error.message, code=_code(error))


def _fulfil(request: HttpRequest) -> Any:
    """Issue signed links to the bytes as the digital library does (decided, recorded in the
    ledger), pointing at this catalogue's byte door so that Basic credentials work there."""

    def fulfil(file: DigitalFile) -> str:
        match = resolve(access.open_file(request, file, purpose="view"))
        return reverse("protocols:opds-file", kwargs=match.kwargs)

    return fulfil


def _answer(request: HttpRequest, version: int, record_id: int, status: int) -> HttpResponse:
    """The publication as the reader now stands with it, in the format they asked in."""
    caller = feeds.Caller(request, request.user, version, fulfil=_fulfil(request))
    (publication,) = feeds.records(caller, [record_id])
    if version == 2:
        document = request.build_absolute_uri(reverse("protocols:opds-authentication"))
        body = json.dumps(opds2.publication(publication, document), ensure_ascii=False)
        response = HttpResponse(body, status=status, content_type=opds2.PUBLICATION_TYPE)
    else:
        response = HttpResponse(
            atom.write_entry(publication), status=status, content_type=atom.ENTRY_TYPE
        )
    response["Cache-Control"] = "no-store"
    return response


def _record(user: Any, record_id: int) -> Record | HttpResponse:
    record = readable_records(user).filter(pk=record_id).first()
    if record is None:
        return auth.problem(404, _("There is no such title."), code="not-found")
    return record


def _borrow(request: HttpRequest, record_id: int, version: int) -> HttpResponse:
    reader = auth.signed_in_reader(request)
    if isinstance(reader, HttpResponse):
        return reader
    record = _record(reader, record_id)
    if isinstance(record, HttpResponse):
        return record
    try:
        services.borrow(record, reader, by=reader)
    except errors.AlreadyBorrowed:
        return _answer(request, version, record.pk, 200)
    except errors.NoCopyFree:
        try:
            services.join_waitlist(record, reader, by=reader)
        except errors.AlreadyWaiting:
            return _answer(request, version, record.pk, 200)
        except errors.CopyFree:  # returned in between: take it
            try:
                services.borrow(record, reader, by=reader)
            except errors.DigitalError as error:
                return refused(error)
        except errors.DigitalError as error:
            return refused(error)
    except errors.DigitalError as error:
        return refused(error)
    return _answer(request, version, record.pk, 201)


def _revoke(request: HttpRequest, record_id: int, version: int) -> HttpResponse:
    reader = auth.signed_in_reader(request)
    if isinstance(reader, HttpResponse):
        return reader
    record = _record(reader, record_id)
    if isinstance(record, HttpResponse):
        return record
    loan = digital.active_loan(reader, record.pk)
    try:
        if loan is not None:
            services.return_loan(loan, by=reader)
        elif (
            digital.readable_waits(reader)
            .filter(reader_id=reader.pk, licence__record=record, state__in=OPEN_WAIT_STATES)
            .exists()
        ):
            services.leave_waitlist(record, reader, by=reader)
        else:
            return auth.problem(
                404,
                _("You neither borrow this title nor wait for it."),
                code="nothing-to-revoke",
            )
    except errors.DigitalError as error:
        return refused(error)
    return _answer(request, version, record.pk, 200)


@csrf_exempt  # credentials only, never the session: see the module's docstring
@require_http_methods(["GET", "POST"])
def borrow(request: HttpRequest, record_id: int) -> HttpResponse:
    return _borrow(request, record_id, 1)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def borrow2(request: HttpRequest, record_id: int) -> HttpResponse:
    return _borrow(request, record_id, 2)


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def revoke(request: HttpRequest, record_id: int) -> HttpResponse:
    return _revoke(request, record_id, 1)


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def revoke2(request: HttpRequest, record_id: int) -> HttpResponse:
    return _revoke(request, record_id, 2)


@require_http_methods(["GET", "HEAD"])
def fulfil(request: HttpRequest, token: str, name: str) -> HttpResponseBase:
    """A file's bytes for the reader the link was issued to, signed in as apps do."""
    reader = auth.reader(request, session=True)
    if isinstance(reader, HttpResponse):
        return reader
    if not getattr(reader, "is_authenticated", False):
        return auth.challenge(request)
    request.user = reader
    return file_bytes(request, token=token, name=name)


@require_http_methods(["GET", "HEAD"])
def open_access(request: HttpRequest, file_id: int, name: str) -> HttpResponseBase:
    """An open file's bytes for whoever asks, signed in or not; ``name`` only names the file.

    Feeds are cached and read later, so they cannot carry expiring signed links: this address
    lasts, and every request to it (each byte range) is decided once, then served as the byte
    server serves a signed link's.
    """
    reader = auth.reader(request, session=True)
    if isinstance(reader, HttpResponse):
        return reader
    request.user = reader
    file = digital.access_file(reader, file_id)
    try:
        access.grant(request, file, purpose="download")
    except errors.DigitalError as refusal:
        return auth.problem(403, refusal.message, code=_code(refusal))
    return delivery.serve(request, file, attachment=True)
