"""The catalogue's JSON API: everyone reads published records; librarians write.

(No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.)
"""

import io

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from kitobxon.accounts.api import AUTH
from kitobxon.accounts.models import User
from kitobxon.accounts.queries import is_librarian
from kitobxon.catalogue import importing, queries, services
from kitobxon.catalogue.data import (
    ClassificationData,
    ContributorData,
    IdentifierData,
    RecordData,
    SubjectData,
)
from kitobxon.catalogue.errors import CatalogueError
from kitobxon.catalogue.models import Branch, Collection, Item, Record, RecordStatus
from kitobxon.catalogue.schemas import (
    ItemIn,
    ItemOut,
    ItemPatch,
    RecordFilters,
    RecordIn,
    RecordOut,
    WithdrawIn,
)

router = Router(tags=["catalogue"])


def _anyone(request: HttpRequest) -> AnonymousUser:
    return AnonymousUser()


# A token or session identifies the caller; without either, the caller reads as a visitor.
READ_AUTH = [*AUTH, _anyone]


def _reader(request: HttpRequest) -> User | AnonymousUser:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, User) else AnonymousUser()


def _librarian(request: HttpRequest) -> User:
    user = _reader(request)
    if not isinstance(user, User) or not is_librarian(user):
        raise HttpError(403, _("Only librarians may change the catalogue."))
    return user


def _data(payload: RecordIn) -> RecordData:
    return RecordData(
        title=payload.title,
        subtitle=payload.subtitle,
        responsibility=payload.responsibility,
        contributors=[ContributorData(c.name, c.role) for c in payload.contributors],
        publisher=payload.publisher,
        place=payload.place,
        year=payload.year,
        edition=payload.edition,
        extent=payload.extent,
        languages=payload.languages,
        resource_type=payload.resource_type,
        audience=payload.audience,
        subjects=[SubjectData(label=s) for s in payload.subjects],
        identifiers=[IdentifierData("isbn", v) for v in payload.isbn]
        + [IdentifierData("issn", v) for v in payload.issn]
        + [IdentifierData("doi", v) for v in payload.doi],
        classifications=[
            ClassificationData(scheme, getattr(payload, scheme))
            for scheme in ("udc", "bbk", "ddc", "lcc")
            if getattr(payload, scheme)
        ],
        series=payload.series,
        abstract=payload.abstract,
        contents=payload.contents,
        notes=payload.notes,
        work_key=payload.work_key,
    )


def _collections(payload: RecordIn, user: User) -> list[Collection] | None:
    """The collections a payload names by code, or None when it names none."""
    if payload.collections is None:
        return None
    codes = set(payload.collections)
    found = list(queries.readable_collections(user).filter(code__in=codes))
    unknown = codes - {c.code for c in found}
    if unknown:
        raise HttpError(
            422,
            _("Unknown collection or faculty: %(codes)s") % {"codes": ", ".join(sorted(unknown))},
        )
    return found


def _status(payload: RecordIn) -> str:
    if payload.status not in RecordStatus.values:
        raise HttpError(422, _("Unknown status: %(status)s") % {"status": payload.status})
    return payload.status


@router.get("/records", response=list[RecordOut], auth=READ_AUTH, summary="List records")
@paginate(PageNumberPagination, page_size=50)
def list_records(request: HttpRequest, filters: Query[RecordFilters]) -> QuerySet[Record]:
    records = queries.with_details(queries.readable_records(_reader(request))).prefetch_related(
        "collections"
    )
    if filters.type:
        records = records.filter(resource_type=filters.type)
    if filters.collection:
        records = records.filter(collections__code=filters.collection)
    if filters.year_from:
        records = records.filter(year__gte=filters.year_from)
    if filters.year_to:
        records = records.filter(year__lte=filters.year_to)
    return records.order_by("id")


@router.get("/records/{record_id}", response=RecordOut, auth=READ_AUTH, summary="One record")
def get_record(request: HttpRequest, record_id: int) -> Record:
    return queries.access_record(_reader(request), record_id)


