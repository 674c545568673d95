"""The librarian's page of a record's digital files: upload, policies, removal, the licence.

Removing a licence is refused while readers borrow the title (the sentence says so): what a
reader borrowed is never taken away, as when the copies are lowered. Readers waiting for the
title lose their place.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kitobxon.catalogue.queries import access_record
from kitobxon.digital import errors, policy, queries
from kitobxon.digital.forms import FileForm, LicenceForm, UploadForm
from kitobxon.digital.models import DigitalFile, FileKind
from kitobxon.digital.services import files as file_services
from kitobxon.digital.services import licences as licence_services

MEDIA_KINDS = (FileKind.VIDEO, FileKind.AUDIO)


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, record_id: int) -> HttpResponse:
    if not policy.is_staff(request.user):
        raise Http404
    record = access_record(request.user, record_id)
    files = list(
        queries.readable_files(request.user)
        .filter(record=record)
        .select_related("caption_for")
        .order_by("position", "id")
    )
    media = [f for f in files if f.kind in MEDIA_KINDS]
    licence = queries.licence_for(record.pk)
    upload_form = UploadForm(media=media)
    licence_form = LicenceForm(
        initial={
            "copies": licence.copies if licence else 1,
            "loan_days": licence.loan_days if licence else 14,
            "valid_until": licence.valid_until if licence else None,
            "supplier": licence.supplier if licence else "",
        }
    )
    here = reverse("digital:manage", args=[record.pk])
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "upload":
                upload_form = UploadForm(request.POST, request.FILES, media=media)
                if upload_form.is_valid():
                    data = upload_form.cleaned_data
                    caption_for = upload_form.media_files.get(data["caption_for"] or 0)
                    file_services.attach_file(
                        record,
                        data["upload"],
                        by=request.user,
                        label=data["label"],
                        access=data["access"],
                        segments=data["segments"],
                        embargo_until=data["embargo_until"],
                        downloadable=data["downloadable"],
                        caption_for=caption_for,
                        caption_language=data["caption_language"],
                    )
                    messages.success(request, _("The file is stored; its text is being extracted."))
                    return HttpResponseRedirect(here)
            elif action in ("change", "remove"):
                file = _file_of(request, record.pk)
                if action == "remove":
                    file_services.remove_file(file, by=request.user)
                    messages.success(request, _("The file was removed."))
                    return HttpResponseRedirect(here)
                form = FileForm(request.POST, prefix=f"f{file.pk}")
                if form.is_valid():
                    data = form.cleaned_data
                    file_services.change_file(
                        file,
                        by=request.user,
                        label=data["label"],
                        access=data["access"],
                        segments=data["segments"],
                        embargo_until=data["embargo_until"],
                        downloadable=data["downloadable"],
                    )
                    messages.success(request, _("Saved."))
                    return HttpResponseRedirect(here)
                messages.error(request, _("Please correct the errors below."))
            elif action == "licence":
                licence_form = LicenceForm(request.POST)
                if licence_form.is_valid():
                    data = licence_form.cleaned_data
                    licence_services.save_licence(
                        record,
                        copies=data["copies"],
                        loan_days=data["loan_days"],
                        valid_until=data["valid_until"],
                        supplier=data["supplier"],
                        by=request.user,
                    )
                    messages.success(request, _("The licence is saved."))
                    return HttpResponseRedirect(here)
            elif action == "remove_licence":
                if licence is not None:
                    licence_services.remove_licence(licence, by=request.user)
                    messages.success(request, _("The licence is removed."))
                return HttpResponseRedirect(here)
        except errors.DigitalError as refusal:
            messages.error(request, refusal.message)
    rows = [
        (
            file,
            FileForm(
                prefix=f"f{file.pk}",
                initial={
                    "label": file.label,
                    "access": file.access,
                    "segments": file.segments,
                    "embargo_until": file.embargo_until,
                    "downloadable": file.downloadable,
                },
            ),
        )
        for file in files
    ]
    return render(
        request,
        "digital/manage.html",
        {
            "record": record,
            "rows": rows,
            "upload_form": upload_form,
            "licence": licence,
            "licence_form": licence_form,
            "loans_out": queries.loans_out(licence) if licence else 0,
        },
    )


def _file_of(request: HttpRequest, record_id: int) -> DigitalFile:
    try:
        file_id = int(request.POST.get("file", ""))
    except ValueError as exc:
        raise Http404 from exc
    file = queries.managed_file(request.user, file_id)
    if file.record_id != record_id:
        raise Http404
    return file


urlpatterns = [
    path("digital/records/<int:record_id>/files/", manage, name="manage"),
]
