"""Deleting an account erases the person and keeps every ledger row."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from buttons.models import Thing
from ledger.models import AccountKind, Posting
from payments.services import topups
from payments.withdrawals.models import Withdrawal
from tests.factories import FlattrFactory, ThingFactory, UserFactory, earn
from tests.payouts.helpers import balance, compute, flattr, fund, thing
from yourdata.services import DeletionRefused, WalletChoice, account_delete

pytestmark = pytest.mark.django_db


def test_delete_erases_personal_data_hides_things_and_keeps_postings():
    user = UserFactory(display_name="Ada Lovelace", bio="Poet of science", flattrs_public=True)
    ThingFactory(owner=user)
    postings = Posting.objects.count()
    account_delete(user=user)
    user = User.objects.get(pk=user.pk)
    assert user.email == f"deleted-{user.pk}@deleted.invalid"
    assert user.username == f"deleted-{user.pk}"
    assert (user.display_name, user.bio, user.website) == ("", "", "")
    assert not user.is_active and not user.has_usable_password()
    assert not user.flattrs_public and user.deleted_at is not None
    assert not EmailAddress.objects.filter(user=user).exists()
    assert list(Thing.objects.filter(owner=user).values_list("hidden", flat=True)) == [True]
    assert Posting.objects.count() == postings


def assert_deletion_refused(user, match):
    """Deleting ``user`` is refused with ``match`` and changes nothing."""
    name = user.display_name
    with pytest.raises(DeletionRefused, match=match):
        account_delete(user=user)
    user.refresh_from_db()
    assert user.is_active and user.display_name == name


def test_wallet_left_needs_a_choice_and_nothing_changes_without_one():
    user = UserFactory(display_name="Ada")
    fund(user, 700)
    assert_deletion_refused(user, "Choose what happens")


def test_giving_the_wallet_makes_it_this_months_budget():
    user = UserFactory(monthly_budget_cents=200)
    fund(user, 700)
    FlattrFactory(supporter=user)
    account_delete(user=user, wallet_choice=WalletChoice.GIVE)
    user.refresh_from_db()
    assert user.monthly_budget_cents == 700
    assert balance(user) == 700


def test_giving_without_flattrs_this_month_is_refused():
    user = UserFactory()
    fund(user, 700)
    with pytest.raises(DeletionRefused, match="nobody to give it to"):
        account_delete(user=user, wallet_choice=WalletChoice.GIVE)
    assert User.objects.get(pk=user.pk).deleted_at is None


def test_asking_the_wallet_back_stops_month_end_taking(settings):
    # The refund itself (review, payment, ledger) is in tests/withdrawals/test_wallet_refunds.py.
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    user = UserFactory(monthly_budget_cents=200)
    topup, _url = topups.topup_create(user=user, amount_cents=1000)
    topups.simulated_checkout_pay(topup=topup)  # fee 0.40: 9.60 in the wallet
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    user.refresh_from_db()
    assert user.monthly_budget_cents == 0
    assert balance(user) == 0
    assert balance(user, AccountKind.PENDING_WITHDRAWAL) == 960


def test_a_wallet_wholly_set_aside_for_last_months_run_needs_no_choice():
    user = UserFactory(monthly_budget_cents=500)
    fund(user, 500)
    period = (timezone.now().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    flattr(user, thing(), period)
    compute(period)
    account_delete(user=user)  # no wallet_choice: nothing is left to decide
    user.refresh_from_db()
    assert user.deleted_at is not None and user.monthly_budget_cents == 0
    assert balance(user) == 500  # still there for the run
    assert not Withdrawal.objects.filter(user=user).exists()


def test_earnings_that_can_be_withdrawn_must_be_withdrawn_first(settings):
    settings.FLATTR_MIN_WITHDRAWAL_CENTS = 1000
    user = UserFactory(display_name="Cleo")
    earn(user, 1234)
    assert_deletion_refused(user, "12.34")
    assert balance(user, AccountKind.EARNINGS) == 1234


def test_earnings_below_the_minimum_withdrawal_do_not_block_deletion(settings):
    settings.FLATTR_MIN_WITHDRAWAL_CENTS = 1000
    user = UserFactory()
    earn(user, 999)
    account_delete(user=user)
    user.refresh_from_db()
    assert not user.is_active
    assert balance(user, AccountKind.EARNINGS) == 999


def _subscriptions(user, *statuses):
    from buttons.models import Subscription

    return [
        Subscription.objects.create(
            supporter=user,
            thing=ThingFactory(),
            months=12,
            months_remaining=10,
            last_period=dt.date(2026, 8, 1),
            status=status,
        )
        for status in statuses
    ]


def test_deletion_cancels_the_persons_subscriptions_so_no_renewal_flattrs_or_mails(mailoutbox):
    from buttons.models import Flattr, SubscriptionStatus
    from buttons.renewal import subscriptions_renew
    from notifications.models import Event

    user = UserFactory()
    subs = _subscriptions(user, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED)
    account_delete(user=user)
    for sub in subs:
        sub.refresh_from_db()
    assert [s.status for s in subs] == [SubscriptionStatus.CANCELLED] * 2

    # Next month, empty wallet: no "subscription skipped" notice to the
    # erased address; and money coming back (a failed refund) flattrs nothing.
    september = dt.datetime(2026, 9, 1, 0, 5, tzinfo=dt.UTC)
    assert subscriptions_renew(now=september) == {
        "renewed": 0,
        "flattrs_created": 0,
        "skipped": 0,
    }
    fund(user, 500)
    assert subscriptions_renew(now=september + dt.timedelta(days=31))["renewed"] == 0
    assert not Flattr.objects.filter(supporter=user).exists()
    assert not Event.objects.filter(recipient=user).exists()
    assert mailoutbox == []


def test_a_refused_deletion_keeps_the_subscriptions():
    from buttons.models import SubscriptionStatus

    user = UserFactory()
    fund(user, 700)
    [sub] = _subscriptions(user, SubscriptionStatus.ACTIVE)
    with pytest.raises(DeletionRefused):
        account_delete(user=user)  # no wallet choice
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE
