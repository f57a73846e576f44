"""Money in: top-ups, their fulfilment, refunds and disputes, and webhooks.

The real Stripe webhook and the test-mode gateway fulfil through the same
functions, so what is tested in test mode is what runs in production.

Fees and refunds: the wallet is credited gross minus the processor's fee.
On a refund or dispute the card gets back the refunded amount; the supporter's
wallet gives back its share net of the fee (the fee share, which Stripe does
not return, is a platform loss booked on the processor-fees account "refunds").
When the wallet no longer holds enough, it gives what it holds and the rest is
recorded as a receivable; a later top-up settles it first.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from ledger import services as ledger
from ledger.models import Account, AccountKind
from notifications.services import event_publish
from payments import stripe_client
from payments.models import Gateway, TopUp, TopUpStatus, WebhookEvent
from payments.webhooks import WebhookRefused, handler_for, register

logger = logging.getLogger(__name__)


class TopUpUnavailable(Exception):
    """No payment processor is configured (no Stripe key and DEBUG off)."""


def test_gateway_fee(amount_cents: int) -> int:
    """The simulated processor fee: 1.5% + 0.25 EUR, rounded half up."""
    return (amount_cents * 15 + 500) // 1000 + 25


def site_url(path: str, query: dict | None = None) -> str:
    url = settings.SITE_URL + path
    return f"{url}?{urlencode(query)}" if query else url


@transaction.atomic(durable=True)
def topup_create(*, user, amount_cents: int) -> tuple[TopUp, str]:
    """Record a top-up and start paying it. Returns the top-up and the URL to
    send the supporter to (Stripe Checkout or the test-mode page)."""
    if stripe_client.stripe_enabled():
        topup = TopUp.objects.create(
            user=user,
            amount_cents=amount_cents,
            gateway=Gateway.STRIPE,
            currency=settings.CURRENCY.lower(),
        )
        return_path = reverse("topup_return", args=[topup.pk])
        session = stripe_client.get_client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "client_reference_id": str(topup.pk),
                "metadata": {"topup_id": str(topup.pk)},
                "payment_intent_data": {"metadata": {"topup_id": str(topup.pk)}},
                "customer_email": user.email,
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": topup.currency,
                            "unit_amount": amount_cents,
                            "product_data": {"name": "Open Flattr wallet top-up"},
                        },
                    }
                ],
                "success_url": site_url(return_path),
                "cancel_url": site_url(return_path, {"cancelled": "1"}),
            },
            options={"idempotency_key": f"topup:{topup.pk}"},
        )
        topup.checkout_session_id = session.id
        topup.save(update_fields=["checkout_session_id", "updated_at"])
        return topup, session.url
    if not settings.DEBUG:
        raise TopUpUnavailable("no payment processor is configured")
    topup = TopUp.objects.create(
        user=user,
        amount_cents=amount_cents,
        gateway=Gateway.TEST,
        currency=settings.CURRENCY.lower(),
    )
    return topup, reverse("topup_test_checkout", args=[topup.pk])


def _post_topup_credit(*, topup: TopUp, fee_cents: int) -> None:
    """Outside -> wallet (net) + processor fees; settles a receivable first."""
    user = topup.user
    net = topup.amount_cents - fee_cents
    # Locked, so two top-ups landing at once cannot both settle one debt.
    owed = -(
        Account.objects.select_for_update()
        .filter(kind=AccountKind.RECEIVABLE, user=user)
        .values_list("balance", flat=True)
        .first()
        or 0
    )
    settle = min(owed, net)
    legs = [
        (ledger.platform_account(kind=AccountKind.OUTSIDE), -topup.amount_cents),
        (ledger.platform_account(kind=AccountKind.PROCESSOR_FEES), fee_cents),
    ]
    if settle:
        legs.append((ledger.account_get(kind=AccountKind.RECEIVABLE, user=user), settle))
    if net - settle:
        legs.append((ledger.wallet_account(user=user), net - settle))
    ledger.transaction_post(
        kind="topup",
        idempotency_key=f"topup:{topup.pk}",
        legs=legs,
        memo=f"Top-up #{topup.pk}",
    )


@transaction.atomic
def topup_fulfil(
    *,
    topup_id: int,
    amount_cents: int,
    currency: str,
    fee_cents: int,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
) -> TopUp:
    """Credit a paid top-up exactly once. Refuses (WebhookRefused, nothing
    moves) when what was paid differs from our record."""
    topup = TopUp.objects.select_for_update().select_related("user").filter(pk=topup_id).first()
    if topup is None:
        raise WebhookRefused(f"unknown top-up {topup_id}")
    if topup.status == TopUpStatus.SUCCEEDED:
        return topup
    if amount_cents != topup.amount_cents or currency.lower() != topup.currency:
        raise WebhookRefused(
            f"top-up {topup.pk}: paid {amount_cents} {currency} but we expected "
            f"{topup.amount_cents} {topup.currency}"
        )
    if not 0 <= fee_cents < amount_cents:
        raise WebhookRefused(f"top-up {topup.pk}: implausible fee {fee_cents}")
    _post_topup_credit(topup=topup, fee_cents=fee_cents)
    topup.status = TopUpStatus.SUCCEEDED
    topup.fee_cents = fee_cents
    topup.payment_intent_id = payment_intent_id or topup.payment_intent_id
    topup.charge_id = charge_id or topup.charge_id
    topup.failure_reason = ""
    topup.save(
        update_fields=[
            "status",
            "fee_cents",
            "payment_intent_id",
            "charge_id",
            "failure_reason",
            "updated_at",
        ]
    )
    event_publish(
        type="topup.succeeded",
        recipient=topup.user,
        data={
            "topup_id": topup.pk,
            "gross_cents": topup.amount_cents,
            "fee_cents": fee_cents,
            "net_cents": topup.amount_cents - fee_cents,
        },
        key=f"topup:{topup.pk}:receipt",
    )
    return topup


@transaction.atomic
def topup_fail(*, topup_id: int, reason: str) -> TopUp:
    topup = TopUp.objects.select_for_update().filter(pk=topup_id).first()
    if topup is None:
        raise WebhookRefused(f"unknown top-up {topup_id}")
    if topup.status == TopUpStatus.PENDING:
        topup.status = TopUpStatus.FAILED
        topup.failure_reason = reason[:500]
        topup.save(update_fields=["status", "failure_reason", "updated_at"])
    return topup


@transaction.atomic
def topup_reverse(*, topup: TopUp, amount_cents: int, idempotency_key: str, reason: str) -> None:
    """Give back ``amount_cents`` of a succeeded top-up to the outside world
    (refund or dispute); any part the wallet no longer holds becomes a
    receivable on the supporter."""
    topup = TopUp.objects.select_for_update().select_related("user").get(pk=topup.pk)
    if topup.status != TopUpStatus.SUCCEEDED:
        raise WebhookRefused(f"top-up {topup.pk} was never credited ({topup.status})")
    amount_cents = min(amount_cents, topup.amount_cents - topup.reversed_cents)
    if amount_cents <= 0:
        return
    user = topup.user
    # Cumulative, so several partial refunds give back exactly the fee in all.
    fee = topup.fee_cents or 0
    fee_share = (
        fee * (topup.reversed_cents + amount_cents) // topup.amount_cents
        - fee * topup.reversed_cents // topup.amount_cents
    )
    net_share = amount_cents - fee_share
    wallet = ledger.wallet_account(user=user)
    # Lock the wallet before reading it, so the split below stays true.
    held = Account.objects.select_for_update().values_list("balance", flat=True).get(pk=wallet.pk)
    take = min(held, net_share)
    legs = [(ledger.platform_account(kind=AccountKind.OUTSIDE), amount_cents)]
    if take:
        legs.append((wallet, -take))
    if net_share - take:
        legs.append(
            (ledger.account_get(kind=AccountKind.RECEIVABLE, user=user), -(net_share - take))
        )
    if fee_share:
        legs.append(
            (ledger.platform_account(kind=AccountKind.PROCESSOR_FEES, ref="refunds"), -fee_share)
        )
    _txn, created = ledger.transaction_post(
        kind="topup_reversal",
        idempotency_key=idempotency_key,
        legs=legs,
        memo=f"{reason} of top-up #{topup.pk}",
    )
    if created:
        topup.reversed_cents += amount_cents
        topup.save(update_fields=["reversed_cents", "updated_at"])


# --- Webhooks -------------------------------------------------------------


def webhook_event_process(*, event: dict) -> str:
    """Store the event id once and run its handler in the same transaction.

    Returns "processed", "duplicate", "ignored" or "refused". A duplicate
    delivered concurrently waits on the unique event id, then does nothing.
    """
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO payments_webhookevent (event_id, type, result, detail, received_at)
                VALUES (%s, %s, 'processed', '', now())
                ON CONFLICT (event_id) DO NOTHING RETURNING id
                """,
                [event["id"], event.get("type", "")[:100]],
            )
            row = cursor.fetchone()
        if row is None:
            return "duplicate"
        handler = handler_for(event.get("type", ""))
        if handler is None:
            WebhookEvent.objects.filter(pk=row[0]).update(result=WebhookEvent.Result.IGNORED)
            return "ignored"
        try:
            with transaction.atomic():
                handler(event)
        except WebhookRefused as exc:
            logger.warning("stripe event %s (%s) refused: %s", event["id"], event.get("type"), exc)
            WebhookEvent.objects.filter(pk=row[0]).update(
                result=WebhookEvent.Result.REFUSED, detail=str(exc)[:500]
            )
            return "refused"
    return "processed"


