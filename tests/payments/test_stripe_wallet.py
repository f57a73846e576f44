"""StripeGateway's wallet-mode calls (top-up Checkout, its cancel, the fee,
Connect onboarding, withdrawal transfers, refunds) through the real
``stripe`` library and real HTTP, against the local Stripe-like server:
each call is paced and ends by its deadline, a 429 is rate limited (never
a declined withdrawal or a 500), every POST carries an idempotency key."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import User
from ledger import selectors as ledger_selectors
from payments import stripe_client
from payments.gateways import GatewayRateLimited, GatewayUnreachable
from payments.gateways.stripe import StripeGateway
from payments.models import Gateway, TopUp, TopUpStatus, WebhookEvent
from payments.withdrawals import services as withdrawal_services
from payments.withdrawals import tasks as withdrawal_tasks
from payments.withdrawals.models import PayoutAccount, Withdrawal, WithdrawalStatus
from tests.factories import UserFactory
from tests.stripe_fake import post_event, session_obj
from tests.withdrawals.helpers import creator_with, earnings, pending

pytestmark = pytest.mark.django_db


def new_user() -> User:
    user: User = UserFactory.create()
    return user


RATE_LIMITED: tuple[int, dict[str, Any], dict[str, str]] = (
    429,
    {"error": {"type": "rate_limit_error", "message": "Too many requests"}},
    {"Retry-After": "2"},
)


def topup_row(session_id: str | None = "cs_test_old", **extra) -> TopUp:
    return TopUp.objects.create(
        user=new_user(),
        amount_cents=800,
        gateway=Gateway.STRIPE,
        currency="eur",
        checkout_session_id=session_id,
        **extra,
    )


def checkout_start(gateway, server):
    topup = topup_row(session_id=None)
    return gateway.checkout_start(
        topup=topup, success_url="http://testserver/ok", cancel_url="http://testserver/no"
    )


def checkout_cancel(gateway, server):
    gateway.checkout_cancel(topup=topup_row())


def payment_fee(gateway, server):
    return gateway.payment_fee(payment_intent_id="pi_slow")


def payout_account_start(gateway, server):
    account = PayoutAccount.objects.create(user=new_user())
    return gateway.payout_account_start(
        account=account,
        email="ada@example.org",
        refresh_url="http://testserver/again",
        return_url="http://testserver/earnings",
    )


def transfer_create(gateway, server):
    return gateway.transfer_create(
        withdrawal=Withdrawal(pk=41, amount_cents=3000), destination="acct_9", currency="eur"
    )


def refund_create(gateway, server):
    topup = topup_row(payment_intent_id="pi_9", status=TopUpStatus.SUCCEEDED)
    return gateway.refund_create(topup=topup, amount_cents=500, idempotency_key="withdrawal:3:9")


# Each call and the deadline that bounds it: a web request's (the
# supporter or creator waits), the webhook's fee fetch (Stripe waits), or a
# Celery task's.
CALLS = [
    (checkout_start, "WEB_DEADLINE"),
    (checkout_cancel, "WEB_DEADLINE"),
    (payout_account_start, "WEB_DEADLINE"),
    (payment_fee, "WEBHOOK_DEADLINE"),
    (transfer_create, "DEADLINE"),
    (refund_create, "DEADLINE"),
]


@pytest.mark.parametrize(("call", "deadline"), CALLS, ids=[c.__name__ for c, _ in CALLS])
def test_a_slow_stripe_is_cut_at_the_calls_deadline(stripe_server, monkeypatch, call, deadline):
    """A Stripe that does not answer holds the worker for the call's
    deadline, not for the library's read timeout and its retries."""
    monkeypatch.setattr(stripe_client, deadline, 1.0, raising=False)
    stripe_server.state.delay = 5.0
    started = time.monotonic()
    with pytest.raises(GatewayUnreachable):
        call(StripeGateway(), stripe_server)
    assert time.monotonic() - started < 3.0


def test_web_calls_have_a_short_deadline_and_tasks_a_longer_one():
    assert stripe_client.WEB_DEADLINE <= 10
    assert stripe_client.WEBHOOK_DEADLINE <= 10
    assert stripe_client.DEADLINE > stripe_client.WEB_DEADLINE


