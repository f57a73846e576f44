"""Deleting an account with "refund it": the wallet leaves through a wallet
refund that staff review, paid back to the top-ups' cards exactly once."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import AccountKind, Transaction
from payments.gateways import GatewayRateLimited
from payments.models import TopUp
from payments.services import topups as topup_services
from payments.withdrawals import services, wallet_refunds
from payments.withdrawals.models import Withdrawal, WithdrawalKind, WithdrawalStatus
from payouts.models import SupporterLine
from tests.factories import UserFactory
from tests.payments.helpers import pay_topup
from tests.payouts.helpers import compute, flattr, fund, post, thing
from tests.stripe_fake import post_event
from yourdata.services import DeletionRefused, WalletChoice, account_delete

pytestmark = pytest.mark.django_db


def wallet(user):
    return ledger_selectors.wallet_balance(user=user)


def pending(user):
    return ledger_selectors.user_balance(user=user, kind=AccountKind.PENDING_WITHDRAWAL)


def outside():
    return ledger_selectors.account_balance(
        account=ledger.platform_account(kind=AccountKind.OUTSIDE)
    )


def topped_up(user, *amounts):
    """Top-ups paid through the test-mode gateway (fee 1.5% + 0.25)."""
    topups = []
    for amount in amounts:
        topup, _url = topup_services.topup_create(user=user, amount_cents=amount)
        topups.append(topup_services.simulated_checkout_pay(topup=topup))
    return topups


def admin_action(client, staff, withdrawal, action, reason=""):
    client.force_login(staff)
    return client.post(
        reverse("admin:withdrawals_withdrawal_changelist"),
        {"action": action, "_selected_action": [withdrawal.pk], "confirm": "1", "reason": reason},
    )


@pytest.fixture
def refunding(settings):
    """A supporter with two test-mode top-ups: 10.00 (fee 0.40, net 9.60)
    then 5.00 (fee 0.33, net 4.67): the wallet holds 14.27 EUR."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    user = UserFactory(display_name="Ada", monthly_budget_cents=200)
    older, newer = topped_up(user, 1000, 500)
    assert wallet(user) == 1427
    return user, older, newer


def test_refund_choice_empties_the_wallet_into_a_refund_awaiting_review(refunding):
    user, older, newer = refunding
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)

    refund = Withdrawal.objects.get(user=user)
    assert refund.kind == WithdrawalKind.WALLET_REFUND
    assert refund.status == WithdrawalStatus.AWAITING_REVIEW
    assert refund.amount_cents == 1427
    # Newest top-up first, each up to what its charge can still give back.
    assert refund.refunds == [
        {"topup_id": newer.pk, "amount_cents": 500},
        {"topup_id": older.pk, "amount_cents": 927},
    ]
    assert (wallet(user), pending(user)) == (0, 1427)
    assert list(TopUp.objects.order_by("pk").values_list("reversed_cents", flat=True)) == [927, 500]
    user = User.objects.get(pk=user.pk)
    assert user.display_name == "" and user.email.endswith("@deleted.invalid")
    assert user.monthly_budget_cents == 0
    assert ledger_selectors.ledger_problems() == []


def test_approved_refund_is_paid_back_once_and_leaves_the_ledger(client, staff, refunding):
    user, older, newer = refunding
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    refund = Withdrawal.objects.get(user=user)
    outside_before = outside()

    assert admin_action(client, staff, refund, "approve").status_code == 302
    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.PROCESSING and refund.reviewed_by == staff
    services.withdrawal_pay(withdrawal_id=refund.pk)
    services.withdrawal_pay(withdrawal_id=refund.pk)  # a retry pays nothing more

    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.PAID
    assert [r["refund_id"] for r in refund.refunds] == [
        f"test_re_withdrawal_{refund.pk}_topup_{newer.pk}",
        f"test_re_withdrawal_{refund.pk}_topup_{older.pk}",
    ]
    assert (wallet(user), pending(user)) == (0, 0)
    assert outside() - outside_before == 1427
    assert Transaction.objects.filter(idempotency_key=f"withdrawal:{refund.pk}:paid").count() == 1
    assert ledger_selectors.ledger_problems() == []


def test_rejected_refund_returns_to_the_anonymous_wallet(client, staff, refunding):
    user, older, newer = refunding
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    refund = Withdrawal.objects.get(user=user)

    assert admin_action(client, staff, refund, "reject", "card reported stolen").status_code == 302

    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.REJECTED
    assert refund.reason == "card reported stolen" and refund.reviewed_by == staff
    assert (wallet(user), pending(user)) == (1427, 0)
    # The reservations on the charges are released: nothing was refunded.
    assert list(TopUp.objects.order_by("pk").values_list("reversed_cents", flat=True)) == [0, 0]
    # Still erased, and nothing is taken at month end.
    user = User.objects.get(pk=user.pk)
    assert user.deleted_at is not None and user.monthly_budget_cents == 0
    # Paying a rejected refund does nothing.
    assert services.withdrawal_pay(withdrawal_id=refund.pk).status == WithdrawalStatus.REJECTED
    assert pending(user) == 0
    assert ledger_selectors.ledger_problems() == []


