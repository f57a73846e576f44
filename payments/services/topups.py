"""Money in: top-ups, their fulfilment, refunds and disputes.

The Stripe webhook and the test-mode gateway fulfil through the same
functions, so what is tested in test mode is what runs in production.

Fees and refunds: the wallet is credited gross minus the processor's fee.
On a refund or dispute the card gets back the refunded amount; the supporter's
wallet gives back its share net of the fee (the fee share, which Stripe does
not return, is a platform loss booked on the processor-fees account "refunds").
When the wallet no longer holds enough, it gives what it holds and the rest is
recorded as a receivable; a later top-up settles it first.

No processor call happens inside a database transaction: ``topup_create``
commits the top-up, then asks the gateway for a checkout keyed on
``topup:<id>``, then records the session in a second short transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from ledger import services as ledger
from ledger.models import Account, AccountKind, Transaction
from notifications.services import event_publish
from payments.gateways import (
    GatewayError,
    GatewayUnavailable,
    gateway_current,
    gateway_get,
)
from payments.gateways.test import simulated_fee
from payments.models import PENDING_TOPUP_LIFETIME, Gateway, TopUp, TopUpStatus
from payments.webhooks import WebhookDeferred, WebhookRefused
from payments.withdrawals import wallet_refunds
from payments.withdrawals.models import Withdrawal, WithdrawalStatus

logger = logging.getLogger(__name__)


class TopUpUnavailable(Exception):
    """No payment gateway can take money here (no Stripe key and DEBUG off)."""


class TopUpRefused(Exception):
    """A clear, user-facing reason; nothing changed."""


def simulated_gateway_fee(amount_cents: int) -> int:
    return simulated_fee(amount_cents)


def site_url(path: str, query: dict | None = None) -> str:
    url = settings.SITE_URL + path
    return f"{url}?{urlencode(query)}" if query else url


def topup_create(*, user: User, amount_cents: int) -> tuple[TopUp, str]:
    """Record a top-up and start paying it. Returns the top-up and the URL to
    send the supporter to (Stripe Checkout or the test-mode page)."""
    gateway = gateway_current()
    if not gateway.available():
        raise TopUpUnavailable("no payment processor is configured")
    with transaction.atomic(durable=True):
        topup = TopUp.objects.create(
            user=user,
            amount_cents=amount_cents,
            gateway=gateway.name,
            currency=settings.CURRENCY.lower(),
        )
    return topup, topup_checkout_start(topup=topup)


def topup_checkout_start(*, topup: TopUp) -> str:
    """Ask the top-up's gateway for a checkout (outside any transaction) and
    record its session id. Calling it again for the same top-up returns the
    same checkout: the gateway call is keyed on ``topup:<id>``."""
    gateway = gateway_get(topup.gateway)
    return_path = reverse("topup_return", args=[topup.pk])
    try:
        checkout = gateway.checkout_start(
            topup=topup,
            success_url=site_url(return_path),
            cancel_url=site_url(return_path, {"cancelled": "1"}),
        )
    except GatewayUnavailable as exc:
        raise TopUpUnavailable(str(exc)) from exc
    if checkout.session_id and checkout.session_id != topup.checkout_session_id:
        with transaction.atomic(durable=True):
            TopUp.objects.filter(pk=topup.pk).update(
                checkout_session_id=checkout.session_id, updated_at=timezone.now()
            )
        topup.checkout_session_id = checkout.session_id
    return checkout.url


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
    moves) when what was paid differs from our record. Money that arrived is
    credited even on a top-up we marked expired or cancelled meanwhile."""
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


def topup_cancel(*, topup: TopUp, user: User) -> TopUp:
    """The owner gives up on a pending top-up. The gateway is told first
    (outside any transaction) so the checkout can no longer be paid; a
    checkout that was paid meanwhile is refused here and credited by its
    webhook."""
    if topup.user_id != user.pk:
        raise TopUpRefused(_("This top-up is not yours."))
    if topup.status != TopUpStatus.PENDING:
        raise TopUpRefused(_("Only a pending top-up can be cancelled."))
    try:
        gateway_get(topup.gateway).checkout_cancel(topup=topup)
    except GatewayError as exc:
        logger.warning("top-up %s could not be cancelled at the gateway: %s", topup.pk, exc)
        raise TopUpRefused(
            _("The payment processor did not confirm the cancellation; try again later.")
        ) from exc
    with transaction.atomic(durable=True):
        topup = TopUp.objects.select_for_update().get(pk=topup.pk)
        if topup.status == TopUpStatus.PENDING:
            topup.status = TopUpStatus.CANCELLED
            topup.failure_reason = "cancelled by the supporter"
            topup.save(update_fields=["status", "failure_reason", "updated_at"])
    return topup


def topup_expire_pending(*, now: dt.datetime | None = None) -> int:
    """Mark top-ups pending for longer than a day as expired (beat task).
    Returns how many expired. Nothing moves: an expired top-up was never
    credited, and one paid late is still credited by its webhook."""
    cutoff = (now or timezone.now()) - PENDING_TOPUP_LIFETIME
    with transaction.atomic(durable=True):
        return TopUp.objects.filter(status=TopUpStatus.PENDING, created_at__lt=cutoff).update(
            status=TopUpStatus.EXPIRED,
            failure_reason="not paid within 24 hours",
            updated_at=timezone.now(),
        )


