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
    # API 2026-09-30.endive removed ``payment_method_types`` (the library
    # pins a later version): the allowed list filters what Stripe offers.
    assert not any(k.startswith("payment_method_types") for k in params)
    assert {
        params["allowed_payment_method_types[0]"],
        params["allowed_payment_method_types[1]"],
    } == {"card", "sepa_debit"}
    assert params["currency"] == "eur"
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
    assert params["allowed_payment_method_types[0]"] == "card"
    assert not any(k.startswith("payment_method_types") for k in params)


def test_the_same_key_charges_once(stripe_server, user):
    method = method_for(user, "pm_card_visa")
    first = charge(method)
    second = charge(method)
    assert first == second
    intents = [o for o in stripe_server.state.objects.values() if o["object"] == "payment_intent"]
    assert len(intents) == 1


RETRY, NEW_METHOD, GIVE_UP = "retry on schedule", "needs a new way to pay", "give up"


def answer_of(result) -> str:
    if getattr(result, "give_up", False):
        return GIVE_UP
    return RETRY if result.retryable else NEW_METHOD


@pytest.mark.parametrize(
    ("pm_id", "reason", "answer"),
    [
        # Stripe's documented test payment methods (docs.stripe.com/testing).
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", RETRY),
        ("pm_card_chargeCustomerFail", "generic_decline", RETRY),
        ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "card_velocity_exceeded", RETRY),
        ("pm_card_chargeDeclinedProcessingError", "processing_error", RETRY),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", NEW_METHOD),
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", NEW_METHOD),
        ("pm_card_chargeDeclinedLostCard", "lost_card", NEW_METHOD),
        ("pm_card_chargeDeclinedStolenCard", "stolen_card", NEW_METHOD),
        ("pm_card_gone", "payment_method_unusable", NEW_METHOD),
    ],
)
def test_declines_are_read_as_stripe_documents_them(stripe_server, user, pm_id, reason, answer):
    result = charge(method_for(user, pm_id))
    assert (result.status, result.reason, answer_of(result)) == (
        ChargeStatus.FAILED,
        reason,
        answer,
    )


def test_authentication_required_waits_for_the_supporter(stripe_server, user):
    result = charge(method_for(user, "pm_card_authenticationRequired"))
    assert (result.status, result.reason) == (
        ChargeStatus.REQUIRES_ACTION,
        "authentication_required",
    )


def decline_402(decline_code: str, advice_code: str | None = None, code="card_declined"):
    """A decline as Stripe answers it: a 402 ``card_error`` carrying the
    PaymentIntent, its decline code and, from issuers that give one, an
    ``advice_code`` (docs.stripe.com/declines/card, "Retrying issuer
    declines")."""
    error = {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "message": "Your card was declined.",
        "charge": "ch_402",
        "payment_intent": {
            "id": "pi_402",
            "object": "payment_intent",
            "status": "requires_payment_method",
        },
    }
    if advice_code is not None:
        error["advice_code"] = advice_code
    return (402, {"error": error}, {})


@pytest.mark.parametrize(
    ("decline_code", "advice_code", "answer"),
    [
        # The advice code, when the issuer gives one, decides.
        ("insufficient_funds", "try_again_later", RETRY),
        ("generic_decline", "try_again_later", RETRY),
        ("expired_card", "try_again_later", RETRY),
        ("insufficient_funds", "do_not_try_again", NEW_METHOD),
        ("generic_decline", "do_not_try_again", NEW_METHOD),
        ("do_not_honor", "do_not_try_again", NEW_METHOD),
        ("generic_decline", "confirm_card_data", NEW_METHOD),
        # Without one, the decline code does.
        ("do_not_honor", None, RETRY),
        ("try_again_later", None, RETRY),
        ("issuer_not_available", None, RETRY),
        ("pickup_card", None, NEW_METHOD),
        ("card_not_supported", None, NEW_METHOD),
        ("a_code_stripe_adds_later", None, NEW_METHOD),
        # Never again, whatever the advice.
        ("fraudulent", None, GIVE_UP),
        ("merchant_blacklist", "try_again_later", GIVE_UP),
    ],
)
def test_advice_codes_decide_before_decline_codes(
    stripe_server, user, decline_code, advice_code, answer
):
    stripe_server.state.next_answers.append(decline_402(decline_code, advice_code))
    result = charge(method_for(user, "pm_card_visa"))
    assert (result.status, result.payment_intent_id, result.charge_id) == (
        ChargeStatus.FAILED,
        "pi_402",
        "ch_402",
    )
    assert (result.reason, answer_of(result)) == (decline_code, answer)


def test_a_later_failure_reads_the_intents_last_payment_error(stripe_server, user):
    """``charge_refresh`` (and webhooks) read the same fields from the
    PaymentIntent's ``last_payment_error``."""
    result = charge(method_for(user, "pm_sepa_debit_failure", kind="sepa_debit"))
    intent = stripe_server.state.objects[result.payment_intent_id]
    intent.update(
        status="requires_payment_method",
        last_payment_error={
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "advice_code": "do_not_try_again",
        },
    )
    later = StripeGateway().charge_refresh(payment_intent_id=result.payment_intent_id)
    assert (later.status, later.reason, answer_of(later)) == (
        ChargeStatus.FAILED,
        "insufficient_funds",
        NEW_METHOD,
    )


