import datetime as dt

import pytest
from django.core import mail

from buttons.models import Flattr, FlattrSource, Subscription, SubscriptionStatus
from buttons.renewal import subscriptions_renew
from notifications.models import Event
from payouts import services as payouts
from payouts.shares import run_shares
from tests.factories import ThingFactory, UserFactory, flattr, fund

pytestmark = pytest.mark.django_db(transaction=True)

AUG = dt.date(2026, 8, 1)
SEP = dt.date(2026, 9, 1)
SEP_1 = dt.datetime(2026, 9, 1, 0, 5, tzinfo=dt.UTC)


def subscription(supporter=None, months=3, remaining=2, last=AUG, **kwargs):
    return Subscription.objects.create(
        supporter=supporter or funded(),
        thing=kwargs.pop("thing", None) or ThingFactory(),
        months=months,
        months_remaining=remaining,
        last_period=last,
        **kwargs,
    )


def funded(cents=1000):
    user = UserFactory()
    fund(user, cents)
    return user


def test_due_subscriptions_get_this_months_flattr_once_however_often_it_runs():
    sub = subscription()
    assert subscriptions_renew(now=SEP_1) == {"renewed": 1, "flattrs_created": 1, "skipped": 0}
    assert subscriptions_renew(now=SEP_1 + dt.timedelta(days=1)) == {
        "renewed": 0,
        "flattrs_created": 0,
        "skipped": 0,
    }
    [made] = Flattr.objects.all()
    assert (made.supporter_id, made.thing_id, made.period, made.source) == (
        sub.supporter_id,
        sub.thing_id,
        SEP,
        FlattrSource.SUBSCRIPTION,
    )
    sub.refresh_from_db()
    assert (sub.months_remaining, sub.last_period) == (1, SEP)


def test_a_manual_flattr_this_month_counts_as_the_subscriptions_month():
    sub = subscription()
    flattr(sub.supporter, sub.thing, SEP)
    assert subscriptions_renew(now=SEP_1 + dt.timedelta(hours=13))["flattrs_created"] == 0
    assert Flattr.objects.count() == 1
    sub.refresh_from_db()
    assert sub.months_remaining == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": SubscriptionStatus.PAUSED},
        {"status": SubscriptionStatus.CANCELLED},
        {"remaining": 0},
        {"last": SEP},
        {"hidden_thing": True},
    ],
)
def test_paused_cancelled_finished_done_or_hidden_subscriptions_are_left_alone(kwargs):
    if kwargs.pop("hidden_thing", False):
        kwargs["thing"] = ThingFactory(hidden=True)
    subscription(**kwargs)
    assert subscriptions_renew(now=SEP_1)["renewed"] == 0
    assert not Flattr.objects.exists()


def test_an_empty_wallet_skips_the_month_with_a_notice_without_shortening_it():
    broke = UserFactory()
    sub = subscription(supporter=broke)
    result = subscriptions_renew(now=SEP_1)
    assert result == {"renewed": 0, "flattrs_created": 0, "skipped": 1}
    sub.refresh_from_db()
    assert (sub.status, sub.months_remaining, sub.last_period) == ("active", 2, SEP)
    assert not Flattr.objects.exists()
    [notice] = mail.outbox
    assert sub.thing.title in notice.subject
    # Topped up later in the month: the month stays skipped (same rows)...
    fund(broke, 500)
    assert subscriptions_renew(now=SEP_1 + dt.timedelta(days=3))["renewed"] == 0
    # ...and the next month renews.
    assert subscriptions_renew(now=dt.datetime(2026, 10, 1, 0, 5, tzinfo=dt.UTC))["renewed"] == 1
    assert Event.objects.filter(type="subscription.skipped").count() == 1


def test_the_months_run_counts_the_subscription_flattr():
    creator = UserFactory()
    sub = subscription(thing=ThingFactory(owner=creator))
    subscriptions_renew(now=SEP_1)
    run = payouts.payout_run_compute(period=SEP)
    [share] = run_shares(run=run, supporter_ids=[sub.supporter_id])
    assert (share.supporter_id, share.creator_id, share.amount) == (
        sub.supporter_id,
        creator.pk,
        200,
    )
