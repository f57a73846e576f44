"""The input layer: one place that refuses what no view of ours can store or
parse, before any view, form, serializer or query sees it.

Refused with 400 and a reason (JSON ``{error, error_description,
error_uri}`` under /rest/ and /oauth/, text elsewhere):

- a NUL character or a lone UTF-16 surrogate anywhere in the path, the
  query string, a form field (name or value) or a JSON body (keys and
  values): PostgreSQL cannot store either in text, and psycopg cannot
  encode a surrogate;
- a JSON body nested deeper than ``MAX_JSON_DEPTH``: Python's parser
  recurses and a few thousand levels exhaust the stack;
- a pagination parameter (``PAGINATION_PARAMS``) that is a whole number
  past ``MAX_PAGE``: its offset would overflow the database's integers.

Bodies are only read for form and JSON content types, within Django's own
``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from django.http import HttpResponse, JsonResponse, QueryDict
from django.utils.translation import gettext as _

MAX_JSON_DEPTH = 64
MAX_PAGE = 1_000_000_000
PAGINATION_PARAMS = frozenset({"page", "per_page", "count", "offset", "limit"})
JSON_PREFIXES = ("/rest/", "/oauth/")

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile(r"\s*\+?[0-9]+\s*")


class Refused(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def json_too_deep(text: str, *, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` opens more than ``limit`` arrays or objects inside
    one another, counting brackets outside strings in one pass (no
    recursion, so it is safe on any input)."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _check_text(value: str) -> None:
    if _FORBIDDEN.search(value):
        raise Refused(
            _("The request contains a character that is not allowed (NUL or a lone surrogate).")
        )


def _check_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    for key, value in pairs:
        _check_text(key)
        _check_text(value)
        if key in PAGINATION_PARAMS and _DIGITS.fullmatch(value) and int(value) > MAX_PAGE:
            raise Refused(
                _("%(name)s is out of range (at most %(max)s).") % {"name": key, "max": MAX_PAGE}
            )


def _check_json(value) -> None:
    # Depth is bounded by MAX_JSON_DEPTH (checked first), so a stack is enough.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
    if isinstance(value, dict):
        _check_pairs(
            (k, str(v)) for k, v in value.items() if k in PAGINATION_PARAMS and type(v) is int
        )


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def check_request(request) -> None:
    """Raise ``Refused`` for a request the input layer does not let through."""
    _check_text(request.path_info)
    _check_pairs(_flat(request.GET))
    # Bodies are read whatever the method: a parser may read a GET's too.
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        # Not request.POST: it is empty for PUT and PATCH, which DRF parses.
        _check_pairs(_flat(QueryDict(request.body, encoding=request.encoding)))
    elif content_type.startswith("multipart/form-data") and request.method == "POST":
        # Read the body first so a view can still read request.body after.
        request.body  # noqa: B018
        _check_pairs(_flat(request.POST))
        for name, upload in request.FILES.items():
            _check_text(name)
            _check_text(upload.name or "")
    elif _is_json(content_type):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return  # the view's parser answers that one
        if json_too_deep(text):
            raise Refused(
                _("The JSON body is nested too deeply (at most %(max)s levels).")
                % {"max": MAX_JSON_DEPTH}
            )
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            return  # malformed JSON: the view's parser answers that one
        _check_json(data)


def _flat(query) -> list[tuple[str, str]]:
    return [(key, value) for key, values in query.lists() for value in values]


def refusal(request, reason: str) -> HttpResponse:
    if request.path_info.startswith(JSON_PREFIXES):
        from api.errors import error_body

        return JsonResponse(error_body(request, "invalid_request", reason), status=400)
    return HttpResponse(reason, status=400, content_type="text/plain; charset=utf-8")


class InputGuardMiddleware:
    """Refuse, with 400 and a reason, a request carrying input that no view
    can store or parse (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_request(request)
        except Refused as refused:
            return refusal(request, refused.reason)
        return self.get_response(request)
