import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from notifications import digests, services
from notifications.models import Event, NotificationSettings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC)


def _news(creator, title, type="flattr.created", n=1):
    for i in range(n):
        services.event_publish(
            type=type,
            recipient=creator,
            data={"thing": {"id": 1, "title": title}},
            key=f"{type}:{title}:{i}:{creator.pk}",
        )


def test_daily_digest_counts_new_flattrs_and_subscribers_per_thing(
    django_capture_on_commit_callbacks,
):
    creator = UserFactory()
    NotificationSettings.objects.create(user=creator, digest="daily")
    _news(creator, "Song", n=2)
    _news(creator, "Song", type="subscription.created")
    Event.objects.update(created_at=MONDAY + dt.timedelta(hours=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert digests.digests_publish(now=MONDAY + dt.timedelta(days=1)) == 1
    [message] = mail.outbox
    assert message.subject == "3 new flattrs and subscribers"
    assert "Song: 2 flattrs, 1 new subscriber" in message.body
    # The same day again: nothing new, nothing sent.
    with django_capture_on_commit_callbacks(execute=True):
        assert digests.digests_publish(now=MONDAY + dt.timedelta(days=1, hours=1)) == 0
    assert len(mail.outbox) == 1


def test_weekly_digests_go_out_on_mondays_and_off_means_none():
    weekly, off = UserFactory(), UserFactory()
    NotificationSettings.objects.create(user=weekly, digest="weekly")
    NotificationSettings.objects.create(user=off, digest="off")
    for creator in (weekly, off):
        _news(creator, "Post")
    Event.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    now = timezone.now()
    tuesday = now + dt.timedelta(days=(1 - now.weekday()) % 7 or 7)
    assert digests.digests_publish(now=tuesday) == 0
    monday = tuesday + dt.timedelta(days=6)
    Event.objects.update(created_at=monday - dt.timedelta(days=2))
    assert digests.digests_publish(now=monday) == 1
    assert Event.objects.get(type="digest").recipient_id == weekly.pk
