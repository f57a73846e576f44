"""Withdrawing earnings: transfers, failures, review, bad input, races."""

import pytest
from django.core import mail
from django.urls import reverse

from ledger import selectors as ledger_selectors
from payments import stripe_client
from payments.withdrawals import services
from payments.withdrawals.models import Withdrawal
from tests.concurrency import at_once
from tests.factories import UserFactory
from tests.stripe_fake import post_event
from tests.withdrawals.helpers import creator_with, earnings, pending, withdraw


@pytest.mark.django_db
class TestWithdrawals:
    def test_withdrawal_paid_through_stripe(
        self, client, stripe_fake, django_capture_on_commit_callbacks
    ):
        user = creator_with(5000, stripe_id="acct_1")
        with django_capture_on_commit_callbacks(execute=True):
            response = withdraw(client, user, "30.00")
        assert response.status_code == 302
        w = Withdrawal.objects.get()
        assert (w.status, w.stripe_transfer_id) == ("paid", "tr_1")
        call = next(c for c in stripe_fake.calls if c["path"] == "/v1/transfers")
        assert call["idempotency_key"] == f"withdrawal:{w.pk}"
        assert call["params"] == {
            "amount": "3000",
            "currency": "eur",
            "destination": "acct_1",
            "metadata[withdrawal_id]": str(w.pk),
        }
        assert (earnings(user), pending(user)) == (2000, 0)
        assert ledger_selectors.ledger_problems() == []

    def test_api_error_returns_the_money_and_tells_the_creator(
        self, client, stripe_fake, django_capture_on_commit_callbacks
    ):
        user = creator_with(5000, stripe_id="acct_1")
        stripe_fake.fail_next = [
            (
                400,
                {
                    "error": {
                        "message": "Insufficient platform balance",
                        "type": "invalid_request_error",
                    }
                },
            )
        ]
        with django_capture_on_commit_callbacks(execute=True):
            withdraw(client, user, "30")
        w = Withdrawal.objects.get()
        assert w.status == "failed" and "Insufficient" in w.reason
        assert (earnings(user), pending(user)) == (5000, 0)
        assert len(mail.outbox) == 1 and "back in your earnings" in mail.outbox[0].body
        assert "Insufficient" in client.get(reverse("earnings")).content.decode()
        assert ledger_selectors.ledger_problems() == []

    def test_reversed_transfer_returns_the_money(
        self, client, stripe_fake, django_capture_on_commit_callbacks
    ):
        user = creator_with(5000, stripe_id="acct_1")
        with django_capture_on_commit_callbacks(execute=True):
            withdraw(client, user, "50")
        assert earnings(user) == 0
        with django_capture_on_commit_callbacks(execute=True):
            for _ in range(2):  # a duplicate delivery changes nothing
                post_event(
                    client,
                    "transfer.reversed",
                    {"id": "tr_1", "object": "transfer"},
                    event_id="evt_rev",
                )
            post_event(client, "transfer.reversed", {"id": "tr_1", "object": "transfer"})
        assert Withdrawal.objects.get().status == "reversed"
        assert earnings(user) == 5000
        assert ledger_selectors.ledger_problems() == []

    def test_retry_after_the_transfer_went_through_pays_once(self, stripe_fake):
        user = creator_with(5000, stripe_id="acct_1")
        w = services.withdrawal_request(user=user, amount_cents=2000)
        # Stripe makes the transfer, but our worker dies before recording it.
        params = {
            "amount": 2000,
            "currency": "eur",
            "destination": "acct_1",
            "metadata": {"withdrawal_id": str(w.pk)},
        }
        first = stripe_client.get_paced_client().v1.transfers.create(
            params=params, options={"idempotency_key": f"withdrawal:{w.pk}"}
        )
        # The retried task sends the same idempotency key and gets the same transfer.
        services.withdrawal_pay(withdrawal_id=w.pk)
        services.withdrawal_pay(withdrawal_id=w.pk)
        w.refresh_from_db()
        assert w.stripe_transfer_id == first.id
        transfers = {
            c["idempotency_key"] for c in stripe_fake.calls if c["path"] == "/v1/transfers"
        }
        assert transfers == {f"withdrawal:{w.pk}"}
        assert len(stripe_fake.by_key) == 1
        assert (earnings(user), pending(user)) == (3000, 0)
        assert ledger_selectors.ledger_problems() == []

    def test_large_withdrawal_waits_for_review_then_approve(
        self, client, test_mode, settings, django_capture_on_commit_callbacks
    ):
        user = creator_with(50_000)
        with django_capture_on_commit_callbacks(execute=True):
            withdraw(client, user, "250")
        w = Withdrawal.objects.get()
        assert w.status == "awaiting_review"
        assert (earnings(user), pending(user)) == (25_000, 25_000)
        staff = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(staff)
        url = reverse("admin:withdrawals_withdrawal_changelist")
        confirm = client.post(url, {"action": "approve", "_selected_action": [w.pk]})
        assert "Yes, I am sure" in confirm.content.decode()
        w.refresh_from_db()
        assert w.status == "awaiting_review"
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, {"action": "approve", "_selected_action": [w.pk], "confirm": "1"})
        w.refresh_from_db()
        assert w.status == "paid" and w.reviewed_by == staff
        assert (earnings(user), pending(user)) == (25_000, 0)
        assert ledger_selectors.ledger_problems() == []

    def test_reject_needs_a_reason_and_returns_the_money(self, client, test_mode):
        user = creator_with(50_000)
        withdraw(client, user, "300")
        w = Withdrawal.objects.get()
        staff = UserFactory(is_staff=True, is_superuser=True)
        with pytest.raises(services.WithdrawalRefused):
            services.withdrawal_reject(withdrawal=w, staff=staff, reason=" ")
        client.force_login(staff)
        client.post(
            reverse("admin:withdrawals_withdrawal_changelist"),
            {
                "action": "reject",
                "_selected_action": [w.pk],
                "confirm": "1",
                "reason": "verify your identity",
            },
        )
        w.refresh_from_db()
        assert w.status == "rejected" and w.reason == "verify your identity"
        assert (earnings(user), pending(user)) == (50_000, 0)
        assert ledger_selectors.ledger_problems() == []


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        "amount, message",
        [
            ("60", "The maximum is 50.00"),
            ("9.99", "The minimum is 10.00"),
            ("ten", "Enter a number"),
            ("10.001", "2 decimal"),
        ],
    )
    def test_amount_errors(self, client, test_mode, amount, message):
        user = creator_with(5000)
        response = withdraw(client, user, amount)
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not Withdrawal.objects.exists()
        assert earnings(user) == 5000

    def test_second_withdrawal_while_one_is_open(self, client, test_mode):
        user = creator_with(50_000)
        withdraw(client, user, "250")  # awaits review
        with pytest.raises(services.WithdrawalRefused, match="already have a withdrawal"):
            services.withdrawal_request(user=user, amount_cents=1000)
        assert Withdrawal.objects.count() == 1
        assert earnings(user) == 25_000

    @pytest.mark.parametrize("status", ["pending", "restricted"])
    def test_without_an_enabled_account(self, client, test_mode, status):
        user = creator_with(5000, status=status)
        response = withdraw(client, user, "20")
        assert response.status_code == 400
        assert "Connect a payout account" in response.content.decode()
        assert not Withdrawal.objects.exists()

    def test_unknown_transfer_webhook_moves_nothing(self, client, stripe_fake):
        r = post_event(client, "transfer.reversed", {"id": "tr_unknown"})
        assert r.json()["result"] == "refused"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_make_one_withdrawal(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = 100_000
    user = creator_with(5000)
    results = at_once(2, lambda i: services.withdrawal_request(user=user, amount_cents=4000))
    refused = [r for r in results if isinstance(r, services.WithdrawalRefused)]
    assert len(refused) == 1
    assert not any(isinstance(r, Exception) and r not in refused for r in results)
    assert Withdrawal.objects.count() == 1
    assert Withdrawal.objects.get().status == "paid"
    assert (earnings(user), pending(user)) == (1000, 0)
    assert ledger_selectors.ledger_problems() == []
