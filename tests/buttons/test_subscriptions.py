import pytest
from django.db import IntegrityError, transaction

from buttons import selectors
from buttons.models import Flattr, FlattrSource, Subscription, SubscriptionStatus
from buttons.services import FlattrRefused, current_period, flattr_create
from buttons.subscriptions import (
    subscription_cancel,
    subscription_create,
    subscription_toggle_pause,
)
from tests.factories import ThingFactory, UserFactory


@pytest.fixture
def supporter(db):
    return UserFactory(wallet_cents=1000)


@pytest.fixture
def thing(db):
    return ThingFactory()


def refused_code(**kwargs) -> str:
    with pytest.raises(FlattrRefused) as info:
        subscription_create(**kwargs)
    return info.value.code


@pytest.mark.django_db
class TestSubscriptionCreate:
    def test_subscribing_flattrs_this_month_as_the_first_month(self, supporter, thing):
        subscription = subscription_create(supporter=supporter, thing=thing, months=3)

        assert subscription.status == SubscriptionStatus.ACTIVE
        assert subscription.months == 3
        assert subscription.months_remaining == 2
        assert subscription.last_period == current_period()
        flattr = Flattr.objects.get(supporter=supporter, thing=thing)
        assert flattr.period == current_period()
        assert flattr.source == FlattrSource.SUBSCRIPTION

    def test_a_manual_flattr_this_month_counts_as_the_first_month(self, supporter, thing):
        flattr_create(supporter=supporter, thing=thing)

        subscription = subscription_create(supporter=supporter, thing=thing, months=1)

        assert subscription.months_remaining == 0
        assert Flattr.objects.filter(supporter=supporter, thing=thing).count() == 1
        assert Flattr.objects.get().source == FlattrSource.BUTTON

    @pytest.mark.parametrize("months", [0, 2, 5, 24, -1])
    def test_unknown_durations_are_refused(self, supporter, thing, months):
        assert refused_code(supporter=supporter, thing=thing, months=months) == (
            "invalid_parameters"
        )
        assert not Subscription.objects.exists()
        assert not Flattr.objects.exists()

    def test_own_thing_is_refused(self, supporter):
        own = ThingFactory(owner=supporter)
        assert refused_code(supporter=supporter, thing=own, months=3) == "thing_owner"
        assert not Subscription.objects.exists()

    @pytest.mark.parametrize("field", ["hidden", "removed"])
    def test_hidden_or_removed_things_are_refused(self, supporter, field):
        thing = ThingFactory(**{field: True})
        assert refused_code(supporter=supporter, thing=thing, months=3) == "thing_unavailable"
        assert not Subscription.objects.exists()
        assert not Flattr.objects.exists()

    def test_second_live_subscription_is_refused(self, supporter, thing):
        subscription_create(supporter=supporter, thing=thing, months=3)
        assert refused_code(supporter=supporter, thing=thing, months=6) == "subscribed"
        assert Subscription.objects.count() == 1

    def test_a_paused_subscription_still_blocks_a_second_one(self, supporter, thing):
        subscription_create(supporter=supporter, thing=thing, months=3)
        subscription_toggle_pause(supporter=supporter, thing=thing)
        assert refused_code(supporter=supporter, thing=thing, months=6) == "subscribed"

    def test_after_cancelling_one_can_subscribe_again(self, supporter, thing):
        subscription_create(supporter=supporter, thing=thing, months=3)
        subscription_cancel(supporter=supporter, thing=thing)

        again = subscription_create(supporter=supporter, thing=thing, months=6)

        assert again.months_remaining == 5
        assert Subscription.objects.count() == 2
        assert Flattr.objects.count() == 1

    def test_an_empty_wallet_refuses_and_writes_nothing(self, thing):
        broke = UserFactory()
        assert refused_code(supporter=broke, thing=thing, months=3) == "no_means"
        assert not Subscription.objects.exists()
        assert not Flattr.objects.exists()

    def test_subscribing_an_unclaimed_thing_works(self, supporter):
        unclaimed = ThingFactory(owner=None)
        subscription = subscription_create(supporter=supporter, thing=unclaimed, months=12)
        assert subscription.months_remaining == 11


@pytest.mark.django_db
class TestPauseAndCancel:
    def test_toggle_pauses_then_resumes(self, supporter, thing):
        subscription_create(supporter=supporter, thing=thing, months=3)

        paused = subscription_toggle_pause(supporter=supporter, thing=thing)
        assert paused.status == SubscriptionStatus.PAUSED
        resumed = subscription_toggle_pause(supporter=supporter, thing=thing)
        assert resumed.status == SubscriptionStatus.ACTIVE
        assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE

    def test_toggle_without_subscription_is_not_found(self, supporter, thing):
        with pytest.raises(FlattrRefused) as info:
            subscription_toggle_pause(supporter=supporter, thing=thing)
        assert info.value.code == "not_found"
        assert info.value.status == 404

    def test_cancel_keeps_the_flattrs_already_made(self, supporter, thing):
        subscription_create(supporter=supporter, thing=thing, months=3)

        subscription_cancel(supporter=supporter, thing=thing)

        assert Subscription.objects.get().status == SubscriptionStatus.CANCELLED
        assert Flattr.objects.filter(supporter=supporter, thing=thing).count() == 1

    def test_cancel_twice_is_not_found(self, supporter, thing):
        subscription_create(supporter=supporter, thing=thing, months=3)
        subscription_cancel(supporter=supporter, thing=thing)
        with pytest.raises(FlattrRefused) as info:
            subscription_cancel(supporter=supporter, thing=thing)
        assert info.value.code == "not_found"

    def test_toggle_on_a_cancelled_subscription_is_not_found(self, supporter, thing):
        subscription_create(supporter=supporter, thing=thing, months=3)
        subscription_cancel(supporter=supporter, thing=thing)
        with pytest.raises(FlattrRefused):
            subscription_toggle_pause(supporter=supporter, thing=thing)


@pytest.mark.django_db
class TestDatabaseRules:
    def make(self, **fields):
        supporter = UserFactory()
        thing = ThingFactory()
        defaults = {"months": 3, "months_remaining": 2, "status": "active"}
        defaults.update(fields)
        with transaction.atomic():
            return Subscription.objects.create(supporter=supporter, thing=thing, **defaults)

    @pytest.mark.parametrize(
        "fields",
        [
            {"months": 2, "months_remaining": 1},
            {"months": 3, "months_remaining": 4},
            {"status": "finished"},
            {"last_period": "2026-01-15"},
        ],
    )
    def test_database_refuses_invalid_rows(self, fields):
        with pytest.raises(IntegrityError):
            self.make(**fields)

    def test_database_allows_one_live_subscription_per_pair(self, supporter, thing):
        Subscription.objects.create(
            supporter=supporter, thing=thing, months=3, months_remaining=2, status="cancelled"
        )
        Subscription.objects.create(
            supporter=supporter, thing=thing, months=3, months_remaining=2, status="paused"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            Subscription.objects.create(
                supporter=supporter, thing=thing, months=3, months_remaining=2
            )

    def test_database_refuses_an_unknown_flattr_source(self, supporter, thing):
        with pytest.raises(IntegrityError), transaction.atomic():
            Flattr.objects.create(
                supporter=supporter,
                thing=thing,
                period=current_period(),
                created_at="2026-01-01T00:00:00Z",
                source="magic",
            )


@pytest.mark.django_db
def test_subscriptions_for_lists_live_subscriptions_newest_first(supporter):
    first, second, third = ThingFactory(), ThingFactory(), ThingFactory()
    subscription_create(supporter=supporter, thing=first, months=1)
    subscription_create(supporter=supporter, thing=second, months=3)
    subscription_create(supporter=supporter, thing=third, months=6)
    subscription_cancel(supporter=supporter, thing=second)

    listed = list(selectors.subscriptions_for(user=supporter))

    assert [s.thing for s in listed] == [third, first]
