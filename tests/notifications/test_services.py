import base64
import json

import pytest
from django.core import mail

from notifications import services
from notifications.models import Email, EmailStatus, Event, EventType, NotificationSettings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RECEIPT = {"topup_id": 7, "gross_cents": 1000, "fee_cents": 40, "net_cents": 960}


def test_publishing_the_same_key_twice_stores_and_sends_one_email(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.event_publish(type="topup.succeeded", recipient=user, data=RECEIPT, key="k1")
    with django_capture_on_commit_callbacks(execute=True):
        services.event_publish(type="topup.succeeded", recipient=user, data=RECEIPT, key="k1")
    assert Event.objects.filter(key="k1").count() == 1
    assert Email.objects.get().status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_a_rolled_back_transaction_publishes_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.event_publish(type="topup.succeeded", recipient=user, data=RECEIPT, key="k2")
    # The transaction never commits: the queued dispatch is never run.
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_unknown_event_type_is_refused():
    user = UserFactory()
    with pytest.raises(ValueError):
        services.event_publish(type="nonsense", recipient=user, data={}, key="k3")
    assert not Event.objects.exists()


def test_a_muted_kind_is_skipped(django_capture_on_commit_callbacks):
    user = UserFactory()
    services.notification_settings_update(
        user=user, language="en", digest="off", enabled_types=[EventType.PAYOUT_POSTED]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.event_publish(type="topup.succeeded", recipient=user, data=RECEIPT, key="k4")
    assert Email.objects.get().status == EmailStatus.SKIPPED
    assert mail.outbox == []


def test_unsubscribe_token_mutes_its_kind_only():
    user = UserFactory()
    token = services.unsubscribe_token(user_id=user.pk, type=EventType.TOPUP_SUCCEEDED)
    services.notification_unsubscribe(token=token)
    prefs = NotificationSettings.objects.get(user=user)
    assert prefs.muted == ["topup.succeeded"]


def test_an_altered_unsubscribe_token_is_refused_and_changes_nothing():
    user = UserFactory()
    token = services.unsubscribe_token(user_id=user.pk, type=EventType.TOPUP_SUCCEEDED)
    other = UserFactory()
    # Someone else's id in the payload, under the original signature.
    payload = base64.urlsafe_b64encode(json.dumps([other.pk, "topup.succeeded"]).encode())
    forged = payload.decode().rstrip("=") + token[token.index(":") :]
    with pytest.raises(services.BadUnsubscribeLink):
        services.notification_unsubscribe(token=forged + "x")
    with pytest.raises(services.BadUnsubscribeLink):
        services.notification_unsubscribe(token=forged)
    assert not NotificationSettings.objects.exists()


def test_first_login_remembers_the_language(client):
    user = UserFactory()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    client.post("/accounts/login/", {"login": user.email, "password": "correct-horse-battery"})
    assert NotificationSettings.objects.get(user=user).language == "fr"