def webhook_parse(*, payload: bytes, signature: str) -> dict:
    """Verify the Stripe signature against our secrets; ValueError if bad."""
    import stripe

    secrets = [
        s for s in (settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_CONNECT_WEBHOOK_SECRET) if s
    ]
    if not secrets:
        raise ValueError("webhooks are not configured (STRIPE_WEBHOOK_SECRET is empty)")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=300)
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise ValueError("bad signature")
    try:
        event = json.loads(payload)
    except ValueError:
        raise ValueError("payload is not JSON")
    if not isinstance(event, dict) or "id" not in event or "data" not in event:
        raise ValueError("payload is not a Stripe event")
    return event


def _topup_for_session(session: dict) -> TopUp:
    ref = session.get("client_reference_id") or (session.get("metadata") or {}).get("topup_id")
    topup = None
    if ref and str(ref).isdigit():
        topup = TopUp.objects.filter(pk=int(ref), gateway=Gateway.STRIPE).first()
    if topup is None or (
        topup.checkout_session_id and topup.checkout_session_id != session.get("id")
    ):
        raise WebhookRefused(f"checkout session {session.get('id')} matches no top-up of ours")
    return topup


def _fee_of_payment_intent(payment_intent_id: str) -> tuple[int, str | None]:
    intent = stripe_client.get_client().v1.payment_intents.retrieve(
        payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
    )
    charge = intent.latest_charge
    balance_transaction = charge.balance_transaction if charge else None
    if balance_transaction is None:
        raise WebhookRefused(f"payment {payment_intent_id} has no balance transaction yet")
    return int(balance_transaction.fee), charge.id


