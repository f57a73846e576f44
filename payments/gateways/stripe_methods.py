"""Stripe in after mode, saving a way to pay: the customer, Checkout in
setup mode (card or SEPA debit), reading what the supporter saved, and
detaching a method replaced or removed. Part of ``StripeAfterModeMixin``
(``stripe_after``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import stripe

from payments.gateways.base import Checkout, GatewayDeclined, GatewayUnreachable, SavedMethod
from payments.gateways.stripe_answers import field as _get
from payments.gateways.stripe_calls import PacedCalls
from payments.gateways.stripe_calls import call as _call

if TYPE_CHECKING:
    from payments.models import PaymentMethod

logger = logging.getLogger(__name__)


class StripeMethodsMixin(PacedCalls):
    """Saving a way to pay, for ``StripeAfterModeMixin``."""

    def customer_ensure(self, *, user_id: int, email: str) -> str:
        client = self._paced()
        customer = _call(
            "customer",
            lambda: client.v1.customers.create(
                params={"email": email, "metadata": {"user_id": str(user_id)}},
                options={"idempotency_key": f"customer:{user_id}"},
            ),
        )
        return customer.id

    def setup_start(
        self, *, customer_id: str, idempotency_key: str, success_url: str, cancel_url: str
    ) -> Checkout:
        from django.conf import settings

        currency = settings.CURRENCY.lower()
        client = self._paced()
        try:
            session = _call(
                "setup checkout",
                lambda: client.v1.checkout.sessions.create(
                    params={
                        "mode": "setup",
                        "customer": customer_id,
                        # API 2026-09-30.endive and later refuse
                        # ``payment_method_types`` (400
                        # payment_method_types_no_longer_supported).
                        "allowed_payment_method_types": ["card", "sepa_debit"],
                        "currency": currency,
                        "setup_intent_data": {"metadata": {"key": idempotency_key}},
                        "metadata": {"key": idempotency_key},
                        "success_url": success_url,
                        "cancel_url": cancel_url,
                    },
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        return Checkout(url=session.url or "", session_id=session.id)

    def setup_result(self, *, session_id: str) -> SavedMethod | None:
        client = self._paced()
        try:
            session = _call(
                "setup result",
                lambda: client.v1.checkout.sessions.retrieve(
                    session_id,
                    params={"expand": ["setup_intent.payment_method", "setup_intent.mandate"]},
                ),
            )
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
        intent = _get(session, "setup_intent")
        method = _get(intent, "payment_method")
        if _get(session, "status") != "complete" or _get(intent, "status") != "succeeded":
            return None
        if method is None or isinstance(method, str):
            raise GatewayUnreachable(f"setup session {session_id} has no payment method yet")
        customer = _get(session, "customer")
        customer_id = customer if isinstance(customer, str) else str(_get(customer, "id"))
        kind = _get(method, "type")
        if kind == "card":
            card = _get(method, "card")
            return SavedMethod(
                customer_id=customer_id,
                payment_method_id=method.id,
                kind="card",
                brand=str(_get(card, "brand") or ""),
                last4=str(_get(card, "last4") or ""),
                exp_month=_get(card, "exp_month"),
                exp_year=_get(card, "exp_year"),
            )
        if kind == "sepa_debit":
            mandate = _get(intent, "mandate")
            details = _get(_get(mandate, "payment_method_details"), "sepa_debit")
            return SavedMethod(
                customer_id=customer_id,
                payment_method_id=method.id,
                kind="sepa_debit",
                last4=str(_get(_get(method, "sepa_debit"), "last4") or ""),
                mandate_reference=str(_get(details, "reference") or ""),
            )
        raise GatewayDeclined(f"this kind of payment method ({kind}) is not accepted")

    def method_detach(self, *, method: PaymentMethod) -> None:
        client = self._paced()
        try:
            _call(
                "detach",
                lambda: client.v1.payment_methods.detach(
                    method.payment_method_id,
                    options={"idempotency_key": f"detach:{method.payment_method_id}"},
                ),
            )
        except stripe.InvalidRequestError as exc:
            # Already detached or deleted: what we wanted.
            logger.info("payment method %s: %s", method.payment_method_id, exc)
        except stripe.StripeError as exc:
            raise GatewayDeclined(exc.user_message or str(exc)) from exc
