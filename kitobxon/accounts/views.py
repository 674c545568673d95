from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from kitobxon.accounts import queries, services
from kitobxon.accounts.errors import AccountError
from kitobxon.accounts.forms import (
    AccessTokenForm,
    DeleteAccountForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
)
from kitobxon.accounts.models import User
from kitobxon.core.i18n import supported


def _base_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _remember_language(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        # The interface follows the reader from device to device.
        _remember_language(response, form.get_user().preferred_language)
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegistrationForm(
        request.POST or None,
        initial={"preferred_language": getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.register(
            email=data["email"],
            password=data["password1"],
            full_name=data["full_name"],
            segment=data["segment"],
            faculty=data["faculty"],
            preferred_language=data["preferred_language"],
            base_url=_base_url(request),
        )
        return redirect("accounts:registered")
    return render(request, "accounts/register.html", {"form": form})


def registered(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/registered.html")


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.confirm_email(token)
    except AccountError as error:
        return render(request, "accounts/confirm_failed.html", {"error": error.message}, status=400)
    messages.success(request, _("Your e-mail address is confirmed. You can sign in now."))
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(
        request.POST or None,
        initial={
            "full_name": user.full_name,
            "faculty": user.faculty,
            "preferred_language": user.preferred_language,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.update_profile(user, by=user, **form.cleaned_data)
        messages.success(request, _("Your profile is saved."))
        response = redirect("accounts:profile")
        _remember_language(response, user.preferred_language)
        return response
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "token_form": AccessTokenForm(),
            "tokens": queries.readable_access_tokens(user),
        },
    )


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = AccessTokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = services.create_access_token(
                user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except AccountError as error:
            messages.error(request, error.message)
        else:
            return render(
                request, "accounts/token_created.html", {"token": token, "secret": secret}
            )
    else:
        messages.error(request, _("Give the token a name."))
    return redirect(reverse("accounts:profile") + "#tokens")


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = queries.access_access_token(request.user, token_id)
    services.revoke_access_token(token, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect(reverse("accounts:profile") + "#tokens")


@login_required
@require_http_methods(["GET", "POST"])
def privacy(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_account(user, password=form.cleaned_data["password"], by=user)
        except AccountError as error:
            form.add_error("password", error.message)
        else:
            logout(request)
            messages.success(request, _("Your account and personal data have been erased."))
            return redirect("core:home")
    return render(request, "accounts/privacy.html", {"form": form})


@login_required
def export_data(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    data = services.export_personal_data(user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="kitobxon-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a signed-in reader keeps it as their preference."""
    language = supported(request.POST.get("language"))
    if language and request.user.is_authenticated:
        services.set_preferred_language(request.user, language)
    return django_set_language(request)


password_reset = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset_form.html",
    email_template_name="accounts/email/password_reset.txt",
    subject_template_name="accounts/email/password_reset_subject.txt",
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="accounts/password_reset_confirm.html",
    success_url=reverse_lazy("accounts:password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)
