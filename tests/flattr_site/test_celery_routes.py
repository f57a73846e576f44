"""Strangers' servers never hold the workers of money: the fetches of claim
checks and webhooks have their own queues, mail its own, and every queue a
task can be routed to is consumed by `make run` and docker-compose."""

import importlib.util
import re
from pathlib import Path

import pytest
from django.conf import settings

from flattr_site.celery import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def tasks_loaded():
    """As a worker does at start: every app's tasks module is imported."""
    app.loader.import_default_modules()


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name, (), {})["queue"].name


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("claims.tasks.claim_check", "fetch"),
        ("notifications.tasks.webhook_deliver", "webhooks"),
        ("notifications.tasks.email_send", "mail"),
        ("payouts.tasks.payout_post", "celery"),
        ("payouts.tasks.payout_post_chunk", "celery"),
        ("payouts.tasks.payout_sweep", "celery"),
        ("payments.withdrawals.tasks.withdrawal_pay", "celery"),
        ("payments.withdrawals.tasks.withdrawal_sweep_stuck", "celery"),
        ("notifications.tasks.events_dispatch", "celery"),
    ],
)
def test_each_task_goes_to_its_queue(task, queue):
    assert task in app.tasks  # a renamed task would silently fall to the default
    assert queue_of(task) == queue


def test_no_task_that_fetches_shares_the_money_queue():
    fetching = {"claims.tasks.claim_check", "notifications.tasks.webhook_deliver"}
    money = {
        name
        for name in app.tasks
        if name.startswith(("payouts.", "payments.")) and not name.startswith("celery.")
    }
    assert money, "the money tasks were not found"
    assert {queue_of(t) for t in fetching}.isdisjoint({queue_of(t) for t in money})


def _all_queues() -> set[str]:
    return {settings.CELERY_TASK_DEFAULT_QUEUE} | {
        route["queue"] for route in settings.CELERY_TASK_ROUTES.values()
    }


def test_make_run_consumes_every_queue():
    spec = importlib.util.spec_from_file_location("devctl", ROOT / "scripts" / "devctl.py")
    devctl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(devctl)
    consumed = [q for queues in devctl.WORKER_QUEUES.values() for q in queues.split(",")]
    assert sorted(consumed) == sorted(_all_queues())
    # The fetches have a worker of their own, apart from money and mail.
    fetcher = next(q for q in devctl.WORKER_QUEUES.values() if "webhooks" in q.split(","))
    assert not {"celery", "mail"} & set(fetcher.split(","))


def test_docker_compose_consumes_every_queue():
    compose = (ROOT / "docker-compose.yml").read_text()
    consumed = set()
    for queues in re.findall(r"celery -A flattr_site worker -Q (\S+)", compose):
        consumed |= set(queues.split(","))
    assert consumed == _all_queues()
