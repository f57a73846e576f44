import pytest

from buttons.models import Flattr, FlattrSource, Subscription, SubscriptionStatus
from tests.api.conftest import ApiClient, assert_error, token_for
from tests.factories import ThingFactory, UserFactory


@pytest.mark.django_db
class TestSubscriptions:
    def test_subscribe_flattrs_now_and_lists(self, api, thing):
        response = api.post(f"/things/{thing.pk}/subscriptions", {"month": 6})
        assert response.status_code == 200
        assert response.json()["message"] == "ok"
        assert response.json()["thing"]["id"] == thing.pk
        subscription = Subscription.objects.get()
        assert subscription.months == 6 and subscription.months_remaining == 5
        assert Flattr.objects.get().source == FlattrSource.SUBSCRIPTION
        listed = api.get("/user/subscriptions").json()
        assert listed[0]["type"] == "subscription" and listed[0]["active"] is True
        assert listed[0]["thing"]["id"] == thing.pk
        assert listed[0]["thing"]["subscribed"] is True

    def test_form_body_month_works(self, api, thing):
        response = api.post(f"/things/{thing.pk}/subscriptions", {"month": "3"}, form=True)
        assert response.status_code == 200

    @pytest.mark.parametrize("month", [2, "x", 24, 0])
    def test_unknown_duration_is_invalid_parameters(self, api, thing, month):
        body = {"month": month}
        assert_error(api.post(f"/things/{thing.pk}/subscriptions", body), 400, "invalid_parameters")
        assert not Subscription.objects.exists() and not Flattr.objects.exists()

    @pytest.mark.parametrize("form", [False, True])
    def test_no_duration_means_three_months(self, api, thing, form):
        # Flattr's API took no length: old clients send an empty body.
        response = api.post(f"/things/{thing.pk}/subscriptions", {}, form=form)
        assert response.status_code == 200, response.content
        subscription = Subscription.objects.get()
        assert (subscription.months, subscription.months_remaining) == (3, 2)
        assert Flattr.objects.filter(thing=thing).count() == 1

    def test_own_thing_is_thing_owner(self, creator_api, thing):
        assert_error(
            creator_api.post(f"/things/{thing.pk}/subscriptions", {"month": 3}),
            403,
            "thing_owner",
        )

    def test_second_subscription_is_subscribed(self, api, thing):
        api.post(f"/things/{thing.pk}/subscriptions", {"month": 3})
        assert_error(api.post(f"/things/{thing.pk}/subscriptions", {"month": 3}), 403, "subscribed")

    def test_hidden_thing_is_refused(self, api):
        hidden = ThingFactory(hidden=True)
        assert_error(
            api.post(f"/things/{hidden.pk}/subscriptions", {"month": 3}), 404, "thing_unavailable"
        )

    def test_unknown_thing_is_not_found(self, api):
        assert_error(api.post("/things/999999/subscriptions", {"month": 3}), 404, "not_found")

    def test_put_toggles_paused_and_started(self, api, thing):
        api.post(f"/things/{thing.pk}/subscriptions", {"month": 3})
        assert api.put(f"/things/{thing.pk}/subscriptions").json()["message"] == "paused"
        assert Subscription.objects.get().status == SubscriptionStatus.PAUSED
        assert api.put(f"/things/{thing.pk}/subscriptions").json()["message"] == "started"

    def test_put_without_subscription_is_not_found(self, api, thing):
        assert_error(api.put(f"/things/{thing.pk}/subscriptions"), 404, "not_found")

    def test_delete_cancels_with_204(self, api, thing):
        api.post(f"/things/{thing.pk}/subscriptions", {"month": 3})
        assert api.delete(f"/things/{thing.pk}/subscriptions").status_code == 204
        assert Subscription.objects.get().status == SubscriptionStatus.CANCELLED
        assert api.get("/user/subscriptions").json() == []
        assert_error(api.delete(f"/things/{thing.pk}/subscriptions"), 404, "not_found")

    def test_subscriptions_need_the_flattr_scope(self, supporter, thing):
        client = ApiClient(token_for(supporter, scopes="thing"))
        assert_error(client.get("/user/subscriptions"), 403, "insufficient_scope")
        assert_error(
            client.post(f"/things/{thing.pk}/subscriptions", {"month": 3}),
            403,
            "insufficient_scope",
        )
        assert not Subscription.objects.exists()

    def test_empty_wallet_cannot_subscribe(self, thing):
        broke = ApiClient(token_for(UserFactory()))
        assert_error(broke.post(f"/things/{thing.pk}/subscriptions", {"month": 3}), 401, "no_means")
        assert not Subscription.objects.exists()
