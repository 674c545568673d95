"""The record page's "Online" panel: each file, what this reader may do with it, and why.

Registered with ``catalogue.panels`` from DigitalConfig.ready(). It says the reason in words
("Open access.", "Borrow: 2 of 3 copies free.", "Available on campus.", "Embargoed until …")
and offers exactly the actions the decision allows: read or play, download, borrow, return,
join or leave the waiting list; librarians also get "Manage files".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from kitobxon.catalogue.models import Record
from kitobxon.digital import policy, queries
from kitobxon.digital.models import Access, DigitalFile


@dataclass(frozen=True, slots=True)
class FileRow:
    file: DigitalFile
    decision: policy.Decision
    captions: int


def record_panel(request: HttpRequest, record: Record) -> SafeString | None:
    staff = policy.is_staff(request.user)
    # The catalogue has already let this viewer see the record, and with it its file list.
    files = queries.files_for_request(request, record.pk)
    if not files and not staff:
        return None
    licence = None
    if any(f.access == Access.LICENSED for f in files):
        licence = queries.licence_status(request.user, record.pk)
    has_loan = bool(licence and licence.my_loan)
    ip = queries.client_ip(request)
    rows = [
        FileRow(
            file=file,
            decision=policy.decide(file, request.user, ip=ip, has_loan=has_loan),
            captions=file.captions.count() if file.kind == "video" else 0,
        )
        for file in files
    ]
    html = render_to_string(
        "digital/record_panel.html",
        {"record": record, "rows": rows, "licence": licence, "staff": staff},
        request=request,
    )
    return SafeString(html)