@register("checkout.session.completed", "checkout.session.async_payment_succeeded")
def on_checkout_paid(event: dict) -> None:
    session = event["data"]["object"]
    topup = _topup_for_session(session)
    if session.get("payment_status") != "paid":
        return  # async payment (e.g. SEPA debit): wait for async_payment_succeeded
    fee, charge_id = _fee_of_payment_intent(session["payment_intent"])
    topup_fulfil(
        topup_id=topup.pk,
        amount_cents=int(session.get("amount_total") or 0),
        currency=session.get("currency") or "",
        fee_cents=fee,
        payment_intent_id=session["payment_intent"],
        charge_id=charge_id,
    )


@register("checkout.session.expired", "checkout.session.async_payment_failed")
def on_checkout_failed(event: dict) -> None:
    session = event["data"]["object"]
    topup = _topup_for_session(session)
    reason = "expired" if event["type"].endswith("expired") else "payment failed"
    topup_fail(topup_id=topup.pk, reason=reason)


def _topup_for_charge(charge_id: str | None, payment_intent_id: str | None) -> TopUp:
    topup = None
    if charge_id:
        topup = TopUp.objects.filter(charge_id=charge_id).first()
    if topup is None and payment_intent_id:
        topup = TopUp.objects.filter(payment_intent_id=payment_intent_id).first()
    if topup is None:
        raise WebhookRefused(f"charge {charge_id} matches no top-up of ours")
    return topup


@register("charge.refunded")
def on_charge_refunded(event: dict) -> None:
    charge = event["data"]["object"]
    topup = _topup_for_charge(charge.get("id"), charge.get("payment_intent"))
    refunded_total = int(charge.get("amount_refunded") or 0)
    topup_reverse(
        topup=topup,
        amount_cents=refunded_total - topup.reversed_cents,
        # Cumulative amount: each new refund on the charge has its own key.
        idempotency_key=f"topup:{topup.pk}:refunded-to:{refunded_total}",
        reason="Refund",
    )


@register("charge.dispute.created")
def on_dispute_created(event: dict) -> None:
    dispute = event["data"]["object"]
    topup = _topup_for_charge(dispute.get("charge"), dispute.get("payment_intent"))
    topup_reverse(
        topup=topup,
        amount_cents=int(dispute.get("amount") or 0),
        idempotency_key=f"topup:{topup.pk}:dispute:{dispute.get('id')}",
        reason="Dispute",
    )


# --- Test-mode gateway ----------------------------------------------------


def test_gateway_available() -> bool:
    return settings.DEBUG and not stripe_client.stripe_enabled()


def test_checkout_pay(*, topup: TopUp) -> TopUp:
    """What Stripe's webhook would do for a paid test-mode top-up."""
    with transaction.atomic(durable=True):
        return topup_fulfil(
            topup_id=topup.pk,
            amount_cents=topup.amount_cents,
            currency=topup.currency,
            fee_cents=test_gateway_fee(topup.amount_cents),
            payment_intent_id=f"test_pi_{topup.pk}",
            charge_id=f"test_ch_{topup.pk}",
        )


def test_checkout_fail(*, topup: TopUp) -> TopUp:
    with transaction.atomic(durable=True):
        return topup_fail(topup_id=topup.pk, reason="declined in test mode")
