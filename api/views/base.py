"""What every REST v2 resource shares: bearer authentication, scopes,
Flattr's error bodies, the hourly rate limit and its headers, CORS for
reads, JSON whatever the Accept header says, form or JSON bodies,
``_method=patch`` for clients that cannot send PATCH, and the lookups that
answer not_found."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from api import errors, selectors
from api.authentication import BearerAuthentication
from api.ratelimit import rate_hit
from api.representations import Urls
from core.db_router import replica_authenticated
from core.http import client_ip

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
OVERRIDABLE = {"PATCH", "PUT", "DELETE"}


class StreamJSONRenderer(JSONRenderer):
    """Activity Streams' media type; the body is the same JSON."""

    media_type = "application/stream+json"
    format = "as"


class JSONNegotiation(DefaultContentNegotiation):
    """JSON for every Accept header (never 406): Flattr's clients send
    ``application/stream+json``, ``*/*`` or nothing and all expect JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "")
        if "application/stream+json" in accept:
            for renderer in renderers:
                if isinstance(renderer, StreamJSONRenderer):
                    return renderer, renderer.media_type
        for renderer in renderers:
            if type(renderer) is JSONRenderer:
                return renderer, renderer.media_type
        return renderers[0], renderers[0].media_type


def parse_bool(value, *, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise errors.ApiError(
        "invalid_parameters", _("%(name)s must be true or false.") % {"name": name}
    )


def parse_int(value, *, name: str, default: int, low: int, high: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or number < low or (high is not None and number > high):
        limits = f"{low}-{high}" if high is not None else f">= {low}"
        raise errors.ApiError(
            "invalid_parameters",
            _("%(name)s must be a whole number (%(limits)s).") % {"name": name, "limits": limits},
        )
    return number


class ApiView(APIView):
    authentication_classes = [BearerAuthentication]
    permission_classes: list = []
    renderer_classes = [JSONRenderer, StreamJSONRenderer]
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    content_negotiation_class = JSONNegotiation
    throttle_classes: list = []
    # method -> scope the token needs; methods listed in ``login`` need a
    # token but no scope.
    scopes: dict[str, str] = {}
    login: set[str] = set()
    rate_limited = True

    def get_exception_handler(self):
        return errors.exception_handler

    # --- request handling ----------------------------------------------------

    def dispatch(self, request, *args, **kwargs):
        override = self._method_override(request)
        if override:
            request.method = override
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _method_override(request) -> str | None:
        if request.method != "POST":
            return None
        value = request.GET.get("_method")
        content_type = request.META.get("CONTENT_TYPE", "")
        if (
            value is None
            and content_type.startswith(("application/x-www-form-urlencoded", "multipart/"))
            and _small(request)
        ):
            value = request.POST.get("_method")
        elif value is None and content_type.startswith("application/json") and _small(request):
            try:
                data = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                data = None
            if isinstance(data, dict) and isinstance(data.get("_method"), str):
                value = data["_method"]
        value = (value or "").upper()
        return value if value in OVERRIDABLE else None

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        if not _small(request):
            raise errors.ApiError(
                "invalid_request",
                _("The request body is too large (at most %(n)s bytes).")
                % {"n": settings.FLATTR_API_MAX_BODY_BYTES},
            )
        self.urls = Urls(request)
        user = request.user  # authenticates; a bad token raises here
        self.rate = None
        if self.rate_limited:
            ident = request.auth.ident if request.auth else f"ip:{client_ip(request)}"
            self.rate = rate_hit(ident=ident)
            if self.rate is not None and self.rate.exceeded:
                raise errors.ApiError(
                    "rate_limit_exceeded",
                    _("Too many requests this hour. Wait until %(reset)s (Unix time).")
                    % {"reset": self.rate.reset},
                )
        method = request.method.upper()
        if method in self.scopes or method in self.login:
            if not user.is_authenticated:
                raise errors.ApiError(
                    "unauthorized", _("This resource needs an access token."), 401
                )
            scope = self.scopes.get(method)
            if scope and scope not in request.auth.scopes:
                raise errors.ApiError(
                    "insufficient_scope",
                    _("The token lacks the scope “%(scope)s”.") % {"scope": scope},
                )
        # The token is checked (on the primary): a replica-marked view's reads
        # may go to the replica now (core/db_router.py).
        replica_authenticated(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        return self.finish_headers(request, response)

    def finish_headers(self, request, response):
        rate = getattr(self, "rate", None)
        if rate is not None:
            for name, value in rate.headers().items():
                response[name] = value
        if request.method in ("GET", "HEAD"):
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = (
                "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Current, "
                "X-RateLimit-Reset, Location"
            )
        response["Cache-Control"] = "no-store"
        patch_vary_headers(response, ["Authorization"])
        return response

    def plain_response(self, request, data, status: int = 200) -> HttpResponse:
        """What DRF's machinery would answer with ``data`` (JSONRenderer's
        bytes, the Allow and Vary headers of finalize_response, then ours),
        without it: for hot paths that skip DRF's request and response."""
        response = HttpResponse(json_bytes(data), content_type="application/json", status=status)
        patch_vary_headers(response, ["Accept"])
        response["Allow"] = ", ".join(self.allowed_methods)
        return self.finish_headers(request, response)

    def refusal_response(self, request, refusal: errors.ApiError) -> HttpResponse:
        """``refusal`` answered as the general path's exception handler
        answers it (errors.exception_handler)."""
        body = errors.error_body(request, refusal.error, str(refusal.detail))
        response = self.plain_response(request, body, refusal.status_code)
        if refusal.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="flattr"'
        return response

    def rate_refusal(self, request) -> HttpResponse:
        """The answer to a caller over the hourly limit (``self.rate``)."""
        assert self.rate is not None
        description = _("Too many requests this hour. Wait until %(reset)s (Unix time).") % {
            "reset": self.rate.reset
        }
        return self.refusal_response(request, errors.ApiError("rate_limit_exceeded", description))

    def options(self, request, *args, **kwargs):
        """CORS preflight: reads are open to every origin."""
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Authorization, Accept, Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        return response

    # --- helpers ------------------------------------------------------------------

    def viewer(self):
        user = self.request.user
        return user if user.is_authenticated else None

    def token_scopes(self) -> frozenset[str]:
        auth = self.request.auth
        return auth.scopes if auth is not None else frozenset()

    def data(self) -> dict:
        """The body as a flat dict, from JSON or a form."""
        data = self.request.data
        if hasattr(data, "dict"):
            return {
                k: (v if len(vs := data.getlist(k)) < 2 else vs) for k, v in data.dict().items()
            }
        if not isinstance(data, dict):
            raise errors.ApiError("invalid_request", _("The body must be a JSON object."))
        return data

    def full(self) -> bool:
        return parse_bool(self.request.query_params.get("full", "0"), name="full")

    def page_and_count(self) -> tuple[int, int]:
        params = self.request.query_params
        count = parse_int(params.get("count"), name="count", default=30, low=1, high=100)
        page = parse_int(params.get("page"), name="page", default=1, low=1, high=100_000)
        return page, count


def json_bytes(data) -> bytes:
    """``data`` as DRF's JSONRenderer writes it with our settings (compact,
    UTF-8, NaN refused, U+2028/U+2029 escaped for JavaScript)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _small(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length <= settings.FLATTR_API_MAX_BODY_BYTES


def paginate(qs, page: int, count: int) -> list:
    start = (page - 1) * count
    return list(qs[start : start + count])


def thing_or_404(pk: int, viewer=None):
    thing = selectors.thing_get(pk=pk, viewer=viewer)
    if thing is None:
        raise errors.ApiError("not_found", _("No thing with this id."))
    return thing


def user_or_404(username: str):
    user = selectors.user_by_username(username=username)
    if user is None:
        raise errors.ApiError("not_found", _("No such user."))
    return user
