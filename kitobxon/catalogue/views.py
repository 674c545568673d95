from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kitobxon.accounts.queries import is_librarian
from kitobxon.catalogue import covers, importing, panels, queries, services, tasks
from kitobxon.catalogue.errors import CatalogueError
from kitobxon.catalogue.forms import CollectionForm, ImportForm, ItemForm, RecordForm
from kitobxon.catalogue.jsonld import json_ld
from kitobxon.catalogue.models import Collection, Record, ResourceType


def _librarian_only(request: HttpRequest) -> None:
    if not is_librarian(request.user):
        raise Http404


@require_GET
def record_list(request: HttpRequest) -> HttpResponse:
    """Browse the catalogue, newest first, by resource type or by words of the title or a name.

    The words filter is a plain substring match until the search capability serves results.
    """
    records = queries.readable_records(request.user).order_by("-modified_at", "-id")
    kind = request.GET.get("type", "")
    if kind in ResourceType.values:
        records = records.filter(resource_type=kind)
    query = request.GET.get("q", "").strip()[:200]
    if query:
        records = queries.matching_words(records, query)
    collection = None
    if code := request.GET.get("collection", "").strip()[:64]:
        collection = queries.readable_collections(request.user).filter(code=code).first()
        if collection is None:
            raise Http404
        records = records.filter(collections=collection)
    page = Paginator(records.prefetch_related("contributions__agent"), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "catalogue/record_list.html",
        {
            "page": page,
            "types": ResourceType.choices,
            "kind": kind,
            "query": query,
            "collection": collection,
            "collection_name": collection.local_name if collection else "",
        },
    )


@require_GET
def record_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = queries.access_record(request.user, record_id)
    groups: dict[str, list[tuple[Collection, str]]] = {kind: [] for kind in Collection.Kind}
    for collection in record.collections.order_by("name"):
        groups[collection.kind].append((collection, collection.local_name))
    return render(
        request,
        "catalogue/record_detail.html",
        {
            "record": record,
            "contributions": list(record.contributions.all()),
            "faculties": groups[Collection.Kind.FACULTY],
            "collections": groups[Collection.Kind.COLLECTION],
            "availability": queries.availability(record),
            "editions": queries.editions_of(request.user, record)[:50],
            "items": queries.readable_items(request.user).filter(record=record)
            if is_librarian(request.user)
            else [],
            "formats": importing.FORMATS.values(),
            "json_ld": json.dumps(json_ld(record, request), ensure_ascii=False).replace(
                "</", "<\\/"
            ),
            "is_librarian": is_librarian(request.user),
            "panels": panels.record_panels(request, record),
            "cover_url": covers.cover_url(request, record),
        },
    )


@require_GET
def record_export(request: HttpRequest, record_id: int, format: str) -> HttpResponse:
    record = queries.access_record(request.user, record_id)
    if format not in importing.FORMATS:
        raise Http404
    chosen = importing.FORMATS[format]
    out = io.BytesIO()
    importing.export([queries.to_data(record)], format, out)
    response = HttpResponse(out.getvalue(), content_type=chosen.media_type)
    response["Content-Disposition"] = f'attachment; filename="record-{record.pk}{chosen.suffix}"'
    return response