@pytest.mark.parametrize("call", [c for c, _ in CALLS], ids=[c.__name__ for c, _ in CALLS])
def test_a_429_is_rate_limited_with_its_retry_after(stripe_server, call):
    stripe_server.state.next_answers.append(RATE_LIMITED)
    with pytest.raises(GatewayRateLimited) as caught:
        call(StripeGateway(), stripe_server)
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize("call", [c for c, _ in CALLS], ids=[c.__name__ for c, _ in CALLS])
def test_every_request_waits_for_a_slot_of_the_shared_limiter(
    stripe_server, settings, monkeypatch, call
):
    monkeypatch.setattr(stripe_client, "DEADLINE", 0.5)
    monkeypatch.setattr(stripe_client, "WEB_DEADLINE", 0.5, raising=False)
    monkeypatch.setattr(stripe_client, "WEBHOOK_DEADLINE", 0.5, raising=False)
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1
    from payments.limiter import stripe_slot

    stripe_slot()  # the window's one slot is taken for a second
    with pytest.raises(GatewayUnreachable):
        call(StripeGateway(), stripe_server)
    assert stripe_server.state.requests == []


def test_every_post_carries_an_idempotency_key(stripe_server):
    state = stripe_server.state
    gateway = StripeGateway()
    topup = topup_row(session_id=None)
    checkout = gateway.checkout_start(
        topup=topup, success_url="http://testserver/ok", cancel_url="http://testserver/no"
    )
    topup.checkout_session_id = checkout.session_id
    gateway.checkout_cancel(topup=topup)
    account = PayoutAccount.objects.create(user=new_user())
    for _ in range(2):
        gateway.payout_account_start(
            account=account,
            email="ada@example.org",
            refresh_url="http://testserver/again",
            return_url="http://testserver/earnings",
        )
    gateway.transfer_create(
        withdrawal=Withdrawal(pk=41, amount_cents=3000), destination="acct_9", currency="eur"
    )
    paid = topup_row(payment_intent_id="pi_9", status=TopUpStatus.SUCCEEDED)
    gateway.refund_create(topup=paid, amount_cents=500, idempotency_key="withdrawal:3:9")

    posts = [r for r in state.requests if r["method"] == "post"]
    assert all(r["idempotency_key"] for r in posts)
    keys = [(r["path"], r["idempotency_key"]) for r in posts if r["path"] != "/v1/account_links"]
    assert keys == [
        ("/v1/checkout/sessions", f"topup:{topup.pk}"),
        (f"/v1/checkout/sessions/{checkout.session_id}/expire", f"topup-expire:{topup.pk}"),
        ("/v1/accounts", f"payout-account:{account.pk}"),
        ("/v1/accounts", f"payout-account:{account.pk}"),
        ("/v1/transfers", "withdrawal:41"),
        ("/v1/refunds", "withdrawal:3:9"),
    ]
    # An account link is single use and short lived: each click asks for a
    # new one (the library's key, one per call), never a replay of the
    # first answer.
    links = [r["idempotency_key"] for r in posts if r["path"] == "/v1/account_links"]
    assert len(links) == 2 and links[0] != links[1]


def test_topup_checkout_sends_no_payment_method_types(stripe_server):
    """The library's API version refuses ``payment_method_types`` on Checkout
    Sessions (the server answers 400 to it); the top-up Checkout leaves the
    methods to the account's dynamic payment methods."""
    topup = topup_row(session_id=None)
    checkout = StripeGateway().checkout_start(
        topup=topup, success_url="http://testserver/ok", cancel_url="http://testserver/no"
    )
    assert checkout.url.startswith("https://checkout.stripe.com/")
    params = stripe_server.state.requests[-1]["params"]
    assert params["mode"] == "payment"
    assert not any(k.startswith("payment_method_types") for k in params)
    assert params["line_items[0][price_data][unit_amount]"] == "800"
    assert params["client_reference_id"] == str(topup.pk)


