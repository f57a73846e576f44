import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from ledger import selectors as ledger_selectors
from ledger.models import Account, AccountKind, Transaction
from payments.models import TopUp, TopUpStatus, WebhookEvent
from tests.factories import UserFactory
from tests.payments.conftest import payment_intent
from tests.stripe_fake import event_payload, post_event, sign


def session_obj(topup, **extra):
    return {
        "id": topup.checkout_session_id,
        "object": "checkout.session",
        "client_reference_id": str(topup.pk),
        "metadata": {"topup_id": str(topup.pk)},
        "amount_total": topup.amount_cents,
        "currency": "eur",
        "payment_status": "paid",
        "payment_intent": f"pi_{topup.pk}",
        **extra,
    }


def start_topup(client, user, amount="8.00"):
    client.force_login(user)
    response = client.post(reverse("topup"), {"amount": amount})
    assert response.status_code == 302, response.content
    return response, TopUp.objects.filter(user=user).latest("id")


def platform_balance(kind, ref=""):
    account = Account.objects.filter(kind=kind, ref=ref, user__isnull=True).first()
    return account.balance if account else 0


@pytest.fixture
def paid_topup(client, stripe_fake):
    """A supporter who topped up 8 EUR through Stripe (fee 0.37)."""
    user = UserFactory()
    _, topup = start_topup(client, user)
    stripe_fake.route(
        "get",
        f"/v1/payment_intents/pi_{topup.pk}",
        payment_intent(f"pi_{topup.pk}", 37, f"ch_{topup.pk}"),
    )
    assert post_event(client, "checkout.session.completed", session_obj(topup)).status_code == 200
    topup.refresh_from_db()
    return user, topup


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
        assert platform_balance(AccountKind.PROCESSOR_FEES) == 37
        assert platform_balance(AccountKind.OUTSIDE) == -800
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


@pytest.mark.django_db
class TestRefundsAndDisputes:
    def test_full_refund_takes_back_the_net_and_the_platform_eats_the_fee(self, client, paid_topup):
        user, topup = paid_topup
        post_event(
            client,
            "charge.refunded",
            {
                "id": topup.charge_id,
                "payment_intent": topup.payment_intent_id,
                "amount_refunded": 800,
            },
        )
        assert ledger_selectors.wallet_balance(user=user) == 0
        assert ledger_selectors.receivable_owed(user=user) == 0
        assert platform_balance(AccountKind.OUTSIDE) == 0
        assert platform_balance(AccountKind.PROCESSOR_FEES, "refunds") == -37
        assert ledger_selectors.ledger_problems() == []

    def test_partial_refunds_each_count_once(self, client, paid_topup):
        user, topup = paid_topup
        for total in (200, 200, 500):  # the second is a replay of the first state
            post_event(client, "charge.refunded", {"id": topup.charge_id, "amount_refunded": total})
        topup.refresh_from_db()
        assert topup.reversed_cents == 500
        # 500 refunded: fee share 37*500//800 = 23, wallet gives 477.
        assert ledger_selectors.wallet_balance(user=user) == 763 - 477
        assert ledger_selectors.ledger_problems() == []

    def test_refund_after_spending_records_a_receivable_and_blocks(self, client, paid_topup):
        from ledger import services as ledger_services

        user, topup = paid_topup
        # The supporter's money went to creators in a payout meanwhile.
        ledger_services.transaction_post(
            kind="payout",
            idempotency_key="spent",
            legs=[
                (ledger_services.wallet_account(user=user), -700),
                (ledger_services.platform_account(kind=AccountKind.PAYOUT_CLEARING), 700),
            ],
        )
        post_event(
            client,
            "charge.dispute.created",
            {"id": "dp_1", "charge": topup.charge_id, "amount": 800},
        )
        assert ledger_selectors.wallet_balance(user=user) == 0
        assert ledger_selectors.receivable_owed(user=user) == 700
        assert ledger_selectors.ledger_problems() == []
        page = client.get(reverse("wallet"))
        assert "You owe" in page.content.decode()

    def test_a_later_topup_settles_the_receivable_first(self, client, paid_topup, stripe_fake):
        from ledger import services as ledger_services

        user, topup = paid_topup
        ledger_services.transaction_post(
            kind="payout",
            idempotency_key="spent2",
            legs=[
                (ledger_services.wallet_account(user=user), -763),
                (ledger_services.platform_account(kind=AccountKind.PAYOUT_CLEARING), 763),
            ],
        )
        post_event(client, "charge.refunded", {"id": topup.charge_id, "amount_refunded": 800})
        assert ledger_selectors.receivable_owed(user=user) == 763
        _, second = start_topup(client, user, "20")
        stripe_fake.route(
            "get",
            f"/v1/payment_intents/pi_{second.pk}",
            payment_intent(f"pi_{second.pk}", 55, "ch_second"),
        )
        post_event(client, "checkout.session.completed", session_obj(second))
        assert ledger_selectors.receivable_owed(user=user) == 0
        assert ledger_selectors.wallet_balance(user=user) == 2000 - 55 - 763
        assert ledger_selectors.ledger_problems() == []

    def test_refund_for_an_unknown_charge_moves_nothing(self, client, stripe_fake):
        r = post_event(client, "charge.refunded", {"id": "ch_nope", "amount_refunded": 100})
        assert r.json()["result"] == "refused"
        assert not Transaction.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_credit_once(stripe_fake):
    user = UserFactory()
    client = Client()
    _, topup = start_topup(client, user)
    stripe_fake.route(
        "get", f"/v1/payment_intents/pi_{topup.pk}", payment_intent(f"pi_{topup.pk}", 37)
    )
    payload = event_payload("checkout.session.completed", session_obj(topup), "evt_concurrent")
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        try:
            barrier.wait()
            r = Client().post(
                "/stripe/webhook/",
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload),
            )
            results.append((r.status_code, r.json().get("result")))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [(200, "duplicate")] * 3 + [(200, "processed")]
    assert ledger_selectors.wallet_balance(user=user) == 763
    assert Transaction.objects.filter(kind="topup").count() == 1
    assert ledger_selectors.ledger_problems() == []


