"""Batched dispatch (notifications/queue.py): a flattr's event is queued in
the round trip of its counters, a burst announces one drain, and nothing is
lost with Redis or the broker away: the database row is the truth and the
sweeper finds it."""

import datetime as dt

import pytest
from celery.signals import task_prerun
from django.core.cache import cache
from django.utils import timezone
from kombu.exceptions import OperationalError

from buttons.services import flattr_create
from core import cache as fail_soft
from notifications import queue, tasks
from notifications.models import Event
from tests.factories import supporter, thing

# Committed for real: outside a transaction the flattr is one statement and
# its on-commit work runs at once, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def drains():
    """The drains that ran (eagerly in tests, as a worker would)."""
    ran: list[str] = []

    def count(sender=None, **kwargs):
        if sender is not None and sender.name == tasks.events_drain.name:
            ran.append(kwargs["task_id"])

    task_prerun.connect(count, weak=False)
    yield ran
    task_prerun.disconnect(count)


def _flattr_event() -> Event:
    flattr = flattr_create(supporter=supporter(), thing=thing())
    return Event.objects.get(key=f"flattr:{flattr.pk}")


def test_a_flattrs_event_is_dispatched_by_the_drain_it_announces(drains):
    event = _flattr_event()
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert len(drains) == 1
    assert queue.take() == []


def test_while_a_drain_is_announced_a_burst_queues_and_announces_nothing_more(drains):
    cache.set(queue.SOON_KEY, "1", 30)  # a drain is on its way
    events = [_flattr_event() for _ in range(3)]
    assert drains == []
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 3

    assert tasks.events_drain() == 0  # beat, or the announced drain
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 0
    assert {e.key for e in events} == set(
        Event.objects.filter(dispatched_at__isnull=False).values_list("key", flat=True)
    )
    # The drain took the flag down: the next flattr announces a drain again.
    _flattr_event()
    assert len(drains) == 1
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 0


def test_with_the_broker_down_the_flattr_answers_and_beat_dispatches_its_event(monkeypatch):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    with monkeypatch.context() as m:
        m.setattr(tasks.events_drain, "apply_async", broker_down)
        event = _flattr_event()
    event.refresh_from_db()
    assert event.dispatched_at is None
    tasks.events_drain()  # beat's, every few seconds
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_with_redis_down_the_event_is_kept_and_the_sweeper_dispatches_it(settings, monkeypatch):
    monkeypatch.setattr(fail_soft, "_open_until", {})
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": CLOSED_PORT}}
    event = _flattr_event()
    event.refresh_from_db()
    assert event.dispatched_at is None  # neither queued nor announced
    assert tasks.events_drain() == 0  # the list is out of reach too
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    tasks.notifications_sweep()
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_a_drain_takes_the_list_in_batches(monkeypatch):
    monkeypatch.setattr(queue, "BATCH", 2)
    cache.set(queue.SOON_KEY, "1", 30)
    for _ in range(5):
        _flattr_event()
    tasks.events_drain()
    assert Event.objects.filter(dispatched_at__isnull=True).count() == 0
    assert queue.take() == []
