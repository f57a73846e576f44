"""Stripe for pay-after-the-month: saving a way to pay (Checkout in setup
mode), off-session charges, Connect transfers and their reversals.

Every request goes through the shared limiter and a deadline
(``stripe_client.get_paced_client``, through ``StripeGateway._paced``), and
``stripe_calls.call`` reads Stripe's transport errors. Stripe's answers
become the gateway's vocabulary in these modules and nowhere else: a 429 is
``GatewayRateLimited`` with its ``Retry-After``; a network failure or a 5xx
is ``GatewayUnreachable`` (call again with the same key); a decline is a
``ChargeResult`` saying whether the same method may be tried again
(Stripe's decline and advice codes, docs.stripe.com/declines/codes).

One module per concern: ``stripe_methods`` (saving a way to pay),
``stripe_lookups`` (finding an object by our key once Stripe may have
pruned the key), ``stripe_answers`` (reading Stripe's answers: declines,
advice codes, fees, descriptors); the charges and transfers are here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import stripe

from payments.gateways.base import ChargeResult, ChargeStatus, GatewayDeclined, GatewayUnreachable
from payments.gateways.stripe_answers import declined as _declined
from payments.gateways.stripe_answers import descriptor_suffix, intent_result
from payments.gateways.stripe_answers import field as _get
from payments.gateways.stripe_calls import call as _call
from payments.gateways.stripe_lookups import StripeLookupsMixin
from payments.gateways.stripe_methods import StripeMethodsMixin

if TYPE_CHECKING:
    from payments.models import PaymentMethod

logger = logging.getLogger(__name__)


class StripeAfterModeMixin(StripeMethodsMixin, StripeLookupsMixin):
    """The after-mode half of ``StripeGateway``: saving a way to pay
    (``StripeMethodsMixin``), the lookups by key (``StripeLookupsMixin``),
    and here the charges and transfers."""

    # --- charges --------------------------------------------------------------

    def charge_off_session(
        self,
        *,
        method: PaymentMethod,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
        statement_descriptor: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        client = self._paced()
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency,
            "customer": method.customer_id,
            "payment_method": method.payment_method_id,
            "allowed_payment_method_types": [method.kind],
            "confirm": True,
            "off_session": True,
            "transfer_group": transfer_group,
            # Our key, so the charge can be found if the key is ever pruned
            # before we know what it made (``charge_find``).
            "metadata": {**metadata, "key": idempotency_key},
            "expand": ["latest_charge.balance_transaction"],
        }
        suffix = descriptor_suffix(statement_descriptor)
        if method.kind == "card" and suffix:
            # Cards show the account's prefix and this suffix; SEPA debits
            # show the account's descriptor.
            params["statement_descriptor_suffix"] = suffix
        try:
            intent = _call(
                f"charge {idempotency_key}",
                lambda: client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.CardError as exc:
            error = exc.error
            intent_obj = _get(error, "payment_intent")
            return _declined(error, str(_get(intent_obj, "id") or ""))
        except stripe.InvalidRequestError as exc:
            # A payment method Stripe no longer knows (detached, deleted):
            # nothing to retry until the supporter saves a new one.
            if exc.code in ("resource_missing", "payment_method_unusable") or (
                exc.param or ""
            ).startswith("payment_method"):
                logger.warning("charge %s: %s", idempotency_key, exc)
                error = exc.error
                return ChargeResult(
                    status=ChargeStatus.FAILED,
                    payment_intent_id=str(_get(_get(error, "payment_intent"), "id") or ""),
                    reason="payment_method_unusable",
                    retryable=False,
                )
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return intent_result(intent)

    def charge_refresh(
        self, *, payment_intent_id: str, deadline: float | None = None
    ) -> ChargeResult:
        client = self._paced(deadline=deadline)
        try:
            intent = _call(
                f"refresh {payment_intent_id}",
                lambda: client.v1.payment_intents.retrieve(
                    payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return intent_result(intent)

    def charge_cancel(self, *, payment_intent_id: str) -> ChargeResult | None:
        """``POST /v1/payment_intents/<id>/cancel`` (key ``cancel:<id>``,
        reason ``abandoned``). Stripe refuses to cancel an intent that
        succeeded or is processing (400 ``payment_intent_unexpected_state``):
        then its state is read and returned (the supporter confirmed first)."""
        client = self._paced()
        try:
            _call(
                f"cancel {payment_intent_id}",
                lambda: client.v1.payment_intents.cancel(
                    payment_intent_id,
                    params={"cancellation_reason": "abandoned"},
                    options={"idempotency_key": f"cancel:{payment_intent_id}"},
                ),
            )
            return None
        except stripe.InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise GatewayDeclined(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        try:
            intent = _call(
                f"refresh {payment_intent_id}",
                lambda: client.v1.payment_intents.retrieve(
                    payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        if _get(intent, "status") == "canceled":
            return None
        return intent_result(intent)

    def charge_confirm_url(self, *, payment_intent_id: str, return_url: str) -> str:
        """Stripe's hosted authentication page for a charge that needs the
        supporter: the PaymentIntent is confirmed again on session with a
        ``return_url`` and Stripe answers ``next_action.redirect_to_url``
        (docs.stripe.com: "Manually handle 3D Secure redirects")."""
        client = self._paced()
        try:
            intent = _call(
                f"confirm page {payment_intent_id}",
                lambda: client.v1.payment_intents.retrieve(payment_intent_id),
            )
            if intent.status in ("succeeded", "processing"):
                return return_url
            url = _get(_get(_get(intent, "next_action"), "redirect_to_url"), "url")
            if intent.status == "requires_action" and url:
                return str(url)
            confirm: dict[str, Any] = {"return_url": return_url}
            method = _get(intent, "payment_method") or _get(
                _get(intent, "last_payment_error"), "payment_method"
            )
            method_id = method if isinstance(method, str) else _get(method, "id")
            if method_id:
                confirm["payment_method"] = method_id
            intent = _call(
                f"confirm {payment_intent_id}",
                lambda: client.v1.payment_intents.confirm(
                    payment_intent_id,
                    params=confirm,  # type: ignore[arg-type]
                ),
            )
        except stripe.CardError as exc:
            raise GatewayDeclined(exc.user_message or "the card was declined") from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        if intent.status in ("succeeded", "processing"):
            return return_url
        url = _get(_get(_get(intent, "next_action"), "redirect_to_url"), "url")
        if not url:
            raise GatewayDeclined("Stripe offered no page to confirm this payment")
        return str(url)

    # --- transfers ------------------------------------------------------------

    def transfer_send(
        self,
        *,
        destination: str | None,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
    ) -> str:
        if not destination:
            raise GatewayDeclined("the creator's payout account is not connected to Stripe")
        client = self._paced()
        try:
            transfer = _call(
                f"transfer {idempotency_key}",
                lambda: client.v1.transfers.create(
                    params={
                        "amount": amount_cents,
                        "currency": currency,
                        "destination": destination,
                        "transfer_group": transfer_group,
                        "metadata": {"key": idempotency_key},
                    },
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.InvalidRequestError as exc:
            if exc.code == "balance_insufficient":
                # Collected money not available yet: the same key, later.
                raise GatewayUnreachable(f"transfer {idempotency_key}: {exc}") from exc
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return transfer.id

    def transfer_reverse(self, *, transfer_id: str, amount_cents: int, idempotency_key: str) -> str:
        client = self._paced()
        try:
            reversal = _call(
                f"reversal {idempotency_key}",
                lambda: client.v1.transfers.reversals.create(
                    transfer_id,
                    params={"amount": amount_cents, "metadata": {"key": idempotency_key}},
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return reversal.id
