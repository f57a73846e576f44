"""The developer pages: the Developers guide, the API reference, developer
applications, authorised applications and personal access tokens."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from oauth2_provider.models import get_access_token_model, get_application_model

from api import services
from api.forms import ApplicationForm, PersonalTokenForm
from api.models import PersonalToken
from api.scopes import SCOPES
from core.forms import form_add_refusal


def developers(request):
    return render(
        request,
        "api/developers.html",
        {
            "scopes": SCOPES.items(),
            "rate_limit": settings.FLATTR_API_RATE_LIMIT,
            "api_base": request.build_absolute_uri("/rest/v2"),
            "authorize_url": request.build_absolute_uri("/oauth/authorize"),
            "token_url": request.build_absolute_uri("/oauth/token"),
            "revoke_url": request.build_absolute_uri("/oauth/revoke"),
            "site": request.build_absolute_uri("/").rstrip("/"),
        },
    )


class ApiReference(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's static files (no CDN); its
    settings come as a separate script, so no inline script is needed."""

    url_name = "api_openapi"
    template_name = "api/swagger_ui.html"  # drf-spectacular's, with <html lang>
    authentication_classes: list = []
    permission_classes: list = []


api_reference = ApiReference.as_view()


class ApiReferenceRedoc(SpectacularRedocView):
    """The same reference read with ReDoc (drf-spectacular-sidecar's copy, no
    CDN, no web fonts), in the page's language and with colours that pass
    WCAG AA; Swagger UI's own markup fails axe in ways we cannot change."""

    url_name = "api_openapi"
    template_name = "api/redoc.html"
    authentication_classes: list = []
    permission_classes: list = []


api_reference_redoc = ApiReferenceRedoc.as_view()


def _create_once_page(
    request,
    template: str,
    form_class: type[forms.Form],
    create: Callable[[dict], dict],
    **context,
) -> HttpResponse:
    """A page whose form makes something shown once (a client secret, a
    token): a valid POST calls ``create`` with the cleaned data; what it
    refuses lands on the form. The template gets the form (blank after a
    success), what ``create`` returned as ``created`` (None before or on
    failure) and ``context`` (querysets, so read after ``create``); a
    refused POST answers 400."""
    form = form_class(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = create(form.cleaned_data)
        except ValidationError as exc:
            form_add_refusal(form, exc)
        else:
            form = form_class()
    status = 400 if request.method == "POST" and created is None else 200
    return render(request, template, {"form": form, "created": created, **context}, status=status)


@login_required
def developer_apps(request):
    def register(data: dict) -> dict:
        app, secret = services.application_register(
            user=request.user,
            name=data["name"],
            redirect_uris=data["redirect_uris"],
            client_type=data["client_type"],
        )
        return {"app": app, "secret": secret}

    return _create_once_page(
        request,
        "api/developer_apps.html",
        ApplicationForm,
        register,
        apps=get_application_model().objects.filter(user=request.user).order_by("-created"),
    )


@login_required
@require_POST
def developer_app_delete(request, pk: int):
    if services.application_delete(user=request.user, application_id=pk):
        messages.success(request, _("The application was deleted and its tokens revoked."))
    return redirect("developer_apps")


@login_required
def authorised_apps(request):
    AccessToken = get_access_token_model()
    rows = (
        AccessToken.objects.filter(user=request.user, application__isnull=False)
        .values("application_id", "application__name")
        .annotate(tokens=Count("id"), last=Max("created"))
        .order_by("application__name")
    )
    return render(request, "api/authorised_apps.html", {"rows": rows})


@login_required
@require_POST
def authorised_app_revoke(request, pk: int):
    services.authorised_app_revoke(user=request.user, application_id=pk)
    messages.success(request, _("The application can no longer use your account."))
    return redirect("authorised_apps")


@login_required
def personal_tokens(request):
    def create(data: dict) -> dict:
        token, raw = services.personal_token_create(
            user=request.user, name=data["name"], scopes=" ".join(data["scopes"])
        )
        return {"token": token, "raw": raw}

    return _create_once_page(
        request,
        "api/personal_tokens.html",
        PersonalTokenForm,
        create,
        tokens=PersonalToken.objects.filter(user=request.user, revoked_at__isnull=True).order_by(
            "-created_at"
        ),
    )


@login_required
@require_POST
def personal_token_revoke(request, pk: int):
    if services.personal_token_revoke(user=request.user, token_id=pk):
        messages.success(request, _("The token was revoked."))
    return redirect("personal_tokens")