@require_GET
def record_cover(request: HttpRequest, record_id: int) -> HttpResponse:
    """A generated cover: the title on a colour picked from the work.

    The record page shows it when no app has a real cover this viewer may see (``covers``).
    """
    record = queries.access_record(request.user, record_id)
    digest = hashlib.sha256((record.work_key or record.title).encode()).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    words = record.title.split()
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) > 16 and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
        if len(lines) == 5:
            break
    if line and len(lines) < 5:
        lines.append(line)
    author = next(iter(record.contributions.all()), None)
    text = "".join(
        f'<text x="20" y="{70 + 28 * n}" font-size="22" font-weight="700">{escape(part)}</text>'
        for n, part in enumerate(lines)
    )
    byline = escape(author.agent.name) if author else ""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="360" viewBox="0 0 240 360" '
        f'role="img" aria-label="{escape(record.title)}">'
        f'<rect width="240" height="360" fill="hsl({hue},45%,30%)"/>'
        f'<rect x="10" y="10" width="220" height="340" fill="none" stroke="hsl({hue},45%,75%)"/>'
        f'<g fill="#fff" font-family="DejaVu Sans, sans-serif">{text}'
        f'<text x="20" y="320" font-size="14">{byline}</text></g></svg>'
    )
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# --- Cataloguing (librarians) -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def record_create(request: HttpRequest) -> HttpResponse:
    _librarian_only(request)
    form = RecordForm(request.POST or None)
    duplicates: list[Record] = []
    if request.method == "POST" and form.is_valid():
        duplicates = queries.possible_duplicates(form.to_data(), exclude=None)
        if not duplicates or form.cleaned_data["save_anyway"]:
            try:
                saved = services.create_record(
                    form.to_data(),
                    by=request.user,  # type: ignore[arg-type]
                    status=form.cleaned_data["status"],
                    collections=list(form.cleaned_data["collections"]),
                )
            except CatalogueError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The record is saved."))
                return redirect(saved)
    return render(
        request,
        "catalogue/record_form.html",
        {"form": form, "duplicates": duplicates, "record": None},
    )


@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, record_id: int) -> HttpResponse:
    record = queries.editable_record(request.user, record_id)
    current = queries.to_data(record)
    initial = RecordForm.initial_for(current, record.status)
    if chosen := list(record.collections.values_list("pk", flat=True)):
        initial["collections"] = chosen
    form = RecordForm(request.POST or None, initial=initial)
    duplicates: list[Record] = []
    if request.method == "POST" and form.is_valid():
        duplicates = queries.possible_duplicates(form.to_data(), exclude=record.pk)
        if not duplicates or form.cleaned_data["save_anyway"]:
            try:
                services.edit_record(
                    record,
                    form.to_data(base=current),
                    status=form.cleaned_data["status"],
                    by=request.user,  # type: ignore[arg-type]
                    collections=list(form.cleaned_data["collections"]),
                )
            except CatalogueError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The record is saved."))
                return redirect(record)
    return render(
        request,
        "catalogue/record_form.html",
        {"form": form, "duplicates": duplicates, "record": record},
    )


@require_GET
def record_marc(request: HttpRequest, record_id: int) -> HttpResponse:
    """The MARC tags of a record, as a cataloguer reads them."""
    from kitobxon.catalogue.formats import marc

    record = queries.editable_record(request.user, record_id)
    marc_record = marc.marc_for_export(queries.to_data(record))
    return render(
        request,
        "catalogue/record_marc.html",
        {"record": record, "leader": str(marc_record.leader), "fields": marc_record.fields},
    )


@require_http_methods(["GET", "POST"])
def item_create(request: HttpRequest, record_id: int) -> HttpResponse:
    record = queries.editable_record(request.user, record_id)
    form = ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        count = 1 if d["barcode"] else d["copies"]
        try:
            added = [
                services.add_item(
                    record,
                    by=request.user,  # type: ignore[arg-type]
                    branch=d["branch"],
                    barcode=d["barcode"],
                    call_number=d["call_number"],
                    shelf_location=d["shelf_location"],
                    acquired_on=d["acquired_on"],
                    price=d["price"],
                    notes=d["notes"],
                    loan_type=d["loan_type"],
                )
                for _n in range(count)
            ]
        except CatalogueError as error:
            form.add_error("barcode", error.message)
        else:
            messages.success(request, _("%(count)d copies added.") % {"count": len(added)})
            ids = ",".join(str(item.pk) for item in added)
            return redirect(reverse("catalogue:labels") + f"?items={ids}")
    return render(request, "catalogue/item_form.html", {"form": form, "record": record})


