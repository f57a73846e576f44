"""Funding's handlers of after-mode Stripe events, registered in
``payments.webhooks.after_mode_handlers`` from the app config. Each runs
inside the webhook's transaction (after the event id was stored once) and
returns whether the event is about one of our charges; the services apply
an event only while the charge still waits on it, so a late or
out-of-order one moves nothing, and processor calls (reversals) wait for
the commit."""

from __future__ import annotations

from django.db.models import Sum

from funding.models import Charge, ChargeAttempt, ChargeDispute, ChargeStatus
from funding.services.disputes import dispute_recorded
from funding.services.outcomes import charge_success_fetch, charge_update
from payments.gateways.base import ChargeResult, Dispute
from payments.gateways.base import ChargeStatus as Outcome
from payments.gateways.stripe_answers import intent_result
from payments.webhooks import WebhookDeferred
from payouts.services.compute import PayoutError, parse_period


def _ours(payment_intent_id: str) -> bool:
    return bool(payment_intent_id) and (
        ChargeAttempt.objects.filter(payment_intent_id=payment_intent_id).exists()
    )


# Seconds a webhook's question to Stripe may take, the limiter's wait
# included: well inside the time Stripe waits for our answer.
FETCH_DEADLINE = 8.0


def fetch_succeeded(event: dict) -> dict:
    """``payment_intent.succeeded``, before the event's transaction: an
    event's PaymentIntent is never expanded, so its fee (the balance
    transaction of ``latest_charge``) is asked of Stripe, once, for a
    charge of ours still waiting on it. Raises GatewayUnreachable (503,
    delivered again) when Stripe cannot answer in time."""
    intent = event["data"]["object"]
    result = charge_success_fetch(
        payment_intent_id=str(intent.get("id") or ""), deadline=FETCH_DEADLINE
    )
    # Only a success is taken from the answer; anything else (the event
    # outran the processor's own state) leaves the event to speak.
    if result is None or result.status != Outcome.SUCCEEDED:
        return {}
    return {"result": result}


def on_payment_intent(event: dict, result: ChargeResult | None = None) -> bool:
    """``payment_intent.*``: the charge's new state (``result``: what the
    fetch read from the processor, fee included). An intent of ours whose
    attempt is still being recorded (the event came first) is deferred:
    Stripe delivers it again."""
    intent = event["data"]["object"]
    pi = str(intent.get("id") or "")
    if not _ours(pi):
        metadata = intent.get("metadata") or {}
        supporter = str(metadata.get("supporter") or "")
        try:
            period = parse_period(str(metadata.get("run") or ""))
        except PayoutError:
            return False
        if (
            supporter.isdigit()
            and Charge.objects.filter(
                run__period=period, supporter_id=int(supporter), status=ChargeStatus.IN_FLIGHT
            ).exists()
        ):
            raise WebhookDeferred(f"{pi}: our attempt is not recorded yet")
        return False
    charge_update(payment_intent_id=pi, result=result or intent_result(intent))
    return True


def on_dispute(event: dict) -> bool:
    """``charge.dispute.created``: recovered from the creators once."""
    obj = event["data"]["object"]
    pi = str(obj.get("payment_intent") or "")
    if not _ours(pi):
        return False
    dispute_recorded(
        dispute=Dispute(
            dispute_id=str(obj["id"]),
            payment_intent_id=pi,
            amount_cents=int(obj.get("amount") or 0),
        )
    )
    return True


def on_refund(event: dict) -> bool:
    """``charge.refunded`` (a SEPA refund claim, a refund made on Stripe's
    dashboard): each new refunded amount recovered like a dispute."""
    obj = event["data"]["object"]
    pi = str(obj.get("payment_intent") or "")
    if not _ours(pi):
        return False
    refunded = int(obj.get("amount_refunded") or 0)
    before = (
        ChargeDispute.objects.filter(
            charge__payment_intent_id=pi, dispute_id__startswith=f"refund:{obj['id']}:"
        ).aggregate(c=Sum("amount"))["c"]
        or 0
    )
    if refunded > before:
        dispute_recorded(
            dispute=Dispute(
                dispute_id=f"refund:{obj['id']}:{refunded}",
                payment_intent_id=pi,
                amount_cents=refunded - before,
            )
        )
    return True


HANDLERS = {
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "payment_intent.processing": on_payment_intent,
    "payment_intent.requires_action": on_payment_intent,
    "charge.dispute.created": on_dispute,
    "charge.refunded": on_refund,
}
FETCHERS = {"payment_intent.succeeded": fetch_succeeded}
