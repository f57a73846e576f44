"""Prometheus metrics: ``/metrics`` (docs/operations.md, "Metrics").

Counted as things happen, in the process they happen in: requests by view
(rate, latency), database errors, cache errors, Celery task outcomes and
durations. Read from the database and Redis when scraped: Celery queue
lengths, withdrawals waiting for review, webhook deliveries by status, the
latest payout run's posting stages. With several processes (gunicorn
workers, Celery workers) set ``PROMETHEUS_MULTIPROC_DIR`` to one empty
directory they share: every process writes its counters there and the page
adds them up (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_success
from django.conf import settings
from django.db import DatabaseError
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "flattr_http_requests", "HTTP requests answered, by view", ["view", "method", "status"]
)
LATENCY = Histogram(
    "flattr_http_request_duration_seconds",
    "Time to answer an HTTP request, by view",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_ERRORS = Counter("flattr_db_errors", "Database statements that raised an error", ["kind"])
CACHE_ERRORS = Counter(
    "flattr_cache_outages", "Times the cache (Redis) became unreachable (a call failed)"
)
TASKS = Counter("flattr_celery_tasks", "Celery tasks finished, by outcome", ["task", "outcome"])
TASK_TIME = Histogram(
    "flattr_celery_task_duration_seconds",
    "Time a Celery task ran (the payout run's compute and posting stages included)",
    ["task"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)


# --- requests ----------------------------------------------------------------


class MetricsMiddleware:
    """Counts every request by its view's name (never its path: ids would
    make a series per thing) and times it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unresolved"
        LATENCY.labels(view).observe(time.perf_counter() - start)
        REQUESTS.labels(view, request.method or "", str(response.status_code)).inc()
        return response


# --- database and cache errors -----------------------------------------------


def _count_db_errors(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
    try:
        return execute(sql, params, many, context)
    except DatabaseError as exc:
        DB_ERRORS.labels(type(exc).__name__).inc()
        raise


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _count_db_errors not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_db_errors)


class _CacheErrorHandler(logging.Handler):
    """The fail-soft cache (core/cache.py) logs the failed call that
    starts each outage ("cache unavailable ..."); the page also shows
    whether its breaker is open now (flattr_cache_available)."""

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("cache unavailable"):
            CACHE_ERRORS.inc()


# --- Celery --------------------------------------------------------------------

_started: dict[str, float] = {}


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", sender) or "unknown")


def _on_prerun(task_id: str = "", **kwargs: Any) -> None:
    _started[task_id] = time.perf_counter()