@router.post("/records", response={201: RecordOut}, auth=AUTH, summary="Create a record")
def create_record(request: HttpRequest, payload: RecordIn) -> Status:
    user = _librarian(request)
    try:
        saved = services.create_record(
            _data(payload),
            by=user,
            status=_status(payload),
            collections=_collections(payload, user),
        )
    except CatalogueError as error:
        raise HttpError(422, error.message) from error
    return Status(201, queries.access_record(user, saved.pk))


@router.put("/records/{record_id}", response=RecordOut, auth=AUTH, summary="Replace a record")
def update_record(request: HttpRequest, record_id: int, payload: RecordIn) -> Record:
    user = _librarian(request)
    record = queries.editable_record(user, record_id)
    try:
        services.edit_record(
            record,
            _data(payload),
            status=_status(payload),
            by=user,
            collections=_collections(payload, user),
        )
    except CatalogueError as error:
        raise HttpError(422, error.message) from error
    return queries.access_record(user, record_id)


@router.post(
    "/records/{record_id}/withdraw", response=RecordOut, auth=AUTH, summary="Withdraw a record"
)
def withdraw_record(request: HttpRequest, record_id: int, payload: WithdrawIn) -> Record:
    user = _librarian(request)
    record = queries.editable_record(user, record_id)
    services.set_status(record, RecordStatus.WITHDRAWN, by=user, reason=payload.reason)
    return queries.access_record(user, record_id)


@router.get("/records/{record_id}/export", auth=READ_AUTH, summary="Export one record")
def export_record(request: HttpRequest, record_id: int, format: str = "marcxml") -> HttpResponse:
    record = queries.access_record(_reader(request), record_id)
    if format not in importing.FORMATS:
        raise HttpError(422, _("Unknown format: %(format)s") % {"format": format})
    out = io.BytesIO()
    importing.export([queries.to_data(record)], format, out)
    return HttpResponse(out.getvalue(), content_type=importing.FORMATS[format].media_type)


@router.get(
    "/records/{record_id}/items", response=list[ItemOut], auth=READ_AUTH, summary="Its copies"
)
def list_items(request: HttpRequest, record_id: int) -> QuerySet[Item]:
    reader = _reader(request)
    record = queries.access_record(reader, record_id)
    return queries.readable_items(reader).filter(record=record)


def _branch(code: str) -> Branch:
    branch = Branch.objects.filter(code=code).first()
    if branch is None:
        raise HttpError(422, _("Unknown branch: %(code)s") % {"code": code})
    return branch


@router.post("/records/{record_id}/items", response={201: ItemOut}, auth=AUTH, summary="Add a copy")
def add_item(request: HttpRequest, record_id: int, payload: ItemIn) -> Status:
    user = _librarian(request)
    record = queries.editable_record(user, record_id)
    try:
        item = services.add_item(
            record,
            by=user,
            branch=_branch(payload.branch),
            barcode=payload.barcode,
            call_number=payload.call_number,
            shelf_location=payload.shelf_location,
            acquired_on=payload.acquired_on,
            price=payload.price,
            notes=payload.notes,
        )
    except CatalogueError as error:
        raise HttpError(409, error.message) from error
    return Status(201, item)


@router.get("/items/{item_id}", response=ItemOut, auth=READ_AUTH, summary="One copy")
def get_item(request: HttpRequest, item_id: int) -> Item:
    return queries.access_item(_reader(request), item_id)


@router.patch("/items/{item_id}", response=ItemOut, auth=AUTH, summary="Change a copy")
def patch_item(request: HttpRequest, item_id: int, payload: ItemPatch) -> Item:
    user = _librarian(request)
    item = queries.access_item(user, item_id)
    changes = payload.dict(exclude_unset=True)
    if "branch" in changes:
        changes["branch"] = _branch(changes["branch"])
    return services.update_item(item, by=user, **changes)