@require_GET
def labels(request: HttpRequest) -> HttpResponse:
    """Printable spine and barcode labels for the copies just added."""
    _librarian_only(request)
    try:
        ids = [int(i) for i in request.GET.get("items", "").split(",") if i]
    except ValueError as error:
        raise Http404 from error
    items = list(queries.readable_items(request.user).filter(pk__in=ids))
    return render(request, "catalogue/labels.html", {"items": items})


# --- Collections and faculties (librarians) -----------------------------------------------


@require_GET
def collection_list(request: HttpRequest) -> HttpResponse:
    """The library's collections and faculties, with how many records each gathers."""
    _librarian_only(request)
    collections = (
        queries.readable_collections(request.user)
        .annotate(record_count=Count("records"))
        .order_by("kind", "name")
    )
    return render(
        request,
        "catalogue/collection_list.html",
        {"collections": [(c, c.local_name) for c in collections]},
    )


@require_http_methods(["GET", "POST"])
def collection_create(request: HttpRequest) -> HttpResponse:
    _librarian_only(request)
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_collection(**form.to_fields(), by=request.user)  # type: ignore[arg-type]
        except CatalogueError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The collection is saved."))
            return redirect("catalogue:collections")
    return render(request, "catalogue/collection_form.html", {"form": form, "collection": None})


@require_http_methods(["GET", "POST"])
def collection_edit(request: HttpRequest, collection_id: int) -> HttpResponse:
    collection = queries.editable_collection(request.user, collection_id)
    form = CollectionForm(request.POST or None, initial=CollectionForm.initial_for(collection))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_collection(
                collection,
                by=request.user,  # type: ignore[arg-type]
                **form.to_fields(),
            )
        except CatalogueError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The collection is saved."))
            return redirect("catalogue:collections")
    return render(
        request,
        "catalogue/collection_form.html",
        {"form": form, "collection": collection, "record_count": collection.records.count()},
    )


@require_http_methods(["POST"])
def collection_delete(request: HttpRequest, collection_id: int) -> HttpResponse:
    """Delete a collection; one that gathers records only when the librarian says to take
    them out of it."""
    collection = queries.editable_collection(request.user, collection_id)
    try:
        services.delete_collection(
            collection,
            by=request.user,  # type: ignore[arg-type]
            detach=request.POST.get("detach") == "on",
        )
    except CatalogueError as error:
        messages.error(request, error.message)
        return redirect("catalogue:collection_edit", collection_id=collection.pk)
    messages.success(request, _("The collection is deleted."))
    return redirect("catalogue:collections")


# --- Imports from the pages ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    _librarian_only(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        folder = Path(settings.IMPORT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
        safe_name = Path(upload.name).name.replace(" ", "_")[:100]
        path = folder / f"{stamp}-{safe_name}"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        job = services.queue_import(
            path=path,
            file_name=safe_name,
            format=form.cleaned_data["format"],
            by=request.user,  # type: ignore[arg-type]
        )
        tasks.schedule_import(job.pk)
        return redirect("catalogue:import_detail", job_id=job.pk)
    jobs = queries.readable_import_jobs(request.user)[:20]
    return render(request, "catalogue/import_list.html", {"form": form, "jobs": jobs})


@require_GET
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = queries.access_import_job(request.user, job_id)
    template = (
        "catalogue/_import_progress.html"
        if request.headers.get("HX-Request")
        else "catalogue/import_detail.html"
    )
    return render(request, template, {"job": job})


@require_GET
def import_rejects(request: HttpRequest, job_id: int) -> FileResponse:
    job = queries.access_import_job(request.user, job_id)
    path = Path(job.path).with_suffix(".rejects.jsonl")
    if not path.exists():
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=f"{job.file_name}.rejects.jsonl"
    )


@require_GET
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = queries.access_item(request.user, item_id)
    if not is_librarian(request.user):
        return redirect(item.record)
    return render(request, "catalogue/item_detail.html", {"item": item})
