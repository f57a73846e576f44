"""OAuth2 as Flattr's clients speak it, on django-oauth-toolkit.

- Scopes may be separated by commas as well as spaces.
- The token endpoint reads JSON bodies as well as form bodies (Flattr's own
  documentation shows a JSON token request) and answers ``token_type:
  "bearer"`` as Flattr did.
- PKCE is accepted from every client and required from public ones.
- The consent page is ours (our layout, English and French).
- Every error the client receives carries ``error_description`` (oauthlib
  leaves it out of most; Flattr's clients read it), in the token, revoke and
  authorize answers alike; the JSON ones also carry ``message`` and
  ``description`` like the REST API's errors (api/errors.py).
"""

from __future__ import annotations

import json

from django import forms
from django.http import JsonResponse, QueryDict
from django.utils.translation import gettext as _
from oauth2_provider import forms as oauth_forms
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_backends import OAuthLibCore

from api.scopes import SCOPES, scopes_normalise


def error_description(code: str) -> str:
    """A human reason for each OAuth2 error code (RFC 6749 4.1.2.1, 5.2;
    RFC 7009 2.2.1), for the errors oauthlib sends without one."""
    descriptions = {
        "invalid_request": _(
            "The request lacks a required parameter, repeats one, or is malformed."
        ),
        "invalid_client": _(
            "Client authentication failed: unknown client, wrong secret, or no credentials."
        ),
        "invalid_grant": _(
            "The authorization code or refresh token is invalid, expired, already used, "
            "or was issued to another client or redirect URI."
        ),
        "unauthorized_client": _("This client may not use this grant type."),
        "unsupported_grant_type": _("This grant type is not supported."),
        "invalid_scope": _("A requested scope is unknown or not allowed."),
        "access_denied": _("The person refused the authorization."),
        "unsupported_response_type": _(
            "This response type is not supported: use response_type=code."
        ),
        "unsupported_token_type": _("This type of token cannot be revoked here."),
        "server_error": _("Something went wrong on our side. Try again later."),
        "temporarily_unavailable": _("The service is temporarily unavailable. Try again later."),
    }
    return descriptions.get(code, _("The OAuth2 request was refused."))


def with_error_description(response):
    """The JSON error ``response`` with ``error_description`` (and the REST
    API's ``message`` and ``description``) filled in."""
    if response.status_code < 400 or not response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    try:
        data = json.loads(response.content or b"{}")
    except ValueError:
        return response
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return response
    if not data.get("error_description"):
        data["error_description"] = error_description(data["error"])
    data.setdefault("message", data["error"])
    data.setdefault("description", data["error_description"])
    response.content = json.dumps(data).encode()
    return response


def pkce_required(client_id: str) -> bool:
    """Public clients (no secret) must use PKCE; confidential ones may."""
    Application = get_application_model()
    client_type = (
        Application.objects.filter(client_id=client_id)
        .values_list("client_type", flat=True)
        .first()
    )
    return client_type != Application.CLIENT_CONFIDENTIAL


class FlattrOAuthLibCore(OAuthLibCore):
    def extract_body(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("application/json"):
            try:
                data = json.loads(request.body.decode("utf-8") or "{}")
            except (ValueError, UnicodeDecodeError, RecursionError):
                data = {}
            if not isinstance(data, dict):
                data = {}
            items = [(str(k), "" if v is None else str(v)) for k, v in data.items()]
        else:
            items = super().extract_body(request)
        return [(k, scopes_normalise(v) if k == "scope" else v) for k, v in items]


def _normalise_scope_param(request) -> None:
    raw = request.GET.get("scope")
    if raw is not None and (scopes_normalise(raw) != raw or not raw):
        query = request.GET.copy()
        if scopes_normalise(raw):
            query["scope"] = scopes_normalise(raw)
        else:  # "scope=" is no scope, as when it is left out
            del query["scope"]
        request.META["QUERY_STRING"] = query.urlencode()
        request.GET = QueryDict(request.META["QUERY_STRING"])


class AllowForm(oauth_forms.AllowForm):
    # Flattr's scope parameter is optional: no scope reads public data.
    scope = forms.CharField(widget=forms.HiddenInput, required=False)


class AuthorizationView(oauth_views.AuthorizationView):
    template_name = "api/authorize.html"
    form_class = AllowForm

    def get(self, request, *args, **kwargs):
        _normalise_scope_param(request)
        return super().get(request, *args, **kwargs)

    def error_response(self, error, application, **kwargs):
        # Errors sent back to the client's redirect URI get a description
        # too (oauthlib adds error_description only when it has one).
        oauthlib_error = error.oauthlib_error
        if not oauthlib_error.description:
            oauthlib_error.description = error_description(oauthlib_error.error)
        return super().error_response(error, application, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scopes = context.get("scopes") or []
        context["scope_descriptions"] = [(s, SCOPES.get(s, s)) for s in scopes]
        return context


class JsonMethodNotAllowed:
    """A GET (or any method but POST) on the token or revoke endpoint: 405
    with an OAuth2 error body, not Django's empty one."""

    def http_method_not_allowed(self, request, *args, **kwargs):
        response = JsonResponse(
            {
                "error": "invalid_request",
                "error_description": _("Use POST."),
                "message": "invalid_request",
                "description": _("Use POST."),
            },
            status=405,
        )
        response["Allow"] = "POST, OPTIONS"
        return response


class TokenView(JsonMethodNotAllowed, oauth_views.TokenView):
    def post(self, request, *args, **kwargs):
        response = with_error_description(super().post(request, *args, **kwargs))
        if response.status_code == 200 and response.get("Content-Type", "").startswith(
            "application/json"
        ):
            data = json.loads(response.content)
            if "token_type" in data:
                data["token_type"] = data["token_type"].lower()
                response.content = json.dumps(data).encode()
        return response


class RevokeTokenView(JsonMethodNotAllowed, oauth_views.RevokeTokenView):
    def post(self, request, *args, **kwargs):
        return with_error_description(super().post(request, *args, **kwargs))