def test_a_cancelled_checkout_expired_twice_is_cancelled_once(stripe_server):
    """The expiry's answer lost, the retry replays it (our key) instead of
    being refused as no longer expirable."""
    gateway = StripeGateway()
    topup = topup_row(session_id=None)
    topup.checkout_session_id = gateway.checkout_start(
        topup=topup, success_url="http://testserver/ok", cancel_url="http://testserver/no"
    ).session_id
    gateway.checkout_cancel(topup=topup)
    # The retrieve now says expired: nothing is asked again.
    gateway.checkout_cancel(topup=topup)
    expires = [r for r in stripe_server.state.requests if r["path"].endswith("/expire")]
    assert len(expires) == 1


# --- The callers ---------------------------------------------------------------


def test_a_slow_stripe_answers_the_topup_page_503_within_the_deadline(
    client, stripe_server, monkeypatch
):
    monkeypatch.setattr(stripe_client, "WEB_DEADLINE", 1.0, raising=False)
    stripe_server.state.delay = 5.0
    user = new_user()
    client.force_login(user)
    started = time.monotonic()
    response = client.post(reverse("topup"), {"amount": "8"})
    assert time.monotonic() - started < 3.0
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
    # The top-up is kept pending, without a session: nothing was charged
    # and trying again reuses its key.
    topup = TopUp.objects.get(user=user)
    assert (topup.status, topup.checkout_session_id) == (TopUpStatus.PENDING, None)
    assert ledger_selectors.wallet_balance(user=user) == 0


def test_a_rate_limited_topup_is_a_clear_503(client, stripe_server):
    stripe_server.state.next_answers.append(RATE_LIMITED)
    user = new_user()
    client.force_login(user)
    response = client.post(reverse("topup"), {"amount": "8"})
    assert response.status_code == 503
    assert "could not be reached" in response.content.decode()
    assert TopUp.objects.get(user=user).checkout_session_id is None


def test_a_rate_limited_transfer_keeps_the_withdrawal_processing_then_pays_once(stripe_server):
    """A 429 is no refusal: the withdrawal is not failed (its money is not
    returned while the task will try again); the retry pays it once."""
    user = creator_with(5000, stripe_id="acct_1")
    w = withdrawal_services.withdrawal_request(user=user, amount_cents=3000)
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.PROCESSING
    stripe_server.state.next_answers.append(RATE_LIMITED)
    with pytest.raises(GatewayRateLimited):
        withdrawal_services.withdrawal_pay(withdrawal_id=w.pk)
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.PROCESSING
    assert (earnings(user), pending(user)) == (2000, 3000)
    withdrawal_services.withdrawal_pay(withdrawal_id=w.pk)
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.PAID
    assert (w.stripe_transfer_id or "").startswith("tr_")
    transfers = [r for r in stripe_server.state.requests if r["path"] == "/v1/transfers"]
    assert [r["idempotency_key"] for r in transfers] == [f"withdrawal:{w.pk}"] * 2
    assert (earnings(user), pending(user)) == (2000, 0)
    assert ledger_selectors.ledger_problems() == []


def test_a_stripe_5xx_on_a_transfer_is_retried_not_failed(stripe_server):
    """A 500 leaves the outcome unknown: Stripe says to retry with the same
    key. Failing the withdrawal would give the money back while the
    transfer may have gone through."""
    user = creator_with(5000, stripe_id="acct_1")
    w = withdrawal_services.withdrawal_request(user=user, amount_cents=3000)
    error: tuple[int, dict[str, Any], dict[str, str]] = (
        500,
        {"error": {"type": "api_error", "message": "boom"}},
        {},
    )
    stripe_server.state.next_answers.extend([error, error])
    with pytest.raises(GatewayUnreachable):
        withdrawal_services.withdrawal_pay(withdrawal_id=w.pk)
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.PROCESSING
    assert (earnings(user), pending(user)) == (2000, 3000)


