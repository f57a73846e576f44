import logging
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from flattr_site.celery import app as celery_app

logger = logging.getLogger(__name__)


def home(request):
    return render(request, "home.html")


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    cache.set("healthz", "ok", timeout=10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("cache did not return what was stored")


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@never_cache
@require_GET
def healthz(request):
    """200 with every part ``ok``; 503 naming the part that failed."""
    result = {}
    for name, check in CHECKS.items():
        try:
            check()
            result[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a health check reports any failure
            logger.warning("healthz: %s failed: %s", name, exc)
            result[name] = "error"
    status = 200 if all(v == "ok" for v in result.values()) else 503
    return JsonResponse(result, status=status)


@lru_cache(maxsize=1)
def _favicon() -> bytes:
    return (settings.BASE_DIR / "static" / "img" / "flattr.svg").read_bytes()


@require_GET
def favicon(request):
    """``/favicon.ico`` for clients that ask before reading the page's icon
    link (and for pages without one, like JSON answers): no 404 per visit."""
    response = HttpResponse(_favicon(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
