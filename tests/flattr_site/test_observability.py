"""Request ids, JSON log lines and their way into Celery tasks."""

import io
import json
import logging

import pytest
from celery.signals import before_task_publish

from flattr_site.celery import app as celery_app
from flattr_site.observability import JsonLogFormatter, RequestIdFilter, request_id


@celery_app.task(name="tests.observability.current_request_id")
def current_request_id() -> str:
    return request_id.get()


@pytest.fixture
def json_log():
    """What the django.request logger writes, as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_every_response_names_its_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent, kept",
    [
        ("lb-7f3a:9", True),
        ("x" * 129, False),
        ("evil\nINFO forged line", False),
        ("", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_sane(client, sent, kept):
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"]
    assert (answered == sent) is kept
    assert "\n" not in answered


@pytest.mark.django_db
def test_log_lines_are_json_objects_carrying_the_request_id(client, json_log):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-42")
    (line,) = [entry for entry in json_log() if entry["message"].startswith("Not Found")]
    assert line["request_id"] == "req-42"
    assert line["level"] == "WARNING"
    assert line["name"] == "django.request"
    assert "time" in line


def test_a_task_queued_during_a_request_carries_its_id_in_the_message():
    token = request_id.set("req-99")
    try:
        headers: dict = {}
        before_task_publish.send(sender="payouts.tasks.payout_post", headers=headers, body=())
    finally:
        request_id.reset(token)
    assert headers["request_id"] == "req-99"


def test_the_task_runs_under_the_id_it_carries_and_restores_the_one_before():
    token = request_id.set("the-request")
    try:
        ran_with = current_request_id.apply(headers={"request_id": "req-99"}).get()
        assert ran_with == "req-99"
        assert request_id.get() == "the-request"
        # A task without an id (eager inside a request) keeps the request's.
        assert current_request_id.apply().get() == "the-request"
    finally:
        request_id.reset(token)


def test_without_a_dsn_sentry_is_not_started():
    from flattr_site.observability import sentry_init

    assert sentry_init(dsn="", environment="test", release="") is False
