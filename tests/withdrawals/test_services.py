"""Withdrawals: no Stripe call inside a transaction, a broker outage healed
by the sweeper, four eyes on approval."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind, Transaction
from payments.gateways import GatewayUnreachable
from payments.withdrawals import services, tasks
from payments.withdrawals.models import Withdrawal, WithdrawalStatus
from tests.factories import UserFactory
from tests.withdrawals.helpers import creator_with


def transfers(fake):
    return [c for c in fake.calls if c["path"] == "/v1/transfers"]


def paid_out(user) -> int:
    return sum(
        p.amount
        for t in Transaction.objects.filter(kind="withdrawal_paid")
        for p in t.postings.filter(account__kind=AccountKind.PENDING_WITHDRAWAL, account__user=user)
    )


@pytest.mark.django_db(transaction=True)
def test_withdrawal_pay_calls_stripe_with_no_transaction_or_lock_held(watching_stripe):
    user = creator_with(5000, stripe_id="acct_1")
    withdrawal = services.withdrawal_request(user=user, amount_cents=2000)
    (call,) = transfers(watching_stripe)
    assert call["in_atomic"] is False
    assert call["idempotency_key"] == f"withdrawal:{withdrawal.pk}"
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PAID
    assert ledger_selectors.earnings_balance(user=user) == 3000


@pytest.mark.django_db(transaction=True)
def test_payout_account_onboarding_calls_stripe_with_no_transaction_open(watching_stripe):
    user = UserFactory()
    account, url = services.payout_account_start(user=user)
    assert url.startswith("https://connect.stripe.com/")
    assert [c["in_atomic"] for c in watching_stripe.calls] == [False, False]
    account.refresh_from_db()
    assert (account.stripe_account_id, account.test_mode) == ("acct_1", False)


@pytest.mark.django_db(transaction=True)
def test_transfer_answer_lost_in_a_crash_is_paid_once_on_retry(watching_stripe, monkeypatch):
    user = creator_with(5000, stripe_id="acct_1")
    # The first attempt's transfer goes through at Stripe, but its answer
    # is lost: the task errors and Celery retries it.
    watching_stripe.lose_responses = 1
    monkeypatch.setattr(tasks.withdrawal_pay, "delay", lambda pk: None)  # the broker holds it
    withdrawal = services.withdrawal_request(user=user, amount_cents=2000)
    with pytest.raises(GatewayUnreachable):
        services.withdrawal_pay(withdrawal_id=withdrawal.pk)
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PROCESSING
    services.withdrawal_pay(withdrawal_id=withdrawal.pk)
    services.withdrawal_pay(withdrawal_id=withdrawal.pk)
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.stripe_transfer_id) == (WithdrawalStatus.PAID, "tr_1")
    assert len(watching_stripe.by_key) == 1
    assert paid_out(user) == -2000
    assert ledger_selectors.earnings_balance(user=user) == 3000
    assert ledger_selectors.ledger_problems() == []


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.django_db
def test_withdrawal_created_with_the_broker_down_is_paid_once_when_it_comes_back(
    client, watching_stripe, monkeypatch, settings, django_capture_on_commit_callbacks
):
    user = creator_with(5000, stripe_id="acct_1")
    client.force_login(user)
    with monkeypatch.context() as outage:
        outage.setattr(tasks.withdrawal_pay, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("earnings"), {"amount": "30"})
    # The creator is told it is on its way; nothing was paid yet.
    assert response.status_code == 302
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.status == WithdrawalStatus.PROCESSING
    assert transfers(watching_stripe) == []

    # Too early: a withdrawal that may still be in a queue is left alone.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.withdrawal_sweep_stuck.delay().get() == []
    # The broker is back; the beat's sweep finds it stuck and queues it.
    later = timezone.now() + dt.timedelta(minutes=settings.FLATTR_WITHDRAWAL_STUCK_MINUTES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.withdrawal_sweep_stuck(now=later) == [withdrawal.pk]
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PAID
    # Later sweeps leave a paid withdrawal alone.
    much_later = later + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.withdrawal_sweep_stuck(now=much_later) == []
    assert len(transfers(watching_stripe)) == 1
    assert paid_out(user) == -3000
    assert ledger_selectors.earnings_balance(user=user) == 2000
    assert ledger_selectors.ledger_problems() == []


@pytest.mark.django_db
def test_a_slow_withdrawal_queued_twice_is_paid_once(
    watching_stripe, monkeypatch, django_capture_on_commit_callbacks
):
    user = creator_with(5000, stripe_id="acct_1")
    monkeypatch.setattr(tasks.withdrawal_pay, "delay", lambda pk: None)  # still in the queue
    withdrawal = services.withdrawal_request(user=user, amount_cents=2000)
    monkeypatch.undo()
    later = timezone.now() + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.withdrawal_sweep_stuck(now=later)
    # The original message is finally delivered too.
    tasks.withdrawal_pay.delay(withdrawal.pk)
    assert len(watching_stripe.by_key) == 1
    assert paid_out(user) == -2000


@pytest.mark.django_db
class TestFourEyes:
    def test_staff_cannot_approve_their_own_withdrawal_and_the_admin_says_why(
        self, client, test_mode, django_capture_on_commit_callbacks
    ):
        staff = creator_with(50_000)
        staff.is_staff = staff.is_superuser = True
        staff.save(update_fields=["is_staff", "is_superuser"])
        withdrawal = services.withdrawal_request(user=staff, amount_cents=25_000)
        assert withdrawal.status == WithdrawalStatus.AWAITING_REVIEW
        client.force_login(staff)
        url = reverse("admin:withdrawals_withdrawal_changelist")
        response = client.post(
            url,
            {"action": "approve", "_selected_action": [withdrawal.pk], "confirm": "1"},
            follow=True,
        )
        assert "cannot approve your own withdrawal" in response.content.decode()
        withdrawal.refresh_from_db()
        assert withdrawal.status == WithdrawalStatus.AWAITING_REVIEW
        assert ledger_selectors.user_balance(user=staff, kind="pending_withdrawal") == 25_000

        colleague = UserFactory(is_staff=True, is_superuser=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.withdrawal_approve(withdrawal=withdrawal, staff=colleague)
        withdrawal.refresh_from_db()
        assert (withdrawal.status, withdrawal.reviewed_by) == (WithdrawalStatus.PAID, colleague)
