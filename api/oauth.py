"""OAuth2 as Flattr's clients speak it, on django-oauth-toolkit.

- Scopes may be separated by commas as well as spaces.
- The token endpoint reads JSON bodies as well as form bodies (Flattr's own
  documentation shows a JSON token request) and answers ``token_type:
  "bearer"`` as Flattr did.
- PKCE is accepted from every client and required from public ones.
- The consent page is ours (our layout, English and French).
"""

from __future__ import annotations

import json

from django import forms
from django.http import QueryDict
from oauth2_provider import forms as oauth_forms
from oauth2_provider import views as oauth_views
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_backends import OAuthLibCore

from api.scopes import SCOPES, scopes_normalise


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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scopes = context.get("scopes") or []
        context["scope_descriptions"] = [(s, SCOPES.get(s, s)) for s in scopes]
        return context


class TokenView(oauth_views.TokenView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200 and response.get("Content-Type", "").startswith(
            "application/json"
        ):
            data = json.loads(response.content)
            if "token_type" in data:
                data["token_type"] = data["token_type"].lower()
                response.content = json.dumps(data).encode()
        return response


class RevokeTokenView(oauth_views.RevokeTokenView):
    pass
