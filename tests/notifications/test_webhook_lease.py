"""A delivery's lease outlasts the longest possible attempt (issue #22).

The creator's endpoint is a real local server that sends its headers one
byte at a time, forever: before the fix it held the attempt past the 30 s
lease, and a second worker sent the same delivery again meanwhile."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from notifications import webhooks
from notifications.models import (
    DeliveryStatus,
    Event,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
)
from tests.factories import UserFactory

SERVER_GIVES_UP = 40.0  # longer than any lease, so only our deadline ends it


class SlowHeaders:
    """Counts connections; on each, answers a status line and then one
    header byte every 0.3 s until told to stop."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.first = threading.Event()
        self.stop = threading.Event()

    def _dribble(self, conn: socket.socket) -> None:
        started = time.monotonic()
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not self.stop.is_set() and time.monotonic() - started < SERVER_GIVES_UP:
                    conn.sendall(b"X")
                    time.sleep(0.3)
            except OSError:
                return

    def _accept(self) -> None:
        while True:
            try:
                conn, _addr = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.first.set()
            threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def __enter__(self) -> SlowHeaders:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.listener.close()


@pytest.mark.django_db(transaction=True)
def test_a_slow_endpoint_cannot_outlast_the_lease_nor_get_a_second_send(settings, allow_loopback):
    settings.DEBUG = True  # an http:// endpoint
    settings.WEBHOOK_TIMEOUT = 2
    owner = UserFactory()
    with SlowHeaders() as server:
        endpoint = webhooks.webhook_endpoint_create(
            owner=owner, url=f"http://127.0.0.1:{server.port}/hook", types=["flattr.created"]
        )
        event = Event.objects.create(type=EventType.TEST, recipient=owner, data={}, key="lease")
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        outcome: dict[str, object] = {}

        def first_worker() -> None:
            started = time.monotonic()
            try:
                outcome["status"] = webhooks.webhook_attempt(delivery_id=delivery.pk)
            finally:
                outcome["elapsed"] = time.monotonic() - started
                outcome["finished_at"] = timezone.now()
                connection.close()

        worker = threading.Thread(target=first_worker)
        worker.start()
        assert server.first.wait(10), "the first attempt never reached the endpoint"
        lease_end = WebhookDelivery.objects.get(pk=delivery.pk).next_attempt_at
        # A second worker (the beat's retry, a redelivered message) meanwhile.
        assert webhooks.webhook_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
        worker.join(SERVER_GIVES_UP + 10)

    assert outcome["elapsed"] < settings.WEBHOOK_TIMEOUT + 1.0
    assert outcome["finished_at"] < lease_end  # the lease was still held
    assert server.connections == 1  # sent once, not twice at once
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == DeliveryStatus.PENDING
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None and attempt.error.startswith("timeout")
    # The retry comes after the backoff, not at the lease's end.
    assert delivery.next_attempt_at > lease_end


def test_the_lease_is_the_fetch_deadline_plus_a_margin(settings):
    for seconds in (1, 10, 45):
        settings.WEBHOOK_TIMEOUT = seconds
        assert webhooks.attempt_timeout() == seconds
        assert webhooks.attempt_lease() == dt.timedelta(seconds=seconds) + webhooks.LEASE_MARGIN
    assert dt.timedelta(seconds=10) <= webhooks.LEASE_MARGIN
