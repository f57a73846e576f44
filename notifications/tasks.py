"""Celery tasks: thin wrappers that call the services and e-mail/webhook
modules, and retry what the outside world refused for now."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from notifications import emails, services

logger = logging.getLogger(__name__)

EMAIL_MAX_RETRIES = 8


@shared_task(acks_late=True)
def events_dispatch(keys: list[str]) -> int:
    queued = 0
    for key in keys:
        email_ids, delivery_ids = services.event_dispatch(key=key)
        for email_id in email_ids:
            email_send.delay(email_id)
        for delivery_id in delivery_ids:
            webhook_deliver.delay(delivery_id)
        queued += len(email_ids) + len(delivery_ids)
    return queued


@shared_task
def events_drain() -> int:
    """Beat (every few seconds) and the "drain soon" publish of a hot
    writer (notifications.queue): dispatch the queued events in batches.
    A key taken by a worker that dies is healed by ``notifications_sweep``."""
    from notifications import queue

    queued = 0
    while keys := queue.take():
        queued += events_dispatch(keys)
    return queued


@shared_task(bind=True, acks_late=True, max_retries=EMAIL_MAX_RETRIES)
def email_send(self, email_id: int) -> str:
    last_try = self.request.retries >= self.max_retries
    try:
        return emails.email_send(email_id=email_id, last_try=last_try)
    except emails.RETRYABLE as exc:
        if last_try:
            logger.error("e-mail %s given up: %s", email_id, exc)
            return "failed"
        # 1, 2, 4 ... minutes.
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries)


@shared_task(acks_late=True)
def webhook_deliver(delivery_id: int) -> str:
    from notifications import webhooks

    return webhooks.webhook_attempt(delivery_id=delivery_id)


@shared_task
def webhook_retry_due() -> int:
    """Beat: send the deliveries whose backoff has elapsed."""
    from notifications import webhooks

    due = webhooks.webhook_deliveries_due()
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    return len(due)


@shared_task
def digests_send() -> int:
    """Beat (daily): daily digests every day, weekly ones on Mondays."""
    from notifications import digests

    return digests.digests_publish()


@shared_task
def notifications_sweep() -> int:
    """Beat: heal what a broker outage left behind. Events whose dispatch
    was never queued are dispatched, e-mails whose send message was lost are
    queued again; both steps are idempotent in the database."""
    queued = 0
    keys = services.events_undispatched(older_than=dt.timedelta(minutes=2))
    if keys:
        queued += len(keys)
        events_dispatch(keys)
    for email_id in services.emails_never_tried(older_than=dt.timedelta(minutes=10)):
        email_send.delay(email_id)
        queued += 1
    return queued
