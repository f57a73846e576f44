import pytest

from buttons.models import Flattr, FlattrSource, Subscription, SubscriptionStatus
from tests.factories import ThingFactory, UserFactory, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def fan(client):
    user = UserFactory()
    fund(user, 1000)
    client.force_login(user)
    return user


def test_thing_page_and_popup_offer_a_subscription(client, fan):
    thing = ThingFactory()
    for url in (f"/things/{thing.pk}/", f"/things/{thing.pk}/flattr/?popup=1"):
        page = client.get(url).content.decode()
        assert f'action="/things/{thing.pk}/subscribe/"' in page
        assert '<option value="12">' in page


def test_subscribing_flattrs_this_month_and_lists_the_months_left(client, fan):
    thing = ThingFactory(title="Weekly podcast")
    response = client.post(f"/things/{thing.pk}/subscribe/", {"months": "6"})
    assert response.status_code == 302
    sub = Subscription.objects.get()
    assert (sub.supporter, sub.months, sub.months_remaining) == (fan, 6, 5)
    assert Flattr.objects.get().source == FlattrSource.SUBSCRIPTION
    page = client.get("/subscriptions/").content.decode()
    assert "Weekly podcast" in page and "5 of 6" in page


def test_subscribing_from_the_popup_ends_on_the_thank_you_page(client, fan):
    thing = ThingFactory()
    response = client.post(f"/things/{thing.pk}/subscribe/", {"months": "1", "popup": "1"})
    assert response.status_code == 200 and "flattr-count" in response.content.decode()


@pytest.mark.parametrize("months", ["2", "", "x", "-3"])
def test_an_unknown_duration_is_refused_and_changes_nothing(client, fan, months):
    thing = ThingFactory()
    response = client.post(f"/things/{thing.pk}/subscribe/", {"months": months})
    assert response.status_code == 400
    assert "1, 3, 6 or 12 months" in response.content.decode()
    assert not Subscription.objects.exists() and not Flattr.objects.exists()


def test_subscribing_to_ones_own_thing_is_refused(client, fan):
    thing = ThingFactory(owner=fan)
    response = client.post(f"/things/{thing.pk}/subscribe/", {"months": "3"})
    assert response.status_code == 403
    assert not Subscription.objects.exists()


def test_pause_resume_and_cancel(client, fan):
    thing = ThingFactory()
    client.post(f"/things/{thing.pk}/subscribe/", {"months": "3"})
    client.post(f"/subscriptions/{thing.pk}/pause/")
    assert Subscription.objects.get().status == SubscriptionStatus.PAUSED
    assert "Resume" in client.get("/subscriptions/").content.decode()
    client.post(f"/subscriptions/{thing.pk}/pause/")
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE
    client.post(f"/subscriptions/{thing.pk}/cancel/")
    assert Subscription.objects.get().status == SubscriptionStatus.CANCELLED
    assert "Weekly" not in client.get("/subscriptions/").content.decode()
    response = client.post(f"/subscriptions/{thing.pk}/cancel/")
    assert response.status_code == 404


def test_unknown_actions_are_404(client, fan):
    thing = ThingFactory()
    assert client.post(f"/subscriptions/{thing.pk}/explode/").status_code == 404


def test_subscriptions_page_speaks_french(client, fan):
    client.cookies["django_language"] = "fr"
    page = client.get("/subscriptions/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Abonnements" in page and "Vous n’avez aucun abonnement" in page


def test_after_a_manual_flattr_subscribing_counts_it_as_the_first_month(client, fan):
    thing = ThingFactory()
    client.post(f"/things/{thing.pk}/flattr/")
    page = client.get(f"/things/{thing.pk}/").content.decode()
    assert f'action="/things/{thing.pk}/subscribe/"' in page
    client.post(f"/things/{thing.pk}/subscribe/", {"months": "3"})
    assert Flattr.objects.count() == 1
    assert Subscription.objects.get().months_remaining == 2
