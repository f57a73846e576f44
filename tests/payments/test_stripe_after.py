"""StripeGateway's after-mode calls, through the real ``stripe`` library and
real HTTP, against a local server answering as Stripe does: what Stripe
receives (parameters, idempotency keys) and how its answers are read."""

from __future__ import annotations

import time

import pytest

from payments import stripe_client
from payments.gateways import GatewayDeclined, GatewayRateLimited, GatewayUnreachable
from payments.gateways.base import ChargeStatus
from payments.gateways.stripe import StripeGateway
from payments.limiter import stripe_slot
from payments.models import Gateway, PaymentMethod


def method_for(user, pm_id: str, kind: str = "card") -> PaymentMethod:
    return PaymentMethod.objects.create(
        user=user,
        gateway=Gateway.STRIPE,
        customer_id="cus_1",
        payment_method_id=pm_id,
        kind=kind,
    )


def charge(method: PaymentMethod, key: str = "charge:7:1", amount: int = 200):
    return StripeGateway().charge_off_session(
        method=method,
        amount_cents=amount,
        currency="eur",
        idempotency_key=key,
        transfer_group="run:7",
        statement_descriptor="FLATTR 2026-11",
        metadata={"run_id": "7", "supporter_id": str(method.user_id)},
    )


def test_customer_is_created_once_per_supporter(stripe_server):
    gateway = StripeGateway()
    first = gateway.customer_ensure(user_id=5, email="ada@example.org")
    again = gateway.customer_ensure(user_id=5, email="ada@example.org")
    assert first == again
    posts = [r for r in stripe_server.state.requests if r["path"] == "/v1/customers"]
    assert [r["idempotency_key"] for r in posts] == ["customer:5", "customer:5"]
    assert posts[0]["params"]["email"] == "ada@example.org"
    assert posts[0]["params"]["metadata[user_id]"] == "5"


def test_setup_checkout_asks_for_cards_and_sepa_in_setup_mode(stripe_server):
    checkout = StripeGateway().setup_start(
        customer_id="cus_9",
        idempotency_key="setup:3",
        success_url="http://testserver/back?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/settings/payment-method/",
    )
    assert checkout.url.startswith("https://checkout.stripe.com/")
    request = stripe_server.state.requests[-1]
    assert request["idempotency_key"] == "setup:3"
    params = request["params"]
    assert params["mode"] == "setup"
    assert params["customer"] == "cus_9"
    assert {params["payment_method_types[0]"], params["payment_method_types[1]"]} == {
        "card",
        "sepa_debit",
    }
    assert params["success_url"].endswith("session_id={CHECKOUT_SESSION_ID}")


def test_setup_result_reads_the_card_never_its_number(stripe_server):
    gateway = StripeGateway()
    checkout = gateway.setup_start(
        customer_id="cus_9",
        idempotency_key="setup:4",
        success_url="http://x/",
        cancel_url="http://x/",
    )
    assert gateway.setup_result(session_id=str(checkout.session_id)) is None  # still open
    stripe_server.state.complete_setup(str(checkout.session_id), "pm_card_visa")
    saved = gateway.setup_result(session_id=str(checkout.session_id))
    assert saved is not None
    assert (saved.kind, saved.brand, saved.last4, saved.exp_month, saved.exp_year) == (
        "card",
        "visa",
        "4242",
        12,
        2034,
    )
    assert (saved.customer_id, saved.payment_method_id) == ("cus_9", "pm_card_visa")
    request = stripe_server.state.requests[-1]
    assert request["params"]["expand[0]"] == "setup_intent.payment_method"


def test_setup_result_reads_the_sepa_mandate_reference(stripe_server):
    gateway = StripeGateway()
    checkout = gateway.setup_start(
        customer_id="cus_9",
        idempotency_key="setup:5",
        success_url="http://x/",
        cancel_url="http://x/",
    )
    stripe_server.state.complete_setup(str(checkout.session_id), "pm_sepa_debit_success")
    saved = gateway.setup_result(session_id=str(checkout.session_id))
    assert saved is not None
    assert (saved.kind, saved.last4, saved.brand) == ("sepa_debit", "3000", "")
    assert saved.mandate_reference.startswith("MANDATE-")


def test_off_session_charge_sends_what_stripe_needs(stripe_server, user):
    result = charge(method_for(user, "pm_card_visa"))
    assert result.status == ChargeStatus.SUCCEEDED
    assert result.payment_intent_id.startswith("pi_")
    assert result.charge_id.startswith("ch_")
    assert result.fee_cents == (200 * 15 + 500) // 1000 + 25
    request = stripe_server.state.requests[-1]
    assert request["idempotency_key"] == "charge:7:1"
    params = request["params"]
    assert params["confirm"] == "true"
    assert params["off_session"] == "true"
    assert params["amount"] == "200"
    assert params["currency"] == "eur"
    assert params["customer"] == "cus_1"
    assert params["payment_method"] == "pm_card_visa"
    assert params["transfer_group"] == "run:7"
    assert params["statement_descriptor_suffix"] == "FLATTR 2026-11"
    assert params["metadata[run_id]"] == "7"


def test_the_same_key_charges_once(stripe_server, user):
    method = method_for(user, "pm_card_visa")
    first = charge(method)
    second = charge(method)
    assert first == second
    intents = [o for o in stripe_server.state.objects.values() if o["object"] == "payment_intent"]
    assert len(intents) == 1


