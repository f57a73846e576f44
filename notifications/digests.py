"""Digests of new flattrs and subscribers, built from the events the
notifications app already holds (it needs no other app for this)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from notifications.models import DigestFrequency, Event, EventType, NotificationSettings
from notifications.services import NewEvent, events_publish


def digests_publish(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    due = Q(digest=DigestFrequency.DAILY)
    if now.weekday() == 0:
        due |= Q(digest=DigestFrequency.WEEKLY)
    new: list[NewEvent] = []
    for prefs in NotificationSettings.objects.filter(due).exclude(muted__contains=["digest"]):
        span = dt.timedelta(days=7 if prefs.digest == DigestFrequency.WEEKLY else 1)
        since = max(prefs.last_digest_at or now - span, now - span)
        rows: dict[str, dict] = defaultdict(lambda: {"flattrs": 0, "subscribers": 0})
        events = Event.objects.filter(
            recipient_id=prefs.user_id,
            type__in=[EventType.FLATTR_CREATED, EventType.SUBSCRIPTION_CREATED],
            created_at__gte=since,
            created_at__lt=now,
        ).values_list("type", "data")
        for type_, data in events:
            row = rows[data.get("thing", {}).get("title", "?")]
            row["flattrs" if type_ == EventType.FLATTR_CREATED else "subscribers"] += 1
        if rows:
            things = [{"title": title, **counts} for title, counts in sorted(rows.items())]
            total = sum(r["flattrs"] + r["subscribers"] for r in things)
            new.append(
                NewEvent(
                    EventType.DIGEST,
                    prefs.user_id,
                    {"since": since.isoformat(), "things": things, "total": total},
                    f"digest:{prefs.user_id}:{now:%Y-%m-%d}",
                )
            )
        NotificationSettings.objects.filter(pk=prefs.pk).update(last_digest_at=now)
    return events_publish(events=new)
