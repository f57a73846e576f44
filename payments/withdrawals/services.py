"""Money out: onboarding a payout account and withdrawing earnings.

Ledger flow (idempotency keys from our rows):
request   earnings -> pending_withdrawal         ``withdrawal:<id>:request``
paid      pending_withdrawal -> outside          ``withdrawal:<id>:paid``
returned  pending (or outside, after a reversal) -> earnings  ``withdrawal:<id>:returned``

The gateway is never called inside a database transaction: the withdrawal
is committed as ``processing``, the transfer is made with the key
``withdrawal:<id>``, and the result is recorded in a second short
transaction. A withdrawal whose payment was never queued (broker down) or
never finished (worker killed) is queued again by ``withdrawal_sweep_stuck``;
the key makes any retry pay once.

Review, payment and failure also serve wallet refunds (the money left in a
deleted account's wallet, see ``wallet_refunds``): same statuses, same
four-eyes review, but refunded to the top-ups' cards and returned to the
wallet rather than to earnings.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerUnavailable

from accounts.models import User
from core.money import format_cents
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import AccountKind
from notifications.services import event_publish
from payments.gateways import (
    GatewayDeclined,
    GatewayError,
    GatewayUnavailable,
    PaymentGateway,
    gateway_current,
    gateway_get,
)
from payments.models import Gateway
from payments.webhooks import WebhookRefused, register
from payments.withdrawals import wallet_refunds
from payments.withdrawals.models import (
    OPEN_STATUSES,
    PayoutAccount,
    PayoutAccountStatus,
    Withdrawal,
    WithdrawalStatus,
)
from payments.withdrawals.postings import (
    pending_account,
    withdrawal_post_paid,
    withdrawal_post_request,
    withdrawal_post_returned,
)

logger = logging.getLogger(__name__)


class WithdrawalRefused(Exception):
    """A clear, user-facing reason; nothing moved."""


def simulated_gateway_available() -> bool:
    return gateway_get(Gateway.TEST).available()


def _gateway_of(account: PayoutAccount) -> PaymentGateway:
    return gateway_get(Gateway.TEST if account.test_mode else Gateway.STRIPE)


# --- Onboarding ---------------------------------------------------------------


def payout_account_start(*, user: User) -> tuple[PayoutAccount, str]:
    """Create (once) the creator's connected account and return where to
    send them to finish onboarding. Our row is committed before the gateway
    is called (keyed on ``payout-account:<id>``); its answer is recorded in
    a second transaction."""
    gateway = gateway_current()
    if not gateway.available():
        raise WithdrawalRefused(_("Payouts are unavailable: no payment processor is configured."))
    with transaction.atomic(durable=True):
        account, _created = PayoutAccount.objects.select_for_update().get_or_create(user=user)
        if gateway.is_test and not account.test_mode:
            account.test_mode = True
            account.save(update_fields=["test_mode", "updated_at"])
    try:
        onboarding = gateway.payout_account_start(
            account=account,
            email=user.email,
            refresh_url=settings.SITE_URL + reverse("payout_account_connect"),
            return_url=settings.SITE_URL + reverse("earnings"),
        )
    except GatewayError as exc:
        logger.warning("payout account %s: onboarding failed: %s", account.pk, exc)
        raise WithdrawalRefused(
            _("The payment processor could not be reached. Try again in a moment.")
        ) from exc
    remote_id = onboarding.remote_account_id
    if remote_id and remote_id != account.stripe_account_id:
        with transaction.atomic(durable=True):
            PayoutAccount.objects.filter(pk=account.pk, stripe_account_id__isnull=True).update(
                stripe_account_id=remote_id, test_mode=False, updated_at=timezone.now()
            )
        account.refresh_from_db()
    return account, onboarding.url


@transaction.atomic(durable=True)
def payout_account_test_set(*, user: User, status: str) -> PayoutAccount:
    """The test-mode gateway's stand-in for Stripe's onboarding."""
    if not simulated_gateway_available():
        raise WithdrawalRefused(_("The test-mode gateway is not available."))
    account = PayoutAccount.objects.select_for_update().get(user=user, test_mode=True)
    account.status = status
    account.save(update_fields=["status", "updated_at"])
    return account


def _status_from_stripe(remote: dict) -> str:
    capabilities = remote.get("capabilities") or {}
    requirements = remote.get("requirements") or {}
    if requirements.get("disabled_reason") or capabilities.get("transfers") == "inactive":
        return PayoutAccountStatus.RESTRICTED
    if capabilities.get("transfers") == "active" and remote.get("payouts_enabled", True):
        return PayoutAccountStatus.ENABLED
    return PayoutAccountStatus.PENDING


@register("account.updated")
def on_account_updated(event: dict) -> None:
    remote = event["data"]["object"]
    account = (
        PayoutAccount.objects.select_for_update().filter(stripe_account_id=remote.get("id")).first()
    )
    if account is None:
        raise WebhookRefused(f"connected account {remote.get('id')} is not ours")
    status = _status_from_stripe(remote)
    if status != account.status:
        account.status = status
        account.save(update_fields=["status", "updated_at"])


# --- Withdrawals --------------------------------------------------------------


@transaction.atomic(durable=True)
def withdrawal_request(*, user: User, amount_cents: int) -> Withdrawal:
    account = PayoutAccount.objects.filter(user=user).first()
    if account is None or account.status != PayoutAccountStatus.ENABLED:
        raise WithdrawalRefused(
            _("Connect a payout account (and finish its onboarding) before withdrawing.")
        )
    if account.test_mode and not simulated_gateway_available():
        raise WithdrawalRefused(_("This test-mode payout account cannot receive real money."))
    if amount_cents < settings.FLATTR_MIN_WITHDRAWAL_CENTS:
        raise WithdrawalRefused(
            _("The minimum withdrawal is %(amount)s.")
            % {"amount": format_cents(settings.FLATTR_MIN_WITHDRAWAL_CENTS)}
        )
    if amount_cents > ledger_selectors.earnings_balance(user=user):
        raise WithdrawalRefused(_("You cannot withdraw more than your earnings balance."))
    review = amount_cents > settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS
    try:
        with transaction.atomic():
            withdrawal = Withdrawal.objects.create(
                user=user,
                amount_cents=amount_cents,
                status=WithdrawalStatus.AWAITING_REVIEW if review else WithdrawalStatus.PROCESSING,
            )
    except IntegrityError:
        # The partial unique index: a concurrent or earlier request is open.
        raise WithdrawalRefused(_("You already have a withdrawal in progress."))
    try:
        withdrawal_post_request(
            withdrawal=withdrawal,
            source=ledger.earnings_account(user=user),
            memo=f"Withdrawal #{withdrawal.pk}",
        )
    except ledger.InsufficientFunds:
        raise WithdrawalRefused(_("You cannot withdraw more than your earnings balance."))
    if not review:
        _queue_payment(withdrawal)
    return withdrawal


def _send_payment(withdrawal_id: int) -> None:
    # Lazy: the task module imports these services.
    from payments.withdrawals.tasks import withdrawal_pay

    try:
        withdrawal_pay.delay(withdrawal_id)
    except BrokerUnavailable as exc:
        # Saved as processing; withdrawal_sweep_stuck queues it again later.
        logger.warning(
            "withdrawal %s: broker unreachable (%s); the sweeper will queue it", withdrawal_id, exc
        )


def _queue_payment(withdrawal: Withdrawal) -> None:
    pk = withdrawal.pk
    transaction.on_commit(lambda: _send_payment(pk))


def withdrawal_sweep_stuck(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again every withdrawal still ``processing`` more than
    ``FLATTR_WITHDRAWAL_STUCK_MINUTES`` after its last attempt (beat task).
    Paying is idempotent (``withdrawal:<id>`` at the gateway and in the
    ledger), so a withdrawal that is merely slow is still paid once."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.FLATTR_WITHDRAWAL_STUCK_MINUTES)
    with transaction.atomic(durable=True):
        ids = list(
            Withdrawal.objects.select_for_update(skip_locked=True)
            .filter(status=WithdrawalStatus.PROCESSING, updated_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:1000]
        )
        # Touched, so the next sweep waits for this attempt.
        Withdrawal.objects.filter(pk__in=ids).update(updated_at=now)
        for pk in ids:
            transaction.on_commit(partial(_send_payment, pk))
    if ids:
        logger.info("withdrawal sweeper queued %s stuck withdrawals: %s", len(ids), ids)
    return ids


@transaction.atomic(durable=True)
def withdrawal_approve(*, withdrawal: Withdrawal, staff: User) -> Withdrawal:
    withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
    if withdrawal.status != WithdrawalStatus.AWAITING_REVIEW:
        raise WithdrawalRefused(_("Only a withdrawal awaiting review can be approved."))
    if staff is not None and withdrawal.user_id == staff.pk:
        # Four eyes: someone else reviews money leaving to a staff member.
        raise WithdrawalRefused(
            _("You cannot approve your own withdrawal; another staff member must review it.")
        )
    withdrawal.status = WithdrawalStatus.PROCESSING
    withdrawal.reviewed_by = staff
    withdrawal.reviewed_at = timezone.now()
    withdrawal.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    _queue_payment(withdrawal)
    return withdrawal


def _return_money(withdrawal: Withdrawal, *, from_outside: bool) -> None:
    if withdrawal.is_wallet_refund:
        wallet_refunds.wallet_refund_return(withdrawal=withdrawal, items=withdrawal.refunds)
        return
    source = (
        ledger.platform_account(kind=AccountKind.OUTSIDE)
        if from_outside
        else pending_account(withdrawal.user)
    )
    withdrawal_post_returned(
        withdrawal=withdrawal,
        source=source,
        target=ledger.earnings_account(user=withdrawal.user),
        cents=withdrawal.amount_cents,
        memo=f"Withdrawal #{withdrawal.pk} returned",
    )


def _tell_creator(withdrawal: Withdrawal, message: str) -> None:
    if withdrawal.is_wallet_refund:
        return  # the account was deleted: nobody to tell
    user = withdrawal.user
    transaction.on_commit(
        lambda: send_mail(
            _("Your withdrawal of %(amount)s") % {"amount": format_cents(withdrawal.amount_cents)},
            message,
            None,
            [user.email],
            fail_silently=True,
        )
    )


@transaction.atomic(durable=True)
def withdrawal_reject(*, withdrawal: Withdrawal, staff: User, reason: str) -> Withdrawal:
    withdrawal = Withdrawal.objects.select_for_update().select_related("user").get(pk=withdrawal.pk)
    if withdrawal.status != WithdrawalStatus.AWAITING_REVIEW:
        raise WithdrawalRefused(_("Only a withdrawal awaiting review can be rejected."))
    if not reason.strip():
        raise WithdrawalRefused(_("Give a reason: the creator is told."))
    withdrawal.status = WithdrawalStatus.REJECTED
    withdrawal.reason = reason.strip()[:500]
    withdrawal.reviewed_by = staff
    withdrawal.reviewed_at = timezone.now()
    withdrawal.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at", "updated_at"])
    _return_money(withdrawal, from_outside=False)
    _tell_creator(
        withdrawal,
        _("It was not approved: %(reason)s. The money is back in your earnings.")
        % {"reason": withdrawal.reason},
    )
    return withdrawal


def withdrawal_pay(*, withdrawal_id: int) -> Withdrawal:
    """Transfer a processing withdrawal to the creator's connected account.

    No transaction or row lock is held during the gateway call. The call
    carries ``withdrawal:<id>`` as idempotency key, so a retry after a
    transfer that went through (but was not recorded) gets the same
    transfer back and pays once. GatewayUnreachable propagates: the task
    retries with the same key.
    """
    withdrawal = Withdrawal.objects.select_related("user").get(pk=withdrawal_id)
    if withdrawal.status != WithdrawalStatus.PROCESSING:
        return withdrawal
    if withdrawal.is_wallet_refund:
        return wallet_refunds.wallet_refund_pay(withdrawal_id=withdrawal_id)
    account = PayoutAccount.objects.get(user=withdrawal.user)
    try:
        transfer_id = _gateway_of(account).transfer_create(
            withdrawal=withdrawal,
            destination=account.stripe_account_id,
            currency=settings.CURRENCY.lower(),
        )
    except GatewayUnavailable:
        return withdrawal_fail(
            withdrawal_id=withdrawal_id, reason="the payment gateway is not available"
        )
    except GatewayDeclined as exc:
        return withdrawal_fail(withdrawal_id=withdrawal_id, reason=str(exc))
    return _record_paid(withdrawal_id=withdrawal_id, transfer_id=transfer_id)


def _record_paid(*, withdrawal_id: int, transfer_id: str) -> Withdrawal:
    with transaction.atomic(durable=True):
        withdrawal = (
            Withdrawal.objects.select_for_update().select_related("user").get(pk=withdrawal_id)
        )
        if withdrawal.status != WithdrawalStatus.PROCESSING:
            if withdrawal.stripe_transfer_id != transfer_id:
                logger.error(
                    "withdrawal %s is %s but transfer %s went through; check it by hand",
                    withdrawal.pk,
                    withdrawal.status,
                    transfer_id,
                )
            return withdrawal
        withdrawal.stripe_transfer_id = transfer_id
        withdrawal.status = WithdrawalStatus.PAID
        withdrawal.save(update_fields=["stripe_transfer_id", "status", "updated_at"])
        withdrawal_post_paid(
            withdrawal=withdrawal,
            cents=withdrawal.amount_cents,
            memo=f"Withdrawal #{withdrawal.pk} paid ({transfer_id})",
        )
        _publish(withdrawal, "withdrawal.paid")
        return withdrawal


def withdrawal_fail(*, withdrawal_id: int, reason: str) -> Withdrawal:
    """Give up on a processing withdrawal (the task's retries ran out)."""
    with transaction.atomic(durable=True):
        withdrawal = (
            Withdrawal.objects.select_for_update().select_related("user").get(pk=withdrawal_id)
        )
        if withdrawal.status != WithdrawalStatus.PROCESSING:
            return withdrawal
        return _fail(withdrawal, reason)


def _fail(withdrawal: Withdrawal, reason: str) -> Withdrawal:
    withdrawal.status = WithdrawalStatus.FAILED
    withdrawal.reason = reason[:500]
    withdrawal.save(update_fields=["status", "reason", "updated_at"])
    _return_money(withdrawal, from_outside=False)
    _publish(withdrawal, "withdrawal.failed")
    return withdrawal


def _publish(withdrawal: Withdrawal, type: str) -> None:
    """E-mail and webhooks (notifications app), once per withdrawal and outcome."""
    if withdrawal.is_wallet_refund:
        return  # the account was deleted: nobody to tell
    event_publish(
        type=type,
        recipient=withdrawal.user,
        data={
            "withdrawal_id": withdrawal.pk,
            "amount_cents": withdrawal.amount_cents,
            "reason": withdrawal.reason,
        },
        key=f"withdrawal:{withdrawal.pk}:{type}",
    )


@register("transfer.reversed")
def on_transfer_reversed(event: dict) -> None:
    transfer = event["data"]["object"]
    withdrawal = (
        Withdrawal.objects.select_for_update()
        .select_related("user")
        .filter(stripe_transfer_id=transfer.get("id"))
        .first()
    )
    if withdrawal is None:
        raise WebhookRefused(f"transfer {transfer.get('id')} matches no withdrawal of ours")
    if withdrawal.status != WithdrawalStatus.PAID:
        return
    withdrawal.status = WithdrawalStatus.REVERSED
    withdrawal.reason = "The transfer was reversed by the payment processor."
    withdrawal.save(update_fields=["status", "reason", "updated_at"])
    _return_money(withdrawal, from_outside=True)
    _tell_creator(withdrawal, _("The transfer was reversed. The money is back in your earnings."))


def open_withdrawal(*, user: User) -> Withdrawal | None:
    return Withdrawal.objects.filter(user=user, status__in=OPEN_STATUSES).first()
