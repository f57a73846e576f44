"""Stripe events: verify, store (with the payload, for audit), handle once.

Each event runs in two steps. A handler may need to ask Stripe something
first (the fee of a paid checkout): that ``fetch`` runs before any database
transaction. Then one short transaction stores the event id once (a
duplicate delivered concurrently waits on the unique id, then does nothing)
and runs the handler with what was fetched.

A signed event that is not the shape its type promises is answered 400
(Stripe stops retrying) and kept, refused, with its payload.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import connection, transaction

from payments.gateways import GatewayDeclined, GatewayUnreachable, gateway_get
from payments.gateways.base import SavedMethod
from payments.models import Gateway, PaymentMethodSetup, SetupStatus, TopUp, WebhookEvent
from payments.services.methods import payment_method_save
from payments.services.topups import topup_dispute, topup_fail, topup_fulfil, topup_refund_to
from payments.webhooks import (
    WebhookMalformed,
    WebhookRefused,
    after_mode_fetchers,
    after_mode_handlers,
    fetcher_for,
    handler_for,
    register,
)

logger = logging.getLogger(__name__)


class WebhookPayloadRefused(ValueError):
    """Not a verified Stripe event; nothing stored, answer 400."""


def webhook_parse(*, payload: bytes, signature: str) -> dict:
    """Verify the Stripe signature against our secrets; ValueError if bad.

    A signed payload that is not a Stripe event raises WebhookMalformed
    with a synthetic event (so it is stored for audit)."""
    import stripe

    secrets = [
        s for s in (settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_CONNECT_WEBHOOK_SECRET) if s
    ]
    if not secrets:
        raise WebhookPayloadRefused("webhooks are not configured (STRIPE_WEBHOOK_SECRET is empty)")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=300)
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise WebhookPayloadRefused("bad signature")
    text = payload.decode("utf-8", errors="replace")
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    problem = _envelope_problem(event)
    if problem:
        digest = hashlib.sha256(payload).hexdigest()[:40]
        event_id = event.get("id") if isinstance(event, dict) else None
        if not isinstance(event_id, str) or not event_id or len(event_id) > 255:
            event_id = f"malformed:{digest}"
        event_type = event.get("type") if isinstance(event, dict) else None
        raise WebhookMalformed(
            problem,
            event_id=event_id,
            event_type=event_type if isinstance(event_type, str) else "",
            payload=text,
        )
    event["_payload"] = text
    return event


def _envelope_problem(event: object) -> str:
    if not isinstance(event, dict):
        return "payload is not a JSON object"
    if not isinstance(event.get("id"), str) or not event["id"] or len(event["id"]) > 255:
        return "event id missing or not a string"
    if not isinstance(event.get("type"), str) or not event["type"]:
        return "event type missing or not a string"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "event data.object missing or not an object"
    return ""


def _store(
    *, event_id: str, event_type: str, payload: str, result: str, detail: str = ""
) -> int | None:
    """Insert the event once; returns its row id, or None for a duplicate."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO payments_webhookevent
                (event_id, type, result, detail, payload, received_at)
            VALUES (%s, %s, %s, %s, %s, now())
            ON CONFLICT (event_id) DO NOTHING RETURNING id
            """,
            [event_id, event_type[:100], result, detail[:500], payload],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def webhook_malformed_record(*, error: WebhookMalformed) -> str:
    """Keep a signed but malformed event for audit; returns "malformed"."""
    logger.warning("stripe event %s is malformed: %s", error.event_id, error)
    with transaction.atomic(durable=True):
        _store(
            event_id=error.event_id,
            event_type=error.event_type,
            payload=error.payload,
            result=WebhookEvent.Result.MALFORMED,
            detail=str(error),
        )
    return WebhookEvent.Result.MALFORMED


def webhook_event_process(*, event: dict) -> str:
    """Handle a verified event once.

    Returns "processed", "duplicate", "ignored", "refused" or "malformed".
    Raises GatewayUnreachable (nothing stored; Stripe retries) when a fetch
    could not reach Stripe.
    """
    event_id, event_type = event["id"], event["type"]
    payload = event.pop("_payload", None) or json.dumps(event)
    if WebhookEvent.objects.filter(event_id=event_id).exists():
        return "duplicate"
    handler = handler_for(event_type)
    fetch = fetcher_for(event_type)
    fetched: dict = {}
    refusal = ""
    try:
        # Outside any transaction: it may call Stripe.
        if fetch is not None:
            fetched = fetch(event) or {}
    except WebhookRefused as exc:
        refusal = str(exc)
    except WebhookMalformed as exc:
        return _malformed(event_id, event_type, payload, exc)
    with transaction.atomic(durable=True):
        row = _store(
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            result=WebhookEvent.Result.PROCESSED,
        )
        if row is None:
            return "duplicate"
        if handler is None:
            WebhookEvent.objects.filter(pk=row).update(result=WebhookEvent.Result.IGNORED)
            return WebhookEvent.Result.IGNORED
        try:
            if refusal:
                raise WebhookRefused(refusal)
            with transaction.atomic():
                handler(event, **fetched)
        except WebhookRefused as exc:
            logger.warning("stripe event %s (%s) refused: %s", event_id, event_type, exc)
            WebhookEvent.objects.filter(pk=row).update(
                result=WebhookEvent.Result.REFUSED, detail=str(exc)[:500]
            )
            return WebhookEvent.Result.REFUSED
        except WebhookMalformed as exc:
            # Only what the field readers below flag: any other exception is
            # ours, so it answers 503 and Stripe delivers the event again.
            malformed = exc
        else:
            return WebhookEvent.Result.PROCESSED
        logger.warning("stripe event %s (%s) is malformed: %s", event_id, event_type, malformed)
        WebhookEvent.objects.filter(pk=row).update(
            result=WebhookEvent.Result.MALFORMED, detail=str(malformed)[:500]
        )
        return WebhookEvent.Result.MALFORMED


def _malformed(event_id: str, event_type: str, payload: str, exc: WebhookMalformed) -> str:
    return webhook_malformed_record(
        error=WebhookMalformed(str(exc), event_id=event_id, event_type=event_type, payload=payload)
    )


# --- Reading fields safely -------------------------------------------------


def _str(obj: Mapping, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise WebhookMalformed(f"{key} missing or not a string")
    return value


def _str_or_none(obj: Mapping, key: str) -> str | None:
    return None if obj.get(key) is None else _str(obj, key)


def _cents(obj: Mapping, key: str) -> int:
    value = obj.get(key, 0)
    if value is None:
        value = 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**15:
        raise WebhookMalformed(f"{key} is not an amount in cents")
    return value


# --- Handlers ---------------------------------------------------------------


def _topup_for_session(session: dict) -> TopUp:
    metadata = session.get("metadata")
    ref = session.get("client_reference_id") or (
        metadata.get("topup_id") if isinstance(metadata, dict) else None
    )
    topup = None
    if ref and str(ref).isdigit():
        topup = TopUp.objects.filter(pk=int(ref), gateway=Gateway.STRIPE).first()
    if topup is None or (
        topup.checkout_session_id and topup.checkout_session_id != session.get("id")
    ):
        raise WebhookRefused(f"checkout session {session.get('id')} matches no top-up of ours")
    return topup


def _setup_for_session(session: dict) -> PaymentMethodSetup:
    setup = PaymentMethodSetup.objects.filter(
        session_id=_str(session, "id"), gateway=Gateway.STRIPE
    ).first()
    if setup is None:
        raise WebhookRefused(f"setup session {session.get('id')} matches no setup of ours")
    return setup


def fetch_setup_result(session: dict) -> dict:
    """Outside the transaction: what a completed setup session saved."""
    setup = _setup_for_session(session)
    if setup.status == SetupStatus.COMPLETED:
        return {}  # the return page saved it first
    try:
        saved = gateway_get(Gateway.STRIPE).setup_result(session_id=_str(session, "id"))
    except GatewayDeclined as exc:
        raise WebhookRefused(str(exc)) from exc
    if saved is None:
        raise WebhookRefused(f"setup session {session.get('id')} is not complete")
    return {"saved": saved}


def on_setup_completed(event: dict, saved: SavedMethod | None = None) -> None:
    setup = _setup_for_session(event["data"]["object"])
    if saved is None:
        return  # saved already (return page, or an earlier delivery)
    payment_method_save(
        user=setup.user, gateway_name=setup.gateway, saved=saved, setup_session_id=setup.session_id
    )


def fetch_checkout_fee(event: dict) -> dict:
    """Outside the transaction: the processor fee of a paid checkout, or
    what a setup session saved."""
    session = event["data"]["object"]
    if session.get("mode") == "setup":
        return fetch_setup_result(session)
    _topup_for_session(session)  # refuse sessions of others before asking Stripe
    if session.get("payment_status") != "paid":
        return {}
    payment_intent_id = _str(session, "payment_intent")
    try:
        fee = gateway_get(Gateway.STRIPE).payment_fee(payment_intent_id=payment_intent_id)
    except GatewayDeclined as exc:
        raise WebhookRefused(str(exc)) from exc
    return {"fee_cents": fee.fee_cents, "charge_id": fee.charge_id}


@register(
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    fetch=fetch_checkout_fee,
)
def on_checkout_paid(
    event: dict,
    fee_cents: int | None = None,
    charge_id: str | None = None,
    saved: SavedMethod | None = None,
) -> None:
    session = event["data"]["object"]
    if session.get("mode") == "setup":
        if event["type"] == "checkout.session.completed":
            on_setup_completed(event, saved)
        return
    topup = _topup_for_session(session)
    if session.get("payment_status") != "paid":
        return  # async payment (e.g. SEPA debit): wait for async_payment_succeeded
    if fee_cents is None:
        raise WebhookMalformed("paid session without a fee")
    topup_fulfil(
        topup_id=topup.pk,
        amount_cents=_cents(session, "amount_total"),
        currency=_str(session, "currency"),
        fee_cents=fee_cents,
        payment_intent_id=_str(session, "payment_intent"),
        charge_id=charge_id,
    )


@register("checkout.session.expired", "checkout.session.async_payment_failed")
def on_checkout_failed(event: dict) -> None:
    session = event["data"]["object"]
    if session.get("mode") == "setup":
        setup = _setup_for_session(session)
        PaymentMethodSetup.objects.filter(pk=setup.pk, status=SetupStatus.PENDING).update(
            status=SetupStatus.EXPIRED
        )
        return
    topup = _topup_for_session(session)
    reason = "expired" if event["type"].endswith("expired") else "payment failed"
    topup_fail(topup_id=topup.pk, reason=reason)


def _topup_for_charge(charge_id: str | None, payment_intent_id: str | None) -> TopUp | None:
    topup = None
    if charge_id:
        topup = TopUp.objects.filter(charge_id=charge_id).first()
    if topup is None and payment_intent_id:
        topup = TopUp.objects.filter(payment_intent_id=payment_intent_id).first()
    return topup


def _after_mode(event: dict, **fetched: object) -> None:
    """An event of a pay-after-the-month charge, handled by funding's
    registered handler; one for no charge of ours is refused (logged, 200)."""
    obj = event["data"]["object"]
    handler = after_mode_handlers.get(event["type"])
    if handler is None or not handler(event, **fetched):
        raise WebhookRefused(f"{event['type']} {obj.get('id')}: no charge of ours")


def _topups_intent(intent: dict) -> bool:
    metadata = intent.get("metadata")
    return isinstance(metadata, dict) and bool(metadata.get("topup_id"))


def fetch_after_mode(event: dict) -> dict:
    """Funding's fetcher of the event type, if any (outside any transaction:
    it may ask Stripe; GatewayUnreachable answers 503, Stripe delivers the
    event again)."""
    fetch = after_mode_fetchers.get(event["type"])
    if fetch is None or _topups_intent(event["data"]["object"]):
        return {}
    return fetch(event) or {}


@register(
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.requires_action",
    fetch=fetch_after_mode,
)
def on_payment_intent(event: dict, **fetched: object) -> None:
    if _topups_intent(event["data"]["object"]):
        return  # a top-up's: its checkout.session events settle it
    _after_mode(event, **fetched)


@register("charge.refunded")
def on_charge_refunded(event: dict) -> None:
    charge = event["data"]["object"]
    topup = _topup_for_charge(_str(charge, "id"), _str_or_none(charge, "payment_intent"))
    if topup is None:
        return _after_mode(event)
    topup_refund_to(topup_id=topup.pk, refunded_total_cents=_cents(charge, "amount_refunded"))


@register("charge.dispute.created")
def on_dispute_created(event: dict) -> None:
    dispute = event["data"]["object"]
    topup = _topup_for_charge(_str(dispute, "charge"), _str_or_none(dispute, "payment_intent"))
    if topup is None:
        return _after_mode(event)
    topup_dispute(
        topup_id=topup.pk, amount_cents=_cents(dispute, "amount"), dispute_id=_str(dispute, "id")
    )


__all__ = [
    "GatewayUnreachable",
    "WebhookPayloadRefused",
    "webhook_event_process",
    "webhook_malformed_record",
    "webhook_parse",
]
