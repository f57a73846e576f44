"""Writes of the notifications app: publishing events, dispatching them to
e-mail and webhooks, and people's preferences.

``event_publish`` is the one door the other apps use. It stores the event
once (its key is unique) and queues the dispatch on commit, so a rolled-back
transaction tells nobody anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from notifications.models import (
    EMAIL_TYPES,
    OPTIONAL_EMAIL_TYPES,
    WEBHOOK_TYPES,
    DigestFrequency,
    Email,
    EmailStatus,
    Event,
    EventType,
    Language,
    NotificationSettings,
    WebhookDelivery,
    WebhookEndpoint,
)

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


@dataclass(frozen=True)
class NewEvent:
    type: str
    recipient_id: int
    data: dict[str, Any]
    key: str


def _recipient_id(recipient: Any) -> int:
    return recipient if isinstance(recipient, int) else recipient.pk


def event_publish(*, type: str, recipient: Any, data: dict[str, Any], key: str) -> None:
    """Record an event for ``recipient`` (a user or a user id) and deliver it
    after commit. Publishing the same ``key`` again does nothing."""
    events_publish(events=[NewEvent(type, _recipient_id(recipient), data, key)])


def events_publish(*, events: Iterable[NewEvent]) -> int:
    """Publish many events in one INSERT (statements of a whole run).
    Returns how many were new."""
    rows = [
        Event(type=EventType(e.type), recipient_id=e.recipient_id, data=e.data, key=e.key)
        for e in events
    ]
    if not rows:
        return 0
    stored: set[str] = set()
    for start in range(0, len(rows), 2000):
        stored.update(_events_insert(rows[start : start + 2000]))
    new_keys = [key for key in dict.fromkeys(row.key for row in rows) if key in stored]
    if new_keys:
        from notifications import tasks

        # robust: with the broker (Redis) down the flattr or payment that
        # published the event is committed and must still answer; the event
        # stays undispatched in the database. No result is wanted, and asking
        # for one makes Celery wait on the result store too.
        transaction.on_commit(
            lambda: tasks.events_dispatch.apply_async(
                kwargs={"keys": new_keys}, ignore_result=True, retry=False
            ),
            robust=True,
        )
    return len(new_keys)


def _events_insert(rows: list[Event]) -> list[str]:
    """INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key: the keys that
    were new, in one statement (no SELECT of the existing keys first, and a
    key published at the same moment by another transaction is not taken
    for new by both)."""
    fields = Event._meta.concrete_fields
    params: list[Any] = []
    for row in rows:  # each field as Model.save would write it (auto_now_add too)
        params += [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    columns = ", ".join(connection.ops.quote_name(cast(str, f.column)) for f in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Event._meta.db_table} ({columns}) VALUES {values}"  # noqa: S608 - our names
            " ON CONFLICT (key) DO NOTHING RETURNING key",
            params,
        )
        return [key for (key,) in cursor.fetchall()]


def events_insert_sql(*, rows: str) -> str:
    """An INSERT of the events whose ``(type, recipient_id, data, key)``
    the SELECT ``rows`` gives, for a writer that records its own rows and
    their events in one statement (a flattr: ``buttons.services``, as a CTE
    over its INSERT's RETURNING). The key's uniqueness guards as in
    ``events_publish``; it returns the new keys. The caller queues their
    dispatch (``notifications.queue``), or the sweeper finds them."""
    return (
        f"INSERT INTO {Event._meta.db_table} (id, type, recipient_id, data, key, created_at)"  # noqa: S608 - our names
        " SELECT gen_random_uuid(), e.type, e.recipient_id, e.data, e.key, statement_timestamp()"
        f" FROM ({rows}) AS e(type, recipient_id, data, key)"
        " ON CONFLICT (key) DO NOTHING RETURNING key"
    )


def event_dispatch(*, key: str) -> tuple[list[int], list[int]]:
    """Turn a stored event into its e-mail and webhook deliveries, once.
    Returns the ids of the e-mail and deliveries to send."""
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(key=key).first()
        if event is None or event.dispatched_at is not None:
            return [], []
        emails: list[int] = []
        if event.type in EMAIL_TYPES:
            email, _ = Email.objects.get_or_create(event=event)
            emails.append(email.pk)
        deliveries: list[int] = []
        if event.type in WEBHOOK_TYPES or event.type == EventType.TEST:
            deliveries = webhook_deliveries_create(event=event)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
        return emails, deliveries


def events_undispatched(*, older_than: dt.timedelta, limit: int = 1000) -> list[str]:
    """Keys of events whose dispatch never ran (the broker was away when
    their transaction committed), oldest first."""
    cutoff = timezone.now() - older_than
    return list(
        Event.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("key", flat=True)[:limit]
    )


def emails_never_tried(*, older_than: dt.timedelta, limit: int = 1000) -> list[int]:
    """E-mails dispatched long ago but never claimed by a sender: their
    queue message was lost. Sending is claimed in the database, so queueing
    one again can never send it twice."""
    cutoff = timezone.now() - older_than
    return list(
        Email.objects.filter(
            status=EmailStatus.PENDING, attempts=0, event__dispatched_at__lt=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_deliveries_create(*, event: Event) -> list[int]:
    endpoints = WebhookEndpoint.objects.filter(owner_id=event.recipient_id, enabled=True)
    if event.type == EventType.TEST:
        endpoints = endpoints.filter(pk=event.data.get("endpoint_id"))
    ids = []
    for endpoint in endpoints:
        if event.type != EventType.TEST and event.type not in endpoint.types:
            continue
        delivery, _ = WebhookDelivery.objects.get_or_create(endpoint=endpoint, event=event)
        ids.append(delivery.pk)
    return ids


# --- Preferences ----------------------------------------------------------


def notification_settings_get(*, user: User) -> NotificationSettings:
    found, _ = NotificationSettings.objects.get_or_create(user=user)
    return found


@transaction.atomic
def notification_settings_update(
    *, user: User, language: str, digest: str, enabled_types: Iterable[str]
) -> NotificationSettings:
    found = NotificationSettings.objects.select_for_update().get_or_create(user=user)[0]
    enabled = set(enabled_types)
    found.language = Language(language)
    found.digest = DigestFrequency(digest)
    found.muted = [str(t) for t in OPTIONAL_EMAIL_TYPES if t not in enabled]
    found.save(update_fields=["language", "digest", "muted"])
    return found


def notification_language_remember(*, user: User, language: str) -> None:
    """First contact sets the language e-mails are written in; the person
    changes it on the Notifications page afterwards."""
    if language in Language.values:
        NotificationSettings.objects.get_or_create(user=user, defaults={"language": language})


class BadUnsubscribeLink(Exception):
    """The link was altered or never made by us."""


def unsubscribe_token(*, user_id: int, type: str) -> str:
    return signing.dumps([user_id, str(type)], salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_token_read(*, token: str) -> tuple[User, EventType]:
    try:
        user_id, type_ = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadUnsubscribeLink(str(exc)) from exc
    if type_ not in OPTIONAL_EMAIL_TYPES:
        raise BadUnsubscribeLink(f"unknown kind {type_!r}")
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise BadUnsubscribeLink("no such user")
    return user, EventType(type_)


@transaction.atomic
def notification_unsubscribe(*, token: str) -> tuple[User, EventType]:
    """One-click unsubscribe (RFC 8058) from one kind of e-mail.
    Raises BadUnsubscribeLink and changes nothing if the link is bad."""
    user, type_ = unsubscribe_token_read(token=token)
    found = NotificationSettings.objects.select_for_update().get_or_create(user=user)[0]
    if type_ == EventType.DIGEST:
        found.digest = DigestFrequency.OFF
    if str(type_) not in found.muted:
        found.muted = [*found.muted, str(type_)]
    found.save(update_fields=["muted", "digest"])
    return user, type_