@pytest.mark.parametrize(
    ("pm_id", "status", "reason", "retryable"),
    [
        (
            "pm_card_authenticationRequired",
            ChargeStatus.REQUIRES_ACTION,
            "authentication_required",
            False,
        ),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            ChargeStatus.FAILED,
            "insufficient_funds",
            True,
        ),
        ("pm_card_chargeCustomerFail", ChargeStatus.FAILED, "generic_decline", False),
        ("pm_card_chargeDeclinedExpiredCard", ChargeStatus.FAILED, "expired_card", False),
        ("pm_card_gone", ChargeStatus.FAILED, "payment_method_unusable", False),
    ],
)
def test_declines_are_read_as_stripe_reports_them(
    stripe_server, user, pm_id, status, reason, retryable
):
    result = charge(method_for(user, pm_id))
    assert (result.status, result.reason, result.retryable) == (status, reason, retryable)


def test_sepa_debit_is_processing_then_final(stripe_server, user):
    result = charge(method_for(user, "pm_sepa_debit_success", kind="sepa_debit"))
    assert result.status == ChargeStatus.PROCESSING
    params = stripe_server.state.requests[-1]["params"]
    assert params["payment_method_types[0]"] == "sepa_debit"
    assert "statement_descriptor_suffix" not in params
    gateway = StripeGateway()
    assert gateway.charge_refresh(payment_intent_id=result.payment_intent_id).status == (
        ChargeStatus.PROCESSING
    )
    stripe_server.state.objects[result.payment_intent_id]["status"] = "succeeded"
    assert gateway.charge_refresh(payment_intent_id=result.payment_intent_id).status == (
        ChargeStatus.SUCCEEDED
    )


def test_authentication_sends_the_supporter_to_stripes_page(stripe_server, user):
    result = charge(method_for(user, "pm_card_authenticationRequired"))
    url = StripeGateway().charge_confirm_url(
        payment_intent_id=result.payment_intent_id, return_url="http://testserver/done/"
    )
    assert url.startswith("https://hooks.stripe.com/3d_secure_2/")
    confirm = stripe_server.state.requests[-1]
    assert confirm["path"] == f"/v1/payment_intents/{result.payment_intent_id}/confirm"
    assert confirm["params"]["return_url"] == "http://testserver/done/"
    assert confirm["params"]["payment_method"] == "pm_card_authenticationRequired"
    # Asked again, the page already offered is reused.
    assert (
        StripeGateway().charge_confirm_url(
            payment_intent_id=result.payment_intent_id, return_url="http://testserver/done/"
        )
        == url
    )


def test_a_429_is_rate_limited_with_its_retry_after(stripe_server, user):
    stripe_server.state.next_answers.append(
        (429, {"error": {"type": "rate_limit_error", "message": "Too many"}}, {"Retry-After": "3"})
    )
    method = method_for(user, "pm_card_visa")
    with pytest.raises(GatewayRateLimited) as caught:
        charge(method)
    assert caught.value.retry_after == 3.0
    # The same key afterwards charges (Stripe does not remember a 429).
    assert charge(method).status == ChargeStatus.SUCCEEDED
    keys = [r["idempotency_key"] for r in stripe_server.state.requests]
    assert keys == ["charge:7:1", "charge:7:1"]


def test_an_unreachable_stripe_is_a_temporary_failure(settings, user):
    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1000
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens
    with pytest.raises(GatewayUnreachable):
        charge(method_for(user, "pm_card_visa"))


def test_a_call_never_outlives_its_deadline(stripe_server, settings, monkeypatch):
    monkeypatch.setattr(stripe_client, "DEADLINE", 0.5)
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1
    stripe_slot()  # the window's one slot is taken for a second
    started = time.monotonic()
    with pytest.raises(GatewayUnreachable):
        StripeGateway().charge_refresh(payment_intent_id="pi_1")
    assert time.monotonic() - started < 1.0
    assert stripe_server.state.requests == []


def test_transfer_and_its_reversal(stripe_server):
    gateway = StripeGateway()
    transfer_id = gateway.transfer_send(
        destination="acct_9",
        amount_cents=180,
        currency="eur",
        idempotency_key="transfer:7:3:1",
        transfer_group="run:7",
    )
    request = stripe_server.state.requests[-1]
    assert request["idempotency_key"] == "transfer:7:3:1"
    assert request["params"]["destination"] == "acct_9"
    assert request["params"]["transfer_group"] == "run:7"
    assert request["params"]["amount"] == "180"
    reversal = gateway.transfer_reverse(
        transfer_id=transfer_id, amount_cents=60, idempotency_key="reversal:1:3"
    )
    assert reversal.startswith("trr_")
    assert stripe_server.state.requests[-1]["idempotency_key"] == "reversal:1:3"
    stripe_server.state.unreversible.add(transfer_id)
    with pytest.raises(GatewayDeclined):
        gateway.transfer_reverse(transfer_id=transfer_id, amount_cents=60, idempotency_key="r:2")
    with pytest.raises(GatewayDeclined):
        gateway.transfer_send(
            destination=None,
            amount_cents=1,
            currency="eur",
            idempotency_key="t",
            transfer_group="g",
        )


def test_detach_is_harmless_when_already_gone(stripe_server, user):
    method = method_for(user, "pm_card_visa")
    StripeGateway().method_detach(method=method)
    assert stripe_server.state.requests[-1]["path"] == "/v1/payment_methods/pm_card_visa/detach"
