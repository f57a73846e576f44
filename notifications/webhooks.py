"""Webhooks out: creators' endpoints, signed per the Standard Webhooks
specification, delivered through the safe fetcher with exponential backoff.

A delivery is claimed in a short transaction (a lease stops two workers
sending it at once), POSTed outside any transaction, and the outcome
recorded in a second one. Failed deliveries wait in the table and the
minute beat (``webhook_retry_due``) sends those whose time has come. An
endpoint that kept failing for three days is disabled and its owner told.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import fetch
from notifications.models import (
    WEBHOOK_TYPES,
    DeliveryStatus,
    Event,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_webhook_secret,
)
from notifications.services import event_publish

BODY_LOG_CHARS = 2000
# 1 min, 2, 4 ... 2048 min: twelve retries spread over about three days.
RETRY_DELAYS = [dt.timedelta(minutes=2**n) for n in range(12)]
DISABLE_AFTER = dt.timedelta(days=3)
# What a lease adds to the fetch's total deadline: the two short
# transactions around the POST (claim, record) and a slow database.
LEASE_MARGIN = dt.timedelta(seconds=20)
OLD_SECRET_GRACE = dt.timedelta(hours=24)


# --- Endpoints ------------------------------------------------------------


def _check_url(url: str) -> str:
    url = url.strip()
    scheme = url.split(":", 1)[0].lower()
    if scheme != "https" and not (scheme == "http" and settings.DEBUG):
        raise ValidationError(
            {"url": _("Use an https:// address (http:// is allowed only in development).")}
        )
    try:
        fetch.resolve(url)
    except fetch.FetchAddressRefused:
        raise ValidationError(
            {"url": _("This address points to a private network; use a public address.")}
        )
    except fetch.FetchDNSError:
        raise ValidationError({"url": _("This host name does not resolve.")})
    except fetch.FetchError:
        raise ValidationError({"url": _("This is not a web address we can call.")})
    return url


def _check_types(types: list[str]) -> list[str]:
    chosen = [t for t in WEBHOOK_TYPES if t in set(types)]
    if not chosen or len(chosen) != len(set(types)):
        raise ValidationError({"types": _("Choose one or more of the listed events.")})
    return [str(t) for t in chosen]


def webhook_endpoint_create(
    *, owner, url: str, types: list[str], description: str = ""
) -> WebhookEndpoint:
    """Raises ValidationError (nothing saved) for a bad URL or event list."""
    url = _check_url(url)
    return WebhookEndpoint.objects.create(
        owner=owner, url=url, types=_check_types(types), description=description.strip()
    )


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, types: list[str], description: str = ""
) -> WebhookEndpoint:
    endpoint.url = _check_url(url)
    endpoint.types = _check_types(types)
    endpoint.description = description.strip()
    endpoint.save(update_fields=["url", "types", "description"])
    return endpoint


def webhook_endpoint_set_enabled(*, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    endpoint.enabled = enabled
    endpoint.disabled_reason = "" if enabled else _("Disabled by its owner.")
    endpoint.failing_since = None
    endpoint.save(update_fields=["enabled", "disabled_reason", "failing_since"])
    return endpoint


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret signs from now on; the old one also signs for 24 hours,
    so the receiver can switch without missing a delivery."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + OLD_SECRET_GRACE
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return endpoint


def webhook_test_send(*, endpoint: WebhookEndpoint) -> None:
    event_publish(
        type=EventType.TEST,
        recipient=endpoint.owner_id,
        data={"endpoint_id": endpoint.pk, "message": "This is a test event from Open Flattr."},
        key=f"test:{endpoint.pk}:{uuid.uuid4()}",
    )


def webhook_redeliver(*, delivery: WebhookDelivery) -> None:
    """Send a delivery again now, whatever became of it."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=None
    )
    from notifications import tasks

    transaction.on_commit(lambda: tasks.webhook_deliver.delay(delivery.pk))


# --- Signing --------------------------------------------------------------


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_") + "==")


def webhook_signature(*, secrets: list[str], msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64>`` per secret."""
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def _secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    secrets = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_until or now) > now:
        secrets.append(endpoint.previous_secret)
    return secrets


def webhook_payload(*, event: Event) -> str:
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "timestamp": event.created_at.isoformat(),
            "data": event.data,
        },
        separators=(",", ":"),
        sort_keys=True,
    )


# --- Delivery -------------------------------------------------------------


def attempt_timeout() -> float:
    """Seconds one POST may take, all of it (the safe fetcher's total
    deadline bounds connect, TLS, headers and body): WEBHOOK_TIMEOUT."""
    return float(settings.WEBHOOK_TIMEOUT)


def attempt_lease() -> dt.timedelta:
    """How long a claimed delivery stays out of other workers' reach. It
    outlasts the longest possible attempt (the fetch's total deadline plus
    the margin), so a delivery is never sent twice at once."""
    return dt.timedelta(seconds=attempt_timeout()) + LEASE_MARGIN


def _claim(delivery_id: int, now: dt.datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if (
            delivery is None
            or delivery.status != DeliveryStatus.PENDING
            or not delivery.endpoint.enabled
            or (delivery.next_attempt_at is not None and delivery.next_attempt_at > now)
        ):
            return None
        delivery.attempts += 1
        # From now, not from before the lock was granted.
        delivery.next_attempt_at = timezone.now() + attempt_lease()
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery


def webhook_attempt(*, delivery_id: int) -> str:
    """One attempt at one delivery. Returns the delivery's status after it."""
    now = timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return (
            WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
            or ""
        )
    endpoint = delivery.endpoint
    body = webhook_payload(event=delivery.event)
    msg_id = f"msg_{delivery.event_id.hex}"
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secrets=_secrets(endpoint, now), msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
    status_code, response_body, error = None, "", ""
    try:
        response = fetch.fetch(
            endpoint.url,
            method="POST",
            body=body.encode(),
            headers=headers,
            max_redirects=0,  # a redirect is an answer, not followed
            max_bytes=64 * 1024,
            read_timeout=attempt_timeout(),
            total_timeout=attempt_timeout(),
        )
        status_code, response_body = response.status, response.text[:BODY_LOG_CHARS]
    except fetch.FetchTooLarge:
        error = "response body over 64 KB"
    except fetch.FetchError as exc:
        error = f"{exc.code}: {exc}"[:500]
    ok = status_code is not None and 200 <= status_code < 300
    return _record(delivery, ok, status_code, response_body, error, timezone.now())


@transaction.atomic
def _record(delivery, ok, status_code, response_body, error, now) -> str:
    WebhookAttempt.objects.create(
        delivery=delivery, status_code=status_code, response_body=response_body, error=error
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if ok:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since"])
    else:
        retries = delivery.attempts - 1
        if retries < len(RETRY_DELAYS):
            delivery.next_attempt_at = now + RETRY_DELAYS[retries]
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        if endpoint.failing_since is None:
            endpoint.failing_since = now
            endpoint.save(update_fields=["failing_since"])
        elif endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
            _disable(endpoint)
    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    return delivery.status


def _disable(endpoint: WebhookEndpoint) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = "failing for three days"
    endpoint.save(update_fields=["enabled", "disabled_reason"])
    event_publish(
        type=EventType.WEBHOOK_DISABLED,
        recipient=endpoint.owner_id,
        data={"url": endpoint.url, "webhooks_path": reverse("webhook_detail", args=[endpoint.pk])},
        key=f"webhook-disabled:{endpoint.pk}:{endpoint.failing_since:%Y%m%d%H%M%S}",
    )


def webhook_deliveries_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, endpoint__enabled=True, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