def _on_postrun(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    start = _started.pop(task_id, None)
    if start is not None:
        TASK_TIME.labels(_task_name(task)).observe(time.perf_counter() - start)


def _outcome(outcome: str) -> Callable[..., None]:
    def handler(sender: Any = None, **kwargs: Any) -> None:
        TASKS.labels(_task_name(sender), outcome).inc()

    return handler


_HANDLERS = {
    "success": _outcome("success"),
    "failure": _outcome("failure"),
    "retry": _outcome("retry"),
}


# --- read when scraped ----------------------------------------------------------


def celery_queues() -> list[str]:
    names = {"celery", *getattr(settings, "METRICS_CELERY_QUEUES", ())}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


class StateCollector(Collector):
    """What an on-call person asks of the database and the broker, read at
    each scrape (a few indexed counts)."""

    def describe(self) -> list:
        # Registering asks for the names; nothing is read before a scrape.
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._queues()
        yield from self._database()
        from core import cache

        gauge = GaugeMetricFamily(
            "flattr_cache_available", "1 unless the cache's breaker is open after a failure"
        )
        gauge.add_metric(
            [], 0 if any(t > time.monotonic() for t in cache._open_until.values()) else 1
        )
        yield gauge

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "flattr_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        try:
            import redis

            url = settings.CELERY_BROKER_URL
            if url.startswith("redis+socket://"):  # kombu's spelling of a unix socket
                url = "unix://" + url.removeprefix("redis+socket://")
            client = redis.Redis.from_url(url, socket_timeout=2)
            for queue in celery_queues():
                gauge.add_metric([queue], client.llen(queue))
        except Exception:  # the page still answers; the gap is the signal
            logger.warning("metrics: the broker's queue lengths could not be read", exc_info=True)
        yield gauge

    def _database(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count, Max, Min

        from notifications.models import WebhookDelivery
        from payments.models import WebhookEvent
        from payments.withdrawals.models import Withdrawal, WithdrawalStatus
        from payouts.models import PayoutChunk, PayoutRun

        try:
            waiting = Withdrawal.objects.filter(status=WithdrawalStatus.AWAITING_REVIEW).count()
            deliveries = dict(WebhookDelivery.objects.values_list("status").annotate(n=Count("id")))
            received = dict(WebhookEvent.objects.values_list("result").annotate(n=Count("id")))
            run = PayoutRun.objects.order_by("-period").first()
            spans = []
            if run is not None:
                for stage in ("posting:supporters", "posting:creators", "posting:settlements"):
                    span = PayoutChunk.objects.filter(
                        run=run, stage=stage, done_at__isnull=False
                    ).aggregate(first=Min("done_at"), last=Max("done_at"))
                    if span["first"] is not None and span["last"] is not None:
                        spans.append((stage, (span["last"] - span["first"]).total_seconds()))
        except DatabaseError:
            logger.warning("metrics: the database could not be read", exc_info=True)
            return
        gauge = GaugeMetricFamily(
            "flattr_withdrawals_awaiting_review", "Withdrawals waiting for a person's review"
        )
        gauge.add_metric([], waiting)
        yield gauge
        gauge = GaugeMetricFamily(
            "flattr_webhook_deliveries",
            "Outgoing webhook deliveries by status (failed: gave up)",
            labels=["status"],
        )
        for status in ("pending", "succeeded", "failed"):
            gauge.add_metric([status], deliveries.get(status, 0))
        yield gauge
        gauge = GaugeMetricFamily(
            "flattr_stripe_webhooks_received",
            "Stripe webhook events received, by result",
            labels=["result"],
        )
        for result, n in sorted(received.items()):
            gauge.add_metric([result], n)
        yield gauge
        gauge = GaugeMetricFamily(
            "flattr_payout_posting_stage_seconds",
            "The latest payout run's posting stages: first to last chunk done",
            labels=["period", "stage"],
        )
        for stage, seconds in spans:
            gauge.add_metric([run.label if run else "", stage], seconds)
        yield gauge


_installed = False


def install() -> None:
    """Connect the signal handlers and the scrape-time collector (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    connection_created.connect(_on_connection, dispatch_uid="ops.metrics.db_errors")
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        _on_connection(None, conn)
    logging.getLogger("core.cache").addHandler(_CacheErrorHandler())
    task_prerun.connect(_on_prerun, weak=False)
    task_postrun.connect(_on_postrun, weak=False)
    task_success.connect(_HANDLERS["success"], weak=False)
    task_failure.connect(_HANDLERS["failure"], weak=False)
    task_retry.connect(_HANDLERS["retry"], weak=False)
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        REGISTRY.register(StateCollector())


# --- the page ---------------------------------------------------------------------


def allowed(request: HttpRequest) -> bool:
    """A bearer token equal to METRICS_TOKEN, or (no token sent) a peer in
    METRICS_ALLOWED_NETWORKS (none by default)."""
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return bool(token) and hmac.compare_digest(header[7:].strip(), token)
    networks = getattr(settings, "METRICS_ALLOWED_NETWORKS", ())
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(n, strict=False) for n in networks)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(StateCollector())
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        response = HttpResponse(
            "Forbidden: a bearer token (METRICS_TOKEN) is required.\n", status=403
        )
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
