import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks import Webhook

from buttons.services import flattr_create
from notifications import webhooks
from notifications.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.factories import ThingFactory, UserFactory, fund
from tests.localsite import LocalSite

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_receivers(settings, allow_loopback):
    settings.DEBUG = True  # http:// endpoints


def receiver(status=200, body=b"ok"):
    received = []

    def route(handler):
        received.append((dict(handler.headers), handler.request_body))
        return (status, {"Content-Type": "text/plain"}, body)

    return received, route


def _endpoint(owner, url, types=("flattr.created",)):
    return webhooks.webhook_endpoint_create(owner=owner, url=url, types=list(types))


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example/", "http://127.0.0.1:9/hook", "https://10.0.0.1/hook", "https://[::1]/"],
)
def test_an_endpoint_that_is_not_public_https_is_refused_and_not_saved(url):
    with pytest.raises(ValidationError):
        _endpoint(UserFactory(), url)
    assert not WebhookEndpoint.objects.exists()


def test_unknown_event_types_are_refused(local_receivers):
    with pytest.raises(ValidationError):
        _endpoint(UserFactory(), "http://127.0.0.1:9/", types=["flattr.created", "nope"])
    assert not WebhookEndpoint.objects.exists()


def test_a_flattr_reaches_the_creators_endpoint_signed_as_standard_webhooks(
    local_receivers, django_capture_on_commit_callbacks
):
    creator, fan = UserFactory(), UserFactory()
    fund(fan, 500)
    song = ThingFactory(owner=creator, title="Song")
    received, route = receiver()
    with LocalSite({"/hook": route}) as site:
        endpoint = _endpoint(creator, site.url("/hook"))
        with django_capture_on_commit_callbacks(execute=True):
            flattr = flattr_create(supporter=fan, thing=song)
    [(headers, body)] = received
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["type"] == "flattr.created"
    assert payload["data"]["flattr_id"] == flattr.pk
    assert payload["data"]["thing"]["title"] == "Song"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert WebhookAttempt.objects.get().status_code == 200


def test_during_rotation_both_secrets_verify(local_receivers):
    owner = UserFactory()
    received, route = receiver()
    with LocalSite({"/hook": route}) as site:
        endpoint = _endpoint(owner, site.url("/hook"))
        old = endpoint.secret
        endpoint = webhooks.webhook_secret_rotate(endpoint=endpoint)
        webhooks.webhook_test_send(endpoint=endpoint)
        from notifications.models import Event
        from notifications.services import event_dispatch

        _, [delivery_id] = event_dispatch(key=Event.objects.get().key)
        webhooks.webhook_attempt(delivery_id=delivery_id)
    [(headers, body)] = received
    assert old != endpoint.secret
    assert Webhook(old).verify(body, headers)["type"] == "test"
    assert Webhook(endpoint.secret).verify(body, headers)["type"] == "test"
    assert len(headers["webhook-signature"].split(" ")) == 2


def _one_delivery(owner, url):
    from notifications.models import Event

    endpoint = _endpoint(owner, url)
    event = Event.objects.create(
        type="flattr.created", recipient=owner, data={"thing": {"title": "x"}}, key="k"
    )
    return WebhookDelivery.objects.create(endpoint=endpoint, event=event)


def test_a_failed_delivery_is_logged_and_retried_later_with_backoff(local_receivers):
    owner = UserFactory()
    received, route = receiver(status=500, body=b"boom " * 1000)
    with LocalSite({"/hook": route}) as site:
        delivery = _one_delivery(owner, site.url("/hook"))
        assert webhooks.webhook_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
        # Not due yet: nothing is sent.
        assert webhooks.webhook_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
    assert len(received) == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 500 and len(attempt.response_body) == 2000
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=50)
    later = delivery.next_attempt_at + dt.timedelta(seconds=1)
    assert webhooks.webhook_deliveries_due(now=later) == [delivery.pk]


def test_redirects_are_not_followed(local_receivers):
    owner = UserFactory()
    received, route = receiver()
    with LocalSite({"/hook": (302, {"Location": "/elsewhere"}, b""), "/elsewhere": route}) as site:
        delivery = _one_delivery(owner, site.url("/hook"))
        webhooks.webhook_attempt(delivery_id=delivery.pk)
    assert received == []
    assert WebhookAttempt.objects.get().status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_the_retries_span_about_three_days():
    total = sum(webhooks.RETRY_DELAYS, dt.timedelta())
    assert dt.timedelta(days=2, hours=12) < total < dt.timedelta(days=3, hours=12)


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owner_emailed(
    local_receivers, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    with LocalSite({"/hook": (503, {}, b"down")}) as site:
        delivery = _one_delivery(owner, site.url("/hook"))
        WebhookEndpoint.objects.update(failing_since=timezone.now() - dt.timedelta(days=3, hours=1))
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_attempt(delivery_id=delivery.pk)
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.enabled
    [message] = mail.outbox
    assert message.subject == "Your webhook endpoint was disabled"
    assert endpoint.url in message.body
    # A disabled endpoint gets nothing more.
    WebhookDelivery.objects.update(next_attempt_at=None)
    assert webhooks.webhook_deliveries_due() == []


def test_a_success_ends_the_failing_streak(local_receivers):
    owner = UserFactory()
    with LocalSite({"/hook": (204, {}, b"")}) as site:
        delivery = _one_delivery(owner, site.url("/hook"))
        WebhookEndpoint.objects.update(failing_since=timezone.now() - dt.timedelta(days=1))
        assert webhooks.webhook_attempt(delivery_id=delivery.pk) == DeliveryStatus.SUCCEEDED
    assert WebhookEndpoint.objects.get().failing_since is None


def test_webhook_pages_add_an_endpoint_send_a_test_and_redeliver(
    local_receivers, client, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    client.force_login(owner)
    received, route = receiver()
    with LocalSite({"/hook": route}) as site:
        response = client.post(
            "/settings/webhooks/", {"url": site.url("/hook"), "types": ["payout.posted"]}
        )
        endpoint = WebhookEndpoint.objects.get()
        assert response.status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/settings/webhooks/{endpoint.pk}/test/")
        delivery = WebhookDelivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
        page = client.get(f"/settings/webhooks/{endpoint.pk}/")
    assert len(received) == 2
    assert page.status_code == 200 and "HTTP 200" in page.content.decode()


def test_webhook_page_explains_a_private_address_and_saves_nothing(client):
    client.force_login(UserFactory())
    response = client.post(
        "/settings/webhooks/", {"url": "https://192.168.1.10/hook", "types": ["flattr.created"]}
    )
    assert response.status_code == 200
    assert "private network" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_someone_elses_endpoint_is_a_404(client):
    endpoint = WebhookEndpoint.objects.create(
        owner=UserFactory(), url="https://hooks.example/", types=["flattr.created"]
    )
    client.force_login(UserFactory())
    assert client.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 404
    assert client.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.exists()