@pytest.mark.parametrize(
    ("label", "suffix"),
    [
        ("FLATTR 2026-11", "FLATTR 2026-11"),
        ('Flattr <2026*11> "x"', "Flattr 2026 11 x"),
        ("Flattr été 2026", "Flattr ete 2026"),
        ("Flattr run of a very long month name", "Flattr run of a very l"),
        ("2026-11", None),  # no letter: Stripe would refuse it
        ("<*>", None),
    ],
)
def test_the_statement_descriptor_suffix_follows_stripes_rules(stripe_server, user, label, suffix):
    result = StripeGateway().charge_off_session(
        method=method_for(user, "pm_card_visa"),
        amount_cents=200,
        currency="eur",
        idempotency_key=f"charge:{label}",
        transfer_group="run:7",
        statement_descriptor=label,
        metadata={},
    )
    assert result.status == ChargeStatus.SUCCEEDED
    params = stripe_server.state.requests[-1]["params"]
    assert params.get("statement_descriptor_suffix") == suffix
    if suffix is not None:
        assert len(suffix) <= 22
        assert not set(suffix) & set("<>\\'\"*")


def test_every_post_carries_an_idempotency_key_of_ours(stripe_server, user):
    gateway = StripeGateway()
    gateway.customer_ensure(user_id=5, email="ada@example.org")
    gateway.setup_start(
        customer_id="cus_9",
        idempotency_key="setup:6",
        success_url="http://x/",
        cancel_url="http://x/",
    )
    method = method_for(user, "pm_card_visa")
    charge(method)
    gateway.method_detach(method=method)
    gateway.method_detach(method=method)
    posts = [r for r in stripe_server.state.requests if r["method"] == "post"]
    assert [r["idempotency_key"] for r in posts] == [
        "customer:5",
        "setup:6",
        "charge:7:1",
        "detach:pm_card_visa",
        "detach:pm_card_visa",
    ]


def test_sepa_debit_is_processing_then_final(stripe_server, user):
    result = charge(method_for(user, "pm_sepa_debit_success", kind="sepa_debit"))
    assert result.status == ChargeStatus.PROCESSING
    params = stripe_server.state.requests[-1]["params"]
    assert params["allowed_payment_method_types[0]"] == "sepa_debit"
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


def test_a_slow_stripe_is_cut_at_the_calls_deadline(stripe_server, monkeypatch):
    """The request's own timeouts are what is left of the deadline: a
    Stripe that does not answer does not hold a worker for the library's
    read timeout (20 s), nor for its retry."""
    monkeypatch.setattr(stripe_client, "DEADLINE", 1.0)
    stripe_server.state.delay = 5.0
    started = time.monotonic()
    with pytest.raises(GatewayUnreachable):
        StripeGateway().charge_refresh(payment_intent_id="pi_1")
    assert time.monotonic() - started < 3.0


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


def test_a_charge_carries_its_key_in_metadata_and_is_found_by_it(stripe_server, user):
    """``charge_find`` reads the customer's PaymentIntents page by page
    (newest first) and matches our key, not the customer alone."""
    import datetime as dt

    from django.utils import timezone

    method = method_for(user, "pm_card_visa")
    since = timezone.now() - dt.timedelta(hours=1)
    made = charge(method, key="charge:7:1")
    assert stripe_server.state.requests[-1]["params"]["metadata[key]"] == "charge:7:1"
    for n in range(150):  # later charges of the same customer: two pages
        charge(method, key=f"charge:{100 + n}:1")
    gateway = StripeGateway()
    found = gateway.charge_find(
        method=method, idempotency_key="charge:7:1", amount_cents=200, since=since
    )
    assert found == made
    lists = [r for r in stripe_server.state.requests if r["method"] == "get"]
    assert len(lists) == 2
    assert lists[0]["params"]["customer"] == "cus_1"
    assert lists[0]["params"]["limit"] == "100"
    assert lists[1]["params"]["starting_after"]
    assert (
        gateway.charge_find(
            method=method, idempotency_key="charge:7:2", amount_cents=200, since=since
        )
        is None
    )


def test_a_transfer_is_found_by_its_key_in_its_group(stripe_server):
    import datetime as dt

    from django.utils import timezone

    gateway = StripeGateway()
    since = timezone.now() - dt.timedelta(hours=1)
    sent = gateway.transfer_send(
        destination="acct_9",
        amount_cents=180,
        currency="eur",
        idempotency_key="transfer:7:3:1",
        transfer_group="payout-2026-11",
    )

    def find(key, destination="acct_9"):
        return gateway.transfer_find(
            destination=destination,
            idempotency_key=key,
            transfer_group="payout-2026-11",
            since=since,
        )

    assert find("transfer:7:3:1") == sent
    assert find("transfer:7:3:2") is None
    assert find("transfer:7:3:1", destination="acct_8") is None
    request = stripe_server.state.requests[-1]
    assert request["path"] == "/v1/transfers"
    assert request["params"]["transfer_group"] == "payout-2026-11"
