"""May this reader open this file, here and now, and why: the one place access is decided.

``decide`` is pure over what it is given (the file, the reader, their address, whether they hold a
digital loan, the time), so every rule is tested without a request; views, the API, the record
page and the signed-URL check all call it. An embargo comes first (librarians only until the
date), then the file's policy. Librarians holding ``digital.manage_digital`` may open everything.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from kitobxon.digital.models import Access, DigitalFile

MANAGE = "digital.manage_digital"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    #: A stable code for the API and the ledger: open, registered, segment, campus, loan,
    #: librarian; or refusals: embargo, sign_in, segment_refused, off_campus, borrow,
    #: librarians_only.
    reason: str
    #: The same in the reader's language, shown on the record page and in refusals.
    message: str
    #: Whether a watermarked copy may be downloaded (only with ``allowed``).
    download: bool = False


def is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(MANAGE))


@lru_cache(maxsize=8)
def _networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def campus_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _networks(settings.DIGITAL_CAMPUS_NETWORKS)


def on_campus(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in campus_networks())


def decide(
    file: DigitalFile,
    user: Any,
    *,
    ip: str | None = None,
    has_loan: bool = False,
    today: date | None = None,
) -> Decision:
    """Whether ``user`` (at address ``ip``, holding a digital loan or not) may open ``file``."""
    today = today or timezone.localdate()
    signed_in = bool(getattr(user, "is_authenticated", False))
    if is_staff(user):
        return Decision(True, "librarian", _("You manage digital files."), download=True)
    if file.embargo_until and today < file.embargo_until:
        until = date_format(file.embargo_until, "DATE_FORMAT")
        return Decision(False, "embargo", _("Embargoed until %(date)s.") % {"date": until})
    download = file.downloadable
    access = file.access
    if access == Access.OPEN:
        return Decision(True, "open", _("Open access."), download=download)
    if access == Access.LIBRARIANS:
        return Decision(False, "librarians_only", _("Only librarians may open this file."))
    if access == Access.CAMPUS:
        if on_campus(ip):
            return Decision(True, "campus", _("Available on campus."), download=download)
        return Decision(
            False, "off_campus", _("Available on campus: connect from the university network.")
        )
    if not signed_in:
        return Decision(False, "sign_in", _("Sign in to open this file."))
    if access == Access.REGISTERED:
        return Decision(True, "registered", _("Open to registered readers."), download=download)
    if access == Access.SEGMENTS:
        if getattr(user, "segment", "") in (file.segments or []):
            return Decision(True, "segment", _("Open to your reader group."), download=download)
        return Decision(False, "segment_refused", _("Not available to your reader group."))
    if access == Access.LICENSED:
        if has_loan:
            return Decision(True, "loan", _("You are borrowing this title."), download=download)
        return Decision(False, "borrow", _("Borrow this title to read it."))
    return Decision(False, "librarians_only", _("Only librarians may open this file."))


def search_principals(file: DigitalFile, today: date | None = None) -> list[str]:
    """Who may find this file's text through search (the ``pages_visible_to`` tokens).

    Campus and licensed files are decided per request (address, loan), which an index cannot
    know, so their text is searchable by librarians only: a snippet must never leak a page.
    """
    today = today or timezone.localdate()
    if file.embargo_until and today < file.embargo_until:
        return ["staff"]
    if file.access == Access.OPEN:
        return ["public", "staff"]
    if file.access == Access.REGISTERED:
        return ["registered", "staff"]
    if file.access == Access.SEGMENTS:
        return [*(f"segment:{s}" for s in file.segments or []), "staff"]
    return ["staff"]