@transaction.atomic
def topup_reverse(
    *,
    topup: TopUp,
    amount_cents: int,
    idempotency_key: str,
    reason: str,
    refund: Withdrawal | None = None,
    dispute_id: str = "",
) -> None:
    """Give back ``amount_cents`` of a succeeded top-up to the outside world
    (refund or dispute); any part the wallet no longer holds becomes a
    receivable on the supporter.

    ``refund`` (a dispute's, locked by the caller before the top-up): an
    open wallet refund whose plan reserves cents of this charge. Those
    cents count as not yet reversed, the dispute's net share comes out of
    the pending refund first, and the plan keeps only what the charge can
    still refund (``wallet_refunds.wallet_refund_cede``), all in this
    transaction."""
    topup = TopUp.objects.select_for_update().select_related("user").get(pk=topup.pk)
    if topup.status != TopUpStatus.SUCCEEDED:
        raise WebhookRefused(f"top-up {topup.pk} was never credited ({topup.status})")
    if Transaction.objects.filter(idempotency_key=idempotency_key).exists():
        return  # booked before (the same dispute sent again)
    reserved = wallet_refunds.wallet_refund_reserved(withdrawal=refund, topup_id=topup.pk)
    already = topup.reversed_cents - reserved
    amount_cents = min(amount_cents, topup.amount_cents - already)
    if amount_cents <= 0:
        return
    user = topup.user
    # Cumulative, so several partial refunds give back exactly the fee in all.
    fee = topup.fee_cents or 0
    fee_share = (
        fee * (already + amount_cents) // topup.amount_cents - fee * already // topup.amount_cents
    )
    net_share = amount_cents - fee_share
    from_pending = min(reserved, net_share)
    # What the charge can still refund after this reversal.
    keep = min(reserved - from_pending, topup.amount_cents - already - amount_cents)
    wallet = ledger.wallet_account(user=user)
    # Lock the wallet before reading it, so the split below stays true.
    held = Account.objects.select_for_update().values_list("balance", flat=True).get(pk=wallet.pk)
    take = min(held, net_share - from_pending)
    owed = net_share - from_pending - take
    legs = [(ledger.platform_account(kind=AccountKind.OUTSIDE), amount_cents)]
    if from_pending:
        legs.append(
            (ledger.account_get(kind=AccountKind.PENDING_WITHDRAWAL, user=user), -from_pending)
        )
    if take:
        legs.append((wallet, -take))
    if owed:
        legs.append((ledger.account_get(kind=AccountKind.RECEIVABLE, user=user), -owed))
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
    if not created:
        return
    if refund is not None and reserved:
        wallet_refunds.wallet_refund_cede(
            withdrawal=refund,
            topup_id=topup.pk,
            disputed=from_pending,
            keep=keep,
            dispute_id=dispute_id,
        )
    topup.reversed_cents = already + amount_cents + keep
    topup.save(update_fields=["reversed_cents", "updated_at"])


@transaction.atomic
def topup_dispute(*, topup_id: int, amount_cents: int, dispute_id: str) -> None:
    """Book a chargeback of ``amount_cents`` on a top-up, in full and once.

    A pending wallet refund (account deleted with "refund") that reserves
    cents of the disputed charge gives them up to the dispute in the same
    transaction, so rejecting it later cannot put them back in the wallet.
    A wallet refund being paid right now (processing) has a refund in
    flight whose outcome is unknown: the dispute is deferred (Stripe sends
    it again) until that outcome is recorded."""
    user_id = TopUp.objects.values_list("user_id", flat=True).get(pk=topup_id)
    # The withdrawal first, then the top-up: the order every writer follows.
    refund = wallet_refunds.wallet_refund_open_locked(user_id=user_id)
    if (
        refund is not None
        and refund.status != WithdrawalStatus.AWAITING_REVIEW
        and wallet_refunds.wallet_refund_reserved(withdrawal=refund, topup_id=topup_id)
    ):
        raise WebhookDeferred(f"wallet refund #{refund.pk} on top-up #{topup_id} is being paid")
    topup_reverse(
        topup=TopUp(pk=topup_id),
        amount_cents=amount_cents,
        idempotency_key=f"topup:{topup_id}:dispute:{dispute_id}",
        reason="Dispute",
        refund=refund,
        dispute_id=dispute_id,
    )


@transaction.atomic
def topup_refund_to(*, topup_id: int, refunded_total_cents: int) -> None:
    """Bring a top-up's refunds up to Stripe's cumulative ``amount_refunded``.

    The row is locked before the delta is computed, so two refund events
    for one charge delivered at once (2000 then 4000 cumulative, in any
    order) give back 4000 in all, never 6000.
    """
    topup = TopUp.objects.select_for_update().get(pk=topup_id)
    delta = refunded_total_cents - topup.reversed_cents
    if delta <= 0:
        return  # an older (or repeated) state of the charge
    topup_reverse(
        topup=topup,
        amount_cents=delta,
        # Cumulative amount: each new refund on the charge has its own key.
        idempotency_key=f"topup:{topup.pk}:refunded-to:{refunded_total_cents}",
        reason="Refund",
    )


# --- Test-mode gateway ----------------------------------------------------


def simulated_gateway_available() -> bool:
    return gateway_get(Gateway.TEST).available()


def simulated_checkout_pay(*, topup: TopUp) -> TopUp:
    """What Stripe's webhook would do for a paid test-mode top-up."""
    with transaction.atomic(durable=True):
        return topup_fulfil(
            topup_id=topup.pk,
            amount_cents=topup.amount_cents,
            currency=topup.currency,
            fee_cents=simulated_gateway_fee(topup.amount_cents),
            payment_intent_id=f"test_pi_{topup.pk}",
            charge_id=f"test_ch_{topup.pk}",
        )


def simulated_checkout_fail(*, topup: TopUp) -> TopUp:
    with transaction.atomic(durable=True):
        return topup_fail(topup_id=topup.pk, reason="declined in test mode")
