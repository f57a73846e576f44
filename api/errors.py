"""Every API error is ``{"error", "error_description", "error_uri", "message",
"description"}`` with Flattr's codes and statuses, never an HTML page.

Flattr's bodies came in two shapes: ``{"error", "error_description",
"error_uri"}`` (most errors) and ``{"message", "description"}`` (the lookup's
404 and the answers to writes). Clients read one or the other (flattrclient
reads ``error`` and ``error_description`` of every refusal), so each error
carries both: ``message`` is the code, ``description`` the human text."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from core.outage import (
    DATABASE_ERRORS,
    RETRY_AFTER_SECONDS,
    unavailable_description,
)

log = logging.getLogger(__name__)

# code -> status, as developers.flattr.net documents them (and our additions).
CODES = {
    "invalid_request": 400,
    "invalid_parameters": 400,
    "unauthorized": 401,
    "no_means": 401,
    "owes_balance": 402,
    "insufficient_scope": 403,
    "invalid_scope": 403,
    "rate_limit_exceeded": 403,
    "forbidden": 403,
    "flattr_once": 403,
    "flattr_owner": 403,
    "thing_owner": 403,
    "subscribed": 403,
    "auto_submit_refused": 403,
    "not_found": 404,
    "thing_unavailable": 404,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "server_error": 500,
    "temporarily_unavailable": 503,
}


class ApiError(exceptions.APIException):
    def __init__(self, code: str, description: str, status: int | None = None):
        self.status_code = status or CODES[code]
        self.error = code
        super().__init__(detail=description, code=code)


def error_uri(request) -> str:
    try:
        path = reverse("developers") + "#errors"
    except Exception:  # noqa: BLE001 - the developers page is optional here
        path = "/rest/v2"
    return request.build_absolute_uri(path) if request is not None else path


def error_body(request, code: str, description: str) -> dict:
    text = str(description)
    return {
        "error": code,
        "error_description": text,
        "error_uri": error_uri(request),
        "message": code,
        "description": text,
    }


def _describe(detail) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, messages in detail.items():
            text = " ".join(
                str(m) for m in (messages if isinstance(messages, list) else [messages])
            )
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return " ".join(parts)
    if isinstance(detail, list):
        return " ".join(str(m) for m in detail)
    return str(detail)


def exception_handler(exc, context) -> Response:
    request = context.get("request")
    headers = {}
    if isinstance(exc, ApiError):
        code, status, description = exc.error, exc.status_code, _describe(exc.detail)
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code, status = "unauthorized", 401
        description = _describe(exc.detail)
        headers["WWW-Authenticate"] = 'Bearer realm="flattr"'
    elif isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        code, status = "forbidden", 403
        description = _("You may not do this.")
    elif isinstance(exc, exceptions.NotFound | Http404):
        code, status, description = "not_found", 404, _("The resource was not found.")
    elif isinstance(exc, exceptions.ParseError):
        code, status, description = "invalid_request", 400, _describe(exc.detail)
    elif isinstance(exc, exceptions.ValidationError):
        code, status, description = "invalid_parameters", 400, _describe(exc.detail)
    elif isinstance(exc, exceptions.MethodNotAllowed):
        code, status, description = "method_not_allowed", 405, _describe(exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        # No DRF throttle runs on the API (the hourly limit answers 403, as
        # Flattr's did); one added later still answers in Flattr's words.
        code, status, description = "rate_limit_exceeded", 429, _describe(exc.detail)
        wait = getattr(exc, "wait", None)
        if wait is not None:
            headers["Retry-After"] = str(int(wait) + 1)
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        code, status, description = "unsupported_media_type", 415, _describe(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        code, status, description = "invalid_request", exc.status_code, _describe(exc.detail)
    elif isinstance(exc, DATABASE_ERRORS):
        # A database outage: the client should wait, not report a bug.
        log.warning("API: database unavailable: %s", exc)
        code, status, description = "temporarily_unavailable", 503, unavailable_description()
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    else:
        log.exception("API error", exc_info=exc)
        code, status = "server_error", 500
        description = _("Something went wrong on our side. Try again later.")
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="flattr"'
    return Response(error_body(request, code, description), status=status, headers=headers)


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Any unknown path under /rest/v2: JSON, never the HTML 404 page."""
    response = JsonResponse(
        error_body(request, "not_found", _("The resource was not found.")), status=404
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response