@pytest.mark.django_db
class TestTopUpForm:
    @pytest.mark.parametrize(
        "amount, message",
        [
            ("4.99", "minimum"),
            ("500.01", "maximum"),
            ("lots", "number"),
            ("-8", "positive"),
            ("8.001", "2 decimal"),
        ],
    )
    def test_bad_amounts_are_form_errors_and_save_nothing(self, client, settings, amount, message):
        settings.DEBUG = True
        client.force_login(UserFactory())
        response = client.post(reverse("topup"), {"amount": amount})
        assert response.status_code == 400
        assert message in " ".join(response.context["form"].errors["amount"])
        assert not TopUp.objects.exists()

    def test_return_url_to_another_site_is_refused(self, client, settings):
        settings.DEBUG = True
        client.force_login(UserFactory())
        response = client.post(
            reverse("topup") + "?next=https://evil.example/steal", {"amount": "8"}
        )
        assert response.status_code == 400
        assert not TopUp.objects.exists()

    def test_without_keys_and_debug_off_top_ups_are_refused(self, client, settings):
        settings.DEBUG = False
        settings.STRIPE_SECRET_KEY = ""
        client.force_login(UserFactory())
        response = client.post(reverse("topup"), {"amount": "8"})
        assert response.status_code == 503
        assert "no payment processor is configured" in response.content.decode()
        assert not TopUp.objects.exists()


@pytest.mark.django_db
class TestTestModeGateway:
    def test_pay_credits_net_of_the_simulated_fee(self, client, settings):
        settings.DEBUG = True
        settings.STRIPE_SECRET_KEY = ""
        user = UserFactory()
        client.force_login(user)
        response = client.post(reverse("topup"), {"amount": "8"})
        checkout = client.get(response["Location"])
        body = checkout.content.decode()
        assert "No real money moves here." in body
        assert "TEST MODE" in body
        # 1.5% of 8.00 = 0.12, + 0.25 = 0.37
        assert "0.37" in body and "7.63" in body
        result = client.post(response["Location"], {"action": "pay"}, follow=True)
        assert "credited 7.63" in result.content.decode()
        assert ledger_selectors.wallet_balance(user=user) == 763
        wallet = client.get(reverse("wallet")).content.decode()
        assert "7.63" in wallet and "0.37" in wallet and "8.00" in wallet
        # Paying again changes nothing.
        client.post(response["Location"], {"action": "pay"})
        assert ledger_selectors.wallet_balance(user=user) == 763

    def test_fail_credits_nothing(self, client, settings):
        settings.DEBUG = True
        settings.STRIPE_SECRET_KEY = ""
        user = UserFactory()
        client.force_login(user)
        response = client.post(reverse("topup"), {"amount": "20"})
        client.post(response["Location"], {"action": "fail"})
        assert TopUp.objects.get().status == TopUpStatus.FAILED
        assert ledger_selectors.wallet_balance(user=user) == 0

    def test_fee_rounds_half_up(self):
        from payments.services import test_gateway_fee

        assert test_gateway_fee(800) == 37  # 12 + 25
        assert test_gateway_fee(500) == 33  # 7.5 -> 8, + 25
        assert test_gateway_fee(2000) == 55
        assert test_gateway_fee(50000) == 775

    def test_someone_elses_topup_is_404(self, client, settings):
        settings.DEBUG = True
        owner = UserFactory()
        client.force_login(owner)
        url = client.post(reverse("topup"), {"amount": "8"})["Location"]
        client.force_login(UserFactory())
        assert client.post(url, {"action": "pay"}).status_code == 404
        assert ledger_selectors.wallet_balance(user=owner) == 0

    def test_gateway_refused_when_debug_is_off(self, client, settings):
        settings.DEBUG = True
        user = UserFactory()
        client.force_login(user)
        url = client.post(reverse("topup"), {"amount": "8"})["Location"]
        settings.DEBUG = False
        assert client.post(url, {"action": "pay"}).status_code == 404
        assert ledger_selectors.wallet_balance(user=user) == 0
