"""Stripe: Checkout for top-ups, Connect Express transfers for withdrawals;
the after-mode half (saving a way to pay, charges, transfers) is in
``stripe_after``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import stripe

from payments import stripe_client
from payments.gateways.base import (
    Checkout,
    GatewayDeclined,
    GatewayUnreachable,
    Onboarding,
    PaymentFee,
    PaymentGateway,
)
from payments.gateways.stripe_after import StripeAfterModeMixin
from payments.models import Gateway

if TYPE_CHECKING:
    from stripe.params import RefundCreateParams

    from payments.models import TopUp
    from payments.withdrawals.models import PayoutAccount, Withdrawal

logger = logging.getLogger(__name__)


def _declined(exc: stripe.StripeError) -> GatewayDeclined:
    return GatewayDeclined(getattr(exc, "user_message", None) or str(exc))


class StripeGateway(StripeAfterModeMixin, PaymentGateway):
    name = Gateway.STRIPE
    is_test = False

    def available(self) -> bool:
        return stripe_client.stripe_enabled()

    def _client(self) -> stripe.StripeClient:
        self.ensure_available()
        return stripe_client.get_client()

    def checkout_start(self, *, topup: TopUp, success_url: str, cancel_url: str) -> Checkout:
        try:
            session = self._client().v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "client_reference_id": str(topup.pk),
                    "metadata": {"topup_id": str(topup.pk)},
                    "payment_intent_data": {"metadata": {"topup_id": str(topup.pk)}},
                    "customer_email": topup.user.email,
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": topup.currency,
                                "unit_amount": topup.amount_cents,
                                "product_data": {"name": "Open Flattr wallet top-up"},
                            },
                        }
                    ],
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                options={"idempotency_key": f"topup:{topup.pk}"},
            )
        except stripe.APIConnectionError as exc:
            raise GatewayUnreachable(str(exc)) from exc
        except stripe.StripeError as exc:
            raise _declined(exc) from exc
        return Checkout(url=session.url or "", session_id=session.id)

    def checkout_cancel(self, *, topup: TopUp) -> None:
        if not topup.checkout_session_id:
            return
        client = self._client()
        try:
            session = client.v1.checkout.sessions.retrieve(topup.checkout_session_id)
            if session.status == "open":
                client.v1.checkout.sessions.expire(topup.checkout_session_id)
            elif session.status == "complete":
                raise GatewayDeclined("this payment was already made")
        except stripe.APIConnectionError as exc:
            raise GatewayUnreachable(str(exc)) from exc
        except stripe.StripeError as exc:
            raise _declined(exc) from exc

    def payment_fee(self, *, payment_intent_id: str) -> PaymentFee:
        try:
            intent = self._client().v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
            )
        except stripe.APIConnectionError as exc:
            raise GatewayUnreachable(str(exc)) from exc
        charge = intent.latest_charge
        fee = getattr(getattr(charge, "balance_transaction", None), "fee", None)
        if charge is None or isinstance(charge, str) or fee is None:
            # Paid but not settled yet: answering 503 makes Stripe deliver the
            # event again later, rather than a paid top-up never credited.
            raise GatewayUnreachable(f"payment {payment_intent_id} has no balance transaction yet")
        return PaymentFee(fee_cents=int(fee), charge_id=charge.id)

    def payout_account_start(
        self, *, account: PayoutAccount, email: str, refresh_url: str, return_url: str
    ) -> Onboarding:
        client = self._client()
        remote_id = account.stripe_account_id
        try:
            if not remote_id:
                remote = client.v1.accounts.create(
                    params={
                        "type": "express",
                        "email": email,
                        "capabilities": {"transfers": {"requested": True}},
                        "metadata": {
                            "payout_account_id": str(account.pk),
                            "user_id": str(account.user_id),
                        },
                    },
                    options={"idempotency_key": f"payout-account:{account.pk}"},
                )
                remote_id = remote.id
            link = client.v1.account_links.create(
                params={
                    "account": remote_id,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                }
            )
        except stripe.APIConnectionError as exc:
            raise GatewayUnreachable(str(exc)) from exc
        except stripe.StripeError as exc:
            raise _declined(exc) from exc
        return Onboarding(url=link.url, remote_account_id=remote_id)

    def transfer_create(
        self, *, withdrawal: Withdrawal, destination: str | None, currency: str
    ) -> str:
        if not destination:
            raise GatewayDeclined("the payout account is not connected to Stripe")
        try:
            transfer = self._client().v1.transfers.create(
                params={
                    "amount": withdrawal.amount_cents,
                    "currency": currency,
                    "destination": destination,
                    "metadata": {"withdrawal_id": str(withdrawal.pk)},
                },
                options={"idempotency_key": f"withdrawal:{withdrawal.pk}"},
            )
        except stripe.APIConnectionError as exc:
            raise GatewayUnreachable(str(exc)) from exc
        except stripe.StripeError as exc:
            logger.warning("withdrawal %s refused by Stripe: %s", withdrawal.pk, exc)
            raise _declined(exc) from exc
        return transfer.id

    def refund_create(self, *, topup: TopUp, amount_cents: int, idempotency_key: str) -> str:
        if topup.payment_intent_id:
            params: RefundCreateParams = {"payment_intent": topup.payment_intent_id}
        elif topup.charge_id:
            params = {"charge": topup.charge_id}
        else:
            raise GatewayDeclined("this top-up has no payment to refund")
        params["amount"] = amount_cents
        params["metadata"] = {"topup_id": str(topup.pk)}
        try:
            refund = self._client().v1.refunds.create(
                params=params,
                options={"idempotency_key": idempotency_key},
            )
        except stripe.APIConnectionError as exc:
            raise GatewayUnreachable(str(exc)) from exc
        except stripe.StripeError as exc:
            logger.warning("refund %s refused by Stripe: %s", idempotency_key, exc)
            raise _declined(exc) from exc
        return refund.id
