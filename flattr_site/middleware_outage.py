"""A database outage answers 503 with ``Retry-After``, not 500.

While PostgreSQL is down or restarting, every query raises
``OperationalError`` (or ``InterfaceError`` on a connection that was closed
under us). That is not a bug to page about but a moment to wait: the
answer says so, as an HTML page (``templates/503.html``, standalone: it
must render without the database) or as JSON under /rest/ and /oauth/.
The REST API's own exception handler (``api.errors``) answers the same for
its views. Dead pooled connections are replaced before reuse by
``CONN_HEALTH_CHECKS`` (settings).
"""

from __future__ import annotations

import logging

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from core.outage import DATABASE_ERRORS, RETRY_AFTER_SECONDS, unavailable_description

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/rest/", "/oauth/")


def unavailable_response(request) -> HttpResponse:
    if request.path_info.startswith(JSON_PREFIXES):
        from api.errors import error_body

        response: HttpResponse = JsonResponse(
            error_body(request, "temporarily_unavailable", unavailable_description()), status=503
        )
    else:
        # No request context: its processors would read the session and
        # the user, from the database that is away.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """503 + Retry-After for a view that met a database outage."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        log.warning("database unavailable on %s: %s", request.path_info, exception)
        return unavailable_response(request)
