"""Stripe Checkout top-ups: sessions, webhooks, replays, outages."""

import pytest
from django.test import Client
from django.urls import reverse

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind, Transaction
from payments.models import TopUpStatus, WebhookEvent
from tests.concurrency import at_once
from tests.factories import UserFactory, platform
from tests.payments.helpers import start_topup
from tests.stripe_fake import event_payload, payment_intent, post_event, session_obj, sign


@pytest.mark.django_db
class TestStripeCheckout:
    def test_creates_a_session_with_our_id_and_idempotency_key(self, client, stripe_fake):
        user = UserFactory()
        response, topup = start_topup(client, user, "20")
        assert (
            response["Location"] == f"https://checkout.stripe.com/c/pay/{topup.checkout_session_id}"
        )
        call = stripe_fake.calls[0]
        assert call["path"] == "/v1/checkout/sessions"
        assert call["idempotency_key"] == f"topup:{topup.pk}"
        assert call["params"]["client_reference_id"] == str(topup.pk)
        assert call["params"]["metadata[topup_id]"] == str(topup.pk)
        assert call["params"]["mode"] == "payment"
        assert call["params"]["line_items[0][price_data][unit_amount]"] == "2000"
        assert call["params"]["success_url"].startswith("http://testserver/wallet/topup/")
        assert topup.status == TopUpStatus.PENDING
        assert ledger_selectors.wallet_balance(user=user) == 0

    def test_completed_session_credits_gross_minus_fee(self, paid_topup):
        user, topup = paid_topup
        assert topup.status == TopUpStatus.SUCCEEDED
        assert topup.fee_cents == 37
        assert ledger_selectors.wallet_balance(user=user) == 763
        assert platform(AccountKind.PROCESSOR_FEES) == 37
        assert platform(AccountKind.OUTSIDE) == -800
        assert ledger_selectors.ledger_problems() == []

    def test_return_page_says_pending_until_the_webhook(self, client, stripe_fake):
        user = UserFactory()
        _, topup = start_topup(client, user)
        page = client.get(reverse("topup_return", args=[topup.pk]))
        assert "Payment pending" in page.content.decode()

    def test_replayed_event_changes_nothing(self, client, paid_topup, stripe_fake):
        user, topup = paid_topup
        payload = event_payload("checkout.session.completed", session_obj(topup), "evt_same")
        for _ in range(2):
            r = client.post(
                "/stripe/webhook/",
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload),
            )
            assert r.status_code == 200
        assert r.json()["result"] == "duplicate"
        # A different event for the same session is also harmless.
        post_event(client, "checkout.session.completed", session_obj(topup))
        assert ledger_selectors.wallet_balance(user=user) == 763
        assert Transaction.objects.filter(kind="topup").count() == 1

    def test_async_payment_succeeds_later(self, client, stripe_fake):
        user = UserFactory()
        _, topup = start_topup(client, user)
        post_event(
            client, "checkout.session.completed", session_obj(topup, payment_status="unpaid")
        )
        assert ledger_selectors.wallet_balance(user=user) == 0
        stripe_fake.route(
            "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 20)
        )
        post_event(client, "checkout.session.async_payment_succeeded", session_obj(topup))
        assert ledger_selectors.wallet_balance(user=user) == 780

    @pytest.mark.parametrize(
        "event_type", ["checkout.session.expired", "checkout.session.async_payment_failed"]
    )
    def test_expiry_and_failure_mark_failed_and_move_nothing(self, client, stripe_fake, event_type):
        user = UserFactory()
        _, topup = start_topup(client, user)
        post_event(client, event_type, session_obj(topup, payment_status="unpaid"))
        topup.refresh_from_db()
        assert topup.status == TopUpStatus.FAILED
        assert ledger_selectors.wallet_balance(user=user) == 0
        assert not Transaction.objects.exists()

    def test_amount_mismatch_is_refused(self, client, stripe_fake):
        user = UserFactory()
        _, topup = start_topup(client, user)
        stripe_fake.route(
            "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 20)
        )
        r = post_event(client, "checkout.session.completed", session_obj(topup, amount_total=100))
        assert r.status_code == 200 and r.json()["result"] == "refused"
        topup.refresh_from_db()
        assert topup.status == TopUpStatus.PENDING
        assert not Transaction.objects.exists()
        assert WebhookEvent.objects.get().result == "refused"

    def test_unknown_session_is_refused_and_logged(self, client, stripe_fake):
        r = post_event(
            client,
            "checkout.session.completed",
            {"id": "cs_unknown", "client_reference_id": "999", "payment_status": "paid"},
        )
        assert r.json()["result"] == "refused"
        assert not Transaction.objects.exists()

    def test_unknown_event_type_is_acknowledged(self, client, stripe_fake):
        r = post_event(client, "customer.created", {"id": "cus_1"})
        assert r.status_code == 200 and r.json()["result"] == "ignored"

    def test_bad_signature_is_400_and_changes_nothing(self, client, stripe_fake):
        user = UserFactory()
        _, topup = start_topup(client, user)
        r = post_event(
            client, "checkout.session.completed", session_obj(topup), secret="whsec_wrong"
        )
        assert r.status_code == 400
        assert not WebhookEvent.objects.exists()
        r = client.post("/stripe/webhook/", "{}", content_type="application/json")
        assert r.status_code == 400
        assert ledger_selectors.wallet_balance(user=user) == 0

    def test_stripe_outage_while_fulfilling_is_retryable(self, client, stripe_fake):
        user = UserFactory()
        _, topup = start_topup(client, user)
        stripe_fake.fail_next = [(500, {"error": {"message": "boom"}})] * 5
        r = post_event(
            client, "checkout.session.completed", session_obj(topup), event_id="evt_retry"
        )
        assert r.status_code == 503
        assert not WebhookEvent.objects.filter(event_id="evt_retry").exists()
        stripe_fake.fail_next = []
        stripe_fake.route(
            "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 37)
        )
        r = post_event(
            client, "checkout.session.completed", session_obj(topup), event_id="evt_retry"
        )
        assert r.json()["result"] == "processed"
        assert ledger_selectors.wallet_balance(user=user) == 763


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_credit_once(stripe_fake):
    user = UserFactory()
    client = Client()
    _, topup = start_topup(client, user)
    stripe_fake.route(
        "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 37)
    )
    payload = event_payload("checkout.session.completed", session_obj(topup), "evt_concurrent")

    def deliver(i):
        r = Client().post(
            "/stripe/webhook/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload),
        )
        return (r.status_code, r.json().get("result"))

    results = at_once(4, deliver)
    assert sorted(results) == [(200, "duplicate")] * 3 + [(200, "processed")]
    assert ledger_selectors.wallet_balance(user=user) == 763
    assert Transaction.objects.filter(kind="topup").count() == 1
    assert ledger_selectors.ledger_problems() == []
