"""The desk's settings: the loan rules matrix and each branch's calendar, saved by the
matrix services (audited)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kitobxon.catalogue.models import Branch
from kitobxon.circulation import services
from kitobxon.circulation.errors import CirculationError
from kitobxon.circulation.forms import ClosureDayForm, LoanRuleForm, OpeningHoursForm
from kitobxon.circulation.models import ClosureDay, LoanRule, OpeningHours
from kitobxon.circulation.views.desk_common import all_branches, desk_branch, librarian


@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """The matrix: reader segment × loan type × branch; the most specific rule wins."""
    librarian(request)
    matrix = list(LoanRule.objects.select_related("branch"))
    return render(request, "circulation/desk_rules.html", {"rules": matrix, "desk_page": "rules"})


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    user = librarian(request)
    rule = get_object_or_404(LoanRule, pk=rule_id) if rule_id else LoanRule()
    form = LoanRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_rule(form.instance, by=user)
        except CirculationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The loan rule is saved."))
            return redirect("circulation:desk_rules")
    return render(
        request,
        "circulation/desk_rule_form.html",
        {"form": form, "rule": rule if rule.pk else None, "desk_page": "rules"},
        status=400 if form.errors else 200,
    )


@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    user = librarian(request)
    rule = get_object_or_404(LoanRule, pk=rule_id)
    services.delete_rule(rule, by=user)
    messages.success(request, _("The loan rule is deleted."))
    return redirect("circulation:desk_rules")


def _calendar_branch(request: HttpRequest) -> Branch | None:
    chosen = request.GET.get("branch") or request.POST.get("branch") or ""
    if chosen.isdigit():
        return get_object_or_404(Branch, pk=int(chosen))
    return desk_branch(request)


def _calendar_page(
    request: HttpRequest,
    *,
    hours_form: OpeningHoursForm | None = None,
    closure_form: ClosureDayForm | None = None,
) -> HttpResponse:
    branch = _calendar_branch(request)
    by_day = (
        {row.weekday: row for row in OpeningHours.objects.filter(branch=branch)} if branch else {}
    )
    week = [
        {
            "weekday": value,
            "label": label,
            "hours": by_day.get(value),
            "form": hours_form
            if hours_form is not None and hours_form.data.get("weekday") == str(value)
            else OpeningHoursForm(
                initial={
                    "weekday": value,
                    "opens": by_day[value].opens if value in by_day else None,
                    "closes": by_day[value].closes if value in by_day else None,
                },
                auto_id=f"id_day{value}_%s",
            ),
        }
        for value, label in OpeningHours.Weekday.choices
    ]
    since = timezone.localdate() - timedelta(days=31)
    closures = ClosureDay.objects.filter(date__gte=since).select_related("branch")
    if branch is not None:
        closures = closures.filter(branch__isnull=True) | closures.filter(branch=branch)
    return render(
        request,
        "circulation/desk_calendar.html",
        {
            "desk_page": "calendar",
            "branch": branch,
            "branches": all_branches(),
            "week": week,
            "has_hours": bool(by_day),
            "closures": closures.order_by("date"),
            "closure_form": closure_form or ClosureDayForm(initial={"branch": branch}),
        },
        status=400 if (hours_form or closure_form) else 200,
    )


@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    librarian(request)
    return _calendar_page(request)


@require_POST
def calendar_hours(request: HttpRequest) -> HttpResponse:
    """Set one weekday's hours of a branch; both times empty closes it that day."""
    user = librarian(request)
    branch = _calendar_branch(request)
    form = OpeningHoursForm(request.POST, auto_id=f"id_day{request.POST.get('weekday', '')}_%s")
    if branch is not None and form.is_valid():
        try:
            services.set_opening_hours(
                branch,
                form.cleaned_data["weekday"],
                opens=form.cleaned_data["opens"],
                closes=form.cleaned_data["closes"],
                by=user,
            )
        except CirculationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The opening hours are saved."))
            return redirect(f"{reverse('circulation:desk_calendar')}?branch={branch.pk}")
    return _calendar_page(request, hours_form=form)


@require_POST
def closure_add(request: HttpRequest) -> HttpResponse:
    user = librarian(request)
    form = ClosureDayForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        services.add_closure_day(d["date"], d["reason"], branch=d["branch"], by=user)
        messages.success(request, _("The closure day is saved."))
        return redirect("circulation:desk_calendar")
    return _calendar_page(request, closure_form=form)


@require_POST
def closure_remove(request: HttpRequest, closure_id: int) -> HttpResponse:
    user = librarian(request)
    closure = get_object_or_404(ClosureDay, pk=closure_id)
    services.remove_closure_day(closure, by=user)
    messages.success(request, _("The closure day is removed."))
    return redirect("circulation:desk_calendar")


urlpatterns: list[URLPattern] = [
    path("desk/rules/", rules, name="desk_rules"),
    path("desk/rules/new/", rule_edit, name="desk_rule_new"),
    path("desk/rules/<int:rule_id>/", rule_edit, name="desk_rule_edit"),
    path("desk/rules/<int:rule_id>/delete/", rule_delete, name="desk_rule_delete"),
    path("desk/calendar/", calendar, name="desk_calendar"),
    path("desk/calendar/hours/", calendar_hours, name="desk_hours"),
    path("desk/calendar/closures/", closure_add, name="desk_closure_add"),
    path(
        "desk/calendar/closures/<int:closure_id>/delete/",
        closure_remove,
        name="desk_closure_remove",
    ),
]
