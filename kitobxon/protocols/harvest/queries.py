"""Who may see harvest sources and runs: librarians, through these functions only."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from kitobxon.accounts.models import User
from kitobxon.accounts.queries import is_librarian
from kitobxon.protocols.models import HarvestRun, HarvestSource

AnyUser = User | AnonymousUser


def readable_harvest_sources(user: AnyUser) -> QuerySet[HarvestSource]:
    if not is_librarian(user):
        return HarvestSource.objects.none()
    return HarvestSource.objects.all()


def access_harvest_source(user: AnyUser, source_id: int) -> HarvestSource:
    source = readable_harvest_sources(user).filter(pk=source_id).first()
    if source is None:
        raise Http404
    return source


def readable_harvest_runs(user: AnyUser, source: HarvestSource) -> QuerySet[HarvestRun]:
    if not is_librarian(user):
        return HarvestRun.objects.none()
    return HarvestRun.objects.filter(source=source).select_related("started_by")


def require_librarian(user: AnyUser) -> None:
    """The harvest pages exist only for librarians; others get the same 404 as for nothing."""
    if not is_librarian(user):
        raise Http404