def test_money_the_cards_cannot_take_back_refuses_the_deletion(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    user = UserFactory(display_name="Ada")
    topped_up(user, 500)  # net 4.67
    fund(user, 300)  # credited without a card payment
    with pytest.raises(DeletionRefused, match="Only 5.00"):
        account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    user.refresh_from_db()
    assert user.display_name == "Ada" and user.deleted_at is None
    assert wallet(user) == 767
    assert not Withdrawal.objects.exists()
    assert TopUp.objects.get().reversed_cents == 0


def test_deleting_from_the_page_with_refund_creates_the_wallet_refund(client, refunding):
    user, _older, _newer = refunding
    client.force_login(user)
    response = client.post(
        reverse("your_data"), {"wallet_choice": "refund", "confirm": user.username}
    )
    assert response.status_code == 302
    assert Withdrawal.objects.get(user_id=user.pk).amount_cents == 1427


class TestThroughStripe:
    @pytest.fixture
    def stripe_topups(self, client, stripe_fake):
        """Two Stripe top-ups: 8.00 (fee 0.37) then 8.00 (fee 0.37); wallet 15.26."""
        user = UserFactory()
        topups = [pay_topup(client, stripe_fake, user) for _ in range(2)]
        client.logout()
        assert wallet(user) == 1526
        return user, topups

    def delete_with_refund(self, user, fake):
        """Stripe accepts every refund; the person deletes their account
        and asks for the wallet back."""
        fake.route(
            "post",
            "/v1/refunds",
            lambda params, call: {"id": f"re_{params['payment_intent']}", "object": "refund"},
        )
        account_delete(user=user, wallet_choice=WalletChoice.REFUND)

    def refunds(self, fake):
        return [c for c in fake.calls if c["path"] == "/v1/refunds"]

    def test_each_charge_is_refunded_once_and_its_webhook_moves_nothing_more(
        self, client, staff, stripe_fake, stripe_topups
    ):
        user, (older, newer) = stripe_topups
        self.delete_with_refund(user, stripe_fake)
        refund = Withdrawal.objects.get(user=user)
        admin_action(client, staff, refund, "approve")
        services.withdrawal_pay(withdrawal_id=refund.pk)
        services.withdrawal_pay(withdrawal_id=refund.pk)

        calls = self.refunds(stripe_fake)
        assert [(c["params"]["payment_intent"], c["params"]["amount"]) for c in calls] == [
            (f"pi_{newer.pk}", "800"),
            (f"pi_{older.pk}", "726"),
        ]
        assert calls[0]["idempotency_key"] == f"withdrawal:{refund.pk}:topup:{newer.pk}"
        refund.refresh_from_db()
        assert refund.status == WithdrawalStatus.PAID
        # Stripe then reports the refunds on each charge: already counted.
        for topup, amount in ((newer, 800), (older, 726)):
            post_event(
                client, "charge.refunded", {"id": f"ch_{topup.pk}", "amount_refunded": amount}
            )
        assert (wallet(user), pending(user)) == (0, 0)
        assert ledger_selectors.receivable_owed(user=user) == 0
        assert not Transaction.objects.filter(kind="topup_reversal").exists()
        assert ledger_selectors.ledger_problems() == []

    def test_a_declined_refund_goes_back_to_the_wallet(
        self, client, staff, stripe_fake, stripe_topups
    ):
        user, (older, newer) = stripe_topups
        self.delete_with_refund(user, stripe_fake)
        withdrawal = Withdrawal.objects.get(user=user)
        # Stripe declines the refund of the older charge.
        original = stripe_fake.request

        def request(method, url, headers, post_data=None, *, _usage=None):
            if url.endswith("/v1/refunds") and f"pi_{older.pk}" in (post_data or ""):
                stripe_fake.fail_next.append(
                    (400, {"error": {"message": "Charge is too old to refund."}})
                )
            return original(method, url, headers, post_data, _usage=_usage)

        stripe_fake.request = request
        admin_action(client, staff, withdrawal, "approve")
        services.withdrawal_pay(withdrawal_id=withdrawal.pk)

        withdrawal.refresh_from_db()
        assert withdrawal.status == WithdrawalStatus.FAILED
        assert "8.00" in withdrawal.reason and "Charge is too old" in withdrawal.reason
        assert (wallet(user), pending(user)) == (726, 0)
        newer.refresh_from_db()
        older.refresh_from_db()
        assert (newer.reversed_cents, older.reversed_cents) == (800, 0)
        assert ledger_selectors.ledger_problems() == []

    def test_a_rate_limited_refund_is_tried_again_not_declined(
        self, client, staff, stripe_fake, stripe_topups
    ):
        """Stripe's 429 is no refusal: the wallet refund stays processing
        with its cents reserved (none go back to the wallet), and the
        task's next try refunds each charge once."""
        user, (older, newer) = stripe_topups
        self.delete_with_refund(user, stripe_fake)
        withdrawal = Withdrawal.objects.get(user=user)
        admin_action(client, staff, withdrawal, "approve")
        stripe_fake.fail_next.append(
            (429, {"error": {"type": "rate_limit_error", "message": "Too many requests"}})
        )
        with pytest.raises(GatewayRateLimited):
            services.withdrawal_pay(withdrawal_id=withdrawal.pk)
        withdrawal.refresh_from_db()
        assert withdrawal.status == WithdrawalStatus.PROCESSING
        assert (wallet(user), pending(user)) == (0, 1526)
        services.withdrawal_pay(withdrawal_id=withdrawal.pk)
        withdrawal.refresh_from_db()
        assert withdrawal.status == WithdrawalStatus.PAID
        assert (wallet(user), pending(user)) == (0, 0)
        keys = [c["idempotency_key"] for c in self.refunds(stripe_fake)]
        assert sorted(set(keys)) == sorted(
            f"withdrawal:{withdrawal.pk}:topup:{t.pk}" for t in (older, newer)
        )
        assert ledger_selectors.ledger_problems() == []


def test_admin_page_of_a_wallet_refund_shows_its_charges_in_euros(client, staff, refunding):
    user, older, newer = refunding
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    refund = Withdrawal.objects.get(user=user)
    client.force_login(staff)
    listing = client.get(reverse("admin:withdrawals_withdrawal_changelist") + "?kind=wallet_refund")
    assert listing.status_code == 200 and "14.27" in listing.content.decode()
    page = client.get(reverse("admin:withdrawals_withdrawal_change", args=[refund.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Wallet refund" in content
    assert f"#{newer.pk}: 5.00" in content and f"#{older.pk}: 9.27" in content
    assert 'name="refunds"' not in content  # the plan cannot be edited


def test_a_refund_that_fails_later_comes_back_to_the_wallet_once(client, staff, stripe_fake):
    user = UserFactory()
    topup = pay_topup(client, stripe_fake, user)
    stripe_fake.route("post", "/v1/refunds", {"id": "re_1", "object": "refund"})
    client.logout()
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    refund = Withdrawal.objects.get(user=user)
    admin_action(client, staff, refund, "approve")
    services.withdrawal_pay(withdrawal_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.PAID and wallet(user) == 0
    outside_before = outside()

    failed = {"id": "re_1", "object": "refund", "status": "failed", "amount": 763}
    failed["failure_reason"] = "expired_or_canceled_card"
    assert post_event(client, "charge.refund.updated", failed).status_code == 200
    assert post_event(client, "refund.failed", failed).status_code == 200  # same news again

    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.REVERSED
    assert "expired_or_canceled_card" in refund.reason
    assert (wallet(user), pending(user)) == (763, 0)
    assert outside() - outside_before == -763
    topup.refresh_from_db()
    assert topup.reversed_cents == 0
    assert ledger_selectors.ledger_problems() == []


def test_what_last_months_computed_run_takes_stays_for_that_run(refunding, staff):
    user, older, newer = refunding
    period = (timezone.now().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    flattr(user, thing(), period)
    run = compute(period)
    taken = SupporterLine.objects.get(run=run, supporter=user).taken
    assert taken == 200  # the budget

    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    assert Withdrawal.objects.get(user=user).amount_cents == 1427 - 200
    assert (wallet(user), pending(user)) == (200, 1227)
    post(run, staff)
    assert wallet(user) == 0
    assert SupporterLine.objects.get(run=run, supporter=user).taken == 200
    assert ledger_selectors.ledger_problems() == []


def test_a_withdrawal_names_itself_in_euros():
    refund = Withdrawal(pk=7, kind=WithdrawalKind.WALLET_REFUND, amount_cents=1427, status="paid")
    assert str(refund) == "#7 Wallet refund (14.27\u00a0€, Paid)"


def test_two_payment_attempts_at_once_record_the_refunds_once(client, staff, refunding, caplog):
    user, older, newer = refunding
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    refund = Withdrawal.objects.get(user=user)
    admin_action(client, staff, refund, "approve")
    # The sweeper's attempt got the same answers from the gateway (same keys)
    # while the task's attempt was recording them.
    results = [
        {**item, "refund_id": f"test_re_withdrawal_{refund.pk}_topup_{item['topup_id']}"}
        for item in refund.refunds
    ]
    wallet_refunds._record(withdrawal_id=refund.pk, results=results)
    with caplog.at_level("ERROR"):
        wallet_refunds._record(withdrawal_id=refund.pk, results=results)
    assert "check it by hand" not in caplog.text
    assert Transaction.objects.filter(idempotency_key=f"withdrawal:{refund.pk}:paid").count() == 1
    assert (wallet(user), pending(user)) == (0, 0)
