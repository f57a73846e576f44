"""Request ids in every log line, carried from a request into the Celery
tasks it queues; JSON log lines for production; optional Sentry.

A request gets the id its ``X-Request-ID`` header names (when it looks like
one: a proxy or load balancer sets it) or a fresh one, answers with it in
``X-Request-ID``, and every log record made while handling it carries it. A
task published meanwhile carries it in its message headers, and the worker
puts it back while the task runs, so one id follows one click end to end.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
# What we accept from outside: short, and nothing that could forge a log line.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id: ContextVar[str] = ContextVar("request_id", default="")


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_from_header(value: str | None) -> str:
    """The caller's id if it is a sane one, else a fresh one."""
    if value and _VALID.match(value):
        return value
    return request_id_new()


class RequestIdMiddleware:
    """Sets the request id for the request's logs and answers with it.

    The id stays set in this thread (or task) until the next request sets
    its own: Django logs a response (``django.request``) after the
    middleware chain has returned, and that line should carry it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id_from_header(request.headers.get(HEADER))
        request_id.set(rid)
        request.request_id = rid  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, request id,
    and whatever ``extra=`` the call passed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level"})
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs
        )


# --- Celery: the id travels in the task message's headers -------------------


@before_task_publish.connect
def _request_id_into_task_headers(headers: dict | None = None, **kwargs: Any) -> None:
    rid = request_id.get()
    if rid and headers is not None:
        headers.setdefault("request_id", rid)


# Tokens to restore what was set before a task ran (an eager task inside a
# request must not wipe the request's id), by task id.
_task_tokens: dict[str, Token[str]] = {}


@task_prerun.connect
def _request_id_from_task_headers(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    if task is None:
        return
    # A worker merges custom message headers into the request; an eager
    # apply(headers=...) keeps them under ``headers``.
    rid = task.request.get("request_id") or (task.request.get("headers") or {}).get("request_id")
    if isinstance(rid, str) and _VALID.match(rid):
        _task_tokens[task_id] = request_id.set(rid)


@task_postrun.connect
def _request_id_restored(task_id: str = "", **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)


# --- Sentry ------------------------------------------------------------------


def sentry_init(*, dsn: str, environment: str, release: str) -> bool:
    """Report errors to Sentry when a DSN is set; nothing is sent otherwise.
    No personal data (e-mails, IP addresses) leaves with an event."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
    return True
