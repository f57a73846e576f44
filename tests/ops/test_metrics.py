"""/metrics: Prometheus text, for a bearer token or an internal address only."""

import re
import uuid

import pytest
from django.urls import reverse

from flattr_site.celery import app as celery_app
from payments.withdrawals import services as withdrawal_services
from tests.withdrawals.helpers import creator_with

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-scrape-token"


@pytest.fixture
def metrics_settings(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return settings


def scrape(client) -> str:
    response = client.get(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, number = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if series.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(number)
    raise AssertionError(f"{name} {labels} not in the metrics")


def test_a_token_is_required(client, metrics_settings):
    assert client.get(reverse("metrics")).status_code == 403
    wrong = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403 and b"flattr_" not in wrong.content
    assert "flattr_http_requests_total" in scrape(client)


def test_no_token_configured_refuses_every_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    response = client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403


def test_an_internal_address_needs_no_token(client, metrics_settings):
    metrics_settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get(reverse("metrics"), REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(reverse("metrics"), REMOTE_ADDR="192.0.2.7").status_code == 403


def test_requests_are_counted_and_timed_by_view(client, metrics_settings):
    before = scrape(client)
    try:
        start = value(before, "flattr_http_requests_total", view="healthz", status="200")
    except AssertionError:
        start = 0
    for _ in range(3):
        assert client.get(reverse("healthz")).status_code == 200
    text = scrape(client)
    assert value(text, "flattr_http_requests_total", view="healthz", status="200") == start + 3
    assert value(text, "flattr_http_request_duration_seconds_count", view="healthz") >= 3


def test_waiting_withdrawals_queues_and_tasks(client, metrics_settings, test_mode):
    creator = creator_with(50_000)
    withdrawal_services.withdrawal_request(user=creator, amount_cents=25_000)
    queue = f"flattr-test-{uuid.uuid4().hex}"
    metrics_settings.METRICS_CELERY_QUEUES = [queue]
    import redis

    broker = redis.Redis.from_url(metrics_settings.REDIS_URL)
    broker.rpush(queue, b"one", b"two", b"three")

    @celery_app.task(name=f"tests.ops.fails_{queue}")
    def fails():
        raise ValueError("no")

    try:
        # As a worker runs it (eager tests re-raise before Celery records it).
        assert fails.apply(throw=False).failed()
        text = scrape(client)
    finally:
        broker.delete(queue)
    assert value(text, "flattr_withdrawals_awaiting_review") == 1
    assert value(text, "flattr_celery_queue_length", queue=queue) == 3
    assert value(text, "flattr_celery_tasks_total", task=fails.name, outcome="failure") == 1
    assert value(text, "flattr_webhook_deliveries", status="failed") == 0
    assert value(text, "flattr_cache_available") == 1


def test_database_errors_are_counted(client, metrics_settings):
    from django.db import DatabaseError, connection, transaction

    before = scrape(client)
    try:
        start = value(before, "flattr_db_errors_total", kind="ProgrammingError")
    except AssertionError:
        start = 0
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    text = scrape(client)
    assert value(text, "flattr_db_errors_total", kind="ProgrammingError") == start + 1
