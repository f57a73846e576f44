"""Events published while the broker is down are delivered once it is back
(notifications.tasks.notifications_sweep)."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import services, tasks
from notifications.models import Email, EmailStatus, Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RECEIPT = {"topup_id": 7, "gross_cents": 1000, "fee_cents": 40, "net_cents": 960}


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")


def test_an_event_published_with_the_broker_down_is_sent_once_by_the_sweeper(
    django_capture_on_commit_callbacks, monkeypatch
):
    user = UserFactory()
    with monkeypatch.context() as m:
        m.setattr(tasks.events_dispatch, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            services.event_publish(type="topup.succeeded", recipient=user, data=RECEIPT, key="k")
    event = Event.objects.get(key="k")
    assert event.dispatched_at is None
    assert mail.outbox == []

    # Too fresh: its own dispatch may still be on its way.
    assert tasks.notifications_sweep() == 0
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert tasks.notifications_sweep() == 1
    assert tasks.notifications_sweep() == 0
    assert Email.objects.get().status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_an_email_whose_send_message_was_lost_is_sent_once_by_the_sweeper(monkeypatch):
    user = UserFactory()
    Event.objects.create(
        type="topup.succeeded",
        recipient=user,
        data=RECEIPT,
        key="lost",
    )
    with monkeypatch.context() as m:
        m.setattr(tasks.email_send, "delay", broker_down)
        with pytest.raises(OperationalError):
            tasks.events_dispatch(["lost"])
    email = Email.objects.get()
    assert email.status == EmailStatus.PENDING
    Event.objects.filter(key="lost").update(dispatched_at=timezone.now() - dt.timedelta(minutes=30))
    assert tasks.notifications_sweep() == 1
    assert tasks.notifications_sweep() == 0
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(mail.outbox) == 1