def test_a_transfer_still_unreachable_after_the_tasks_retries_is_left_for_the_sweep(
    stripe_server,
):
    """Stripe may have made the transfer and lost only its answer: the
    withdrawal is not failed (its money given back could be withdrawn and
    paid twice); it stays processing and a later try with the same key pays
    it once."""
    user = creator_with(5000, stripe_id="acct_1")
    w = withdrawal_services.withdrawal_request(user=user, amount_cents=3000)
    error: tuple[int, dict[str, Any], dict[str, str]] = (
        500,
        {"error": {"type": "api_error", "message": "boom"}},
        {},
    )
    stripe_server.state.next_answers.extend([error, error])
    result = withdrawal_tasks.withdrawal_pay.apply(args=(w.pk,), retries=5)
    assert result.get() == WithdrawalStatus.PROCESSING
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.PROCESSING
    assert (earnings(user), pending(user)) == (2000, 3000)
    # Stripe is back; the sweep's try pays it, once.
    withdrawal_services.withdrawal_pay(withdrawal_id=w.pk)
    w.refresh_from_db()
    assert w.status == WithdrawalStatus.PAID
    assert (earnings(user), pending(user)) == (2000, 0)
    assert ledger_selectors.ledger_problems() == []


def paid_session(client, stripe_server, user) -> tuple[TopUp, dict[str, Any]]:
    """A top-up started through the page, and the Checkout Session Stripe
    reports once it is paid (its PaymentIntent ``pi_<topup id>``)."""
    client.force_login(user)
    assert client.post(reverse("topup"), {"amount": "8"}).status_code == 302
    topup = TopUp.objects.get(user=user)
    return topup, session_obj(topup)


def test_a_rate_limited_fee_fetch_answers_the_webhook_503_and_keeps_nothing(client, stripe_server):
    user = new_user()
    topup, session = paid_session(client, stripe_server, user)
    stripe_server.state.next_answers.append(RATE_LIMITED)
    response = post_event(client, "checkout.session.completed", session, event_id="evt_429")
    assert response.status_code == 503
    assert not WebhookEvent.objects.filter(event_id="evt_429").exists()
    assert ledger_selectors.wallet_balance(user=user) == 0
    # Stripe delivers it again: the fee is there, the top-up is credited.
    pi_id = session["payment_intent"]
    stripe_server.state.objects[pi_id] = {
        "id": pi_id,
        "object": "payment_intent",
        "status": "succeeded",
        "latest_charge": None,
    }
    stripe_server.state.succeed(pi_id, fee=37)
    response = post_event(client, "checkout.session.completed", session, event_id="evt_429")
    assert response.json()["result"] == "processed"
    assert ledger_selectors.wallet_balance(user=user) == 763


def test_a_payment_stripe_does_not_know_refuses_the_event(client, stripe_server):
    """A 404 for the session's payment is Stripe's final word: the event is
    kept as refused (200), nothing credited, rather than redelivered for
    days."""
    user = new_user()
    _topup, session = paid_session(client, stripe_server, user)
    response = post_event(client, "checkout.session.completed", session, event_id="evt_404")
    assert response.status_code == 200
    assert response.json()["result"] == "refused"
    assert WebhookEvent.objects.get(event_id="evt_404").result == "refused"
    assert ledger_selectors.wallet_balance(user=user) == 0


def test_a_slow_stripe_sends_the_creator_back_with_a_message(client, stripe_server, monkeypatch):
    monkeypatch.setattr(stripe_client, "WEB_DEADLINE", 1.0, raising=False)
    stripe_server.state.delay = 5.0
    user = new_user()
    client.force_login(user)
    started = time.monotonic()
    response = client.post(reverse("payout_account_connect"), follow=True)
    assert time.monotonic() - started < 3.0
    assert response.redirect_chain[0] == (reverse("earnings"), 302)
    assert "could not be reached" in response.content.decode()
    assert PayoutAccount.objects.get(user=user).stripe_account_id is None


def test_a_slow_stripe_keeps_a_cancelled_topup_pending_with_a_message(
    client, stripe_server, monkeypatch
):
    user = new_user()
    topup, _session = paid_session(client, stripe_server, user)
    monkeypatch.setattr(stripe_client, "WEB_DEADLINE", 1.0, raising=False)
    stripe_server.state.delay = 5.0
    started = time.monotonic()
    response = client.post(reverse("topup_cancel", args=[topup.pk]), follow=True)
    assert time.monotonic() - started < 3.0
    assert "did not confirm the cancellation" in response.content.decode()
    topup.refresh_from_db()
    assert topup.status == TopUpStatus.PENDING
