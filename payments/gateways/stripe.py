"""Stripe: Checkout for top-ups, Connect Express transfers for withdrawals;
the after-mode half (saving a way to pay, charges, transfers) is
``stripe_after.StripeAfterModeMixin``, with ``stripe_methods``,
``stripe_lookups`` and ``stripe_answers``.

Every call goes through the paced client (one slot of the shared limiter per
HTTP request, the library's one retry included) and ends by its deadline,
chosen by who waits for it (``stripe_client``): ``WEB_DEADLINE`` for what a
page waits for (Checkout, its cancel, Connect onboarding),
``WEBHOOK_DEADLINE`` for the fee a webhook asks before answering Stripe,
``DEADLINE`` for a Celery task (transfers, refunds). ``stripe_calls.call``
reads the transport errors (429: ``GatewayRateLimited``; network, 5xx,
deadline: ``GatewayUnreachable``)."""

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
from payments.gateways.stripe_calls import call
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

    def _paced(self, *, deadline: float | None = None) -> stripe.StripeClient:
        """The paced client, its deadline ``deadline`` seconds from now
        (``stripe_client.DEADLINE`` when None)."""
        self.ensure_available()
        return stripe_client.get_paced_client(deadline=deadline)

    def checkout_start(self, *, topup: TopUp, success_url: str, cancel_url: str) -> Checkout:
        client = self._paced(deadline=stripe_client.WEB_DEADLINE)
        try:
            session = call(
                f"checkout topup:{topup.pk}",
                lambda: client.v1.checkout.sessions.create(
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
                ),
            )
        except stripe.StripeError as exc:
            raise _declined(exc) from exc
        return Checkout(url=session.url or "", session_id=session.id)

    def checkout_cancel(self, *, topup: TopUp) -> None:
        if not topup.checkout_session_id:
            return
        session_id = topup.checkout_session_id
        client = self._paced(deadline=stripe_client.WEB_DEADLINE)
        try:
            session = call(
                f"checkout {session_id}", lambda: client.v1.checkout.sessions.retrieve(session_id)
            )
            if session.status == "open":
                # Our key: an expiry whose answer was lost is replayed, not
                # refused as "no longer expirable".
                call(
                    f"expire {session_id}",
                    lambda: client.v1.checkout.sessions.expire(
                        session_id, options={"idempotency_key": f"topup-expire:{topup.pk}"}
                    ),
                )
            elif session.status == "complete":
                raise GatewayDeclined("this payment was already made")
        except stripe.StripeError as exc:
            raise _declined(exc) from exc

    def payment_fee(self, *, payment_intent_id: str) -> PaymentFee:
        # A webhook waits for this answer before answering Stripe.
        client = self._paced(deadline=stripe_client.WEBHOOK_DEADLINE)
        try:
            intent = call(
                f"fee {payment_intent_id}",
                lambda: client.v1.payment_intents.retrieve(
                    payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
                ),
            )
        except stripe.InvalidRequestError as exc:
            # Stripe does not know this payment: the event is refused.
            raise _declined(exc) from exc
        except (stripe.StripeError, GatewayDeclined) as exc:
            # Our key or permissions: the event is not refused (that would
            # lose a paid top-up), Stripe delivers it again once fixed.
            logger.error("fee of %s: %s", payment_intent_id, exc)
            raise GatewayUnreachable(f"fee of {payment_intent_id}: {exc}") from exc
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
        client = self._paced(deadline=stripe_client.WEB_DEADLINE)
        remote_id = account.stripe_account_id
        try:
            if not remote_id:
                remote = call(
                    f"payout-account:{account.pk}",
                    lambda: client.v1.accounts.create(
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
                    ),
                )
                remote_id = remote.id
            account_id = remote_id
            # An account link is single use and expires within minutes: each
            # click needs a new one, so the library's key (one per call, kept
            # across its retry), never one of ours replaying the first link.
            link = call(
                f"account link {account_id}",
                lambda: client.v1.account_links.create(
                    params={
                        "account": account_id,
                        "type": "account_onboarding",
                        "refresh_url": refresh_url,
                        "return_url": return_url,
                    }
                ),
            )
        except stripe.StripeError as exc:
            raise _declined(exc) from exc
        return Onboarding(url=link.url, remote_account_id=remote_id)

    def transfer_create(
        self, *, withdrawal: Withdrawal, destination: str | None, currency: str
    ) -> str:
        if not destination:
            raise GatewayDeclined("the payout account is not connected to Stripe")
        client = self._paced()
        try:
            transfer = call(
                f"withdrawal:{withdrawal.pk}",
                lambda: client.v1.transfers.create(
                    params={
                        "amount": withdrawal.amount_cents,
                        "currency": currency,
                        "destination": destination,
                        "metadata": {"withdrawal_id": str(withdrawal.pk)},
                    },
                    options={"idempotency_key": f"withdrawal:{withdrawal.pk}"},
                ),
            )
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
        client = self._paced()
        try:
            refund = call(
                f"refund {idempotency_key}",
                lambda: client.v1.refunds.create(
                    params=params,
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.StripeError as exc:
            logger.warning("refund %s refused by Stripe: %s", idempotency_key, exc)
            raise _declined(exc) from exc
        return refund.id
