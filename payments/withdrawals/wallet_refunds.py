"""Wallet refunds: the money left in the wallet of a deleted account goes
back to the cards it came from, through a withdrawal of kind
``wallet_refund`` that staff review like any large withdrawal.

Ledger flow (idempotency keys from the withdrawal row):
request   wallet -> pending_withdrawal        ``withdrawal:<id>:request``
paid      pending_withdrawal -> outside       ``withdrawal:<id>:paid`` (refunded part)
returned  pending_withdrawal -> wallet        ``withdrawal:<id>:returned`` (rejected,
          or the part the processor declined)

The plan is fixed at request time: the person's paid top-ups, newest
first, each up to what is still refundable on its charge. The planned cents
are added to each top-up's ``reversed_cents`` at once, so the processor's
``charge.refunded`` event for our own refund finds nothing new and takes
nothing from the wallet a second time; a rejected or declined part is
released again. The wallet held the top-ups' net, so refunding that many
cents of the charges costs the platform nothing: the processor's fee was
never in the wallet.

Each refund is made outside any database transaction with the key
``withdrawal:<id>:topup:<topup id>``, so a retry refunds once. A refund the
processor fails later (``charge.refund.updated`` with status ``failed``)
comes back: outside -> wallet, ``withdrawal:<id>:refund-failed:<refund id>``,
and the withdrawal is marked reversed.

A chargeback on a charge the plan reserves (``charge.dispute.created``)
is booked in full by ``payments.services.topups.topup_dispute``: the
dispute's net share leaves the pending refund (not the wallet) in the
dispute's own posting, and ``wallet_refund_cede`` shrinks the plan in the
same transaction. Cents the disputed charge can no longer take back go to
the wallet (``withdrawal:<id>:dispute:<dispute id>:returned``); a refund
left with nothing to refund is cancelled. While the refund is being made
(processing) the dispute waits: Stripe delivers it again later.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from core.money import format_cents
from ledger import services as ledger
from ledger.models import AccountKind
from payments.gateways import GatewayDeclined, GatewayUnavailable, gateway_get
from payments.models import TopUp, TopUpStatus
from payments.webhooks import register
from payments.withdrawals.models import (
    OPEN_STATUSES,
    Withdrawal,
    WithdrawalKind,
    WithdrawalStatus,
)
from payments.withdrawals.postings import (
    pending_account,
    withdrawal_post_paid,
    withdrawal_post_request,
    withdrawal_post_returned,
)

logger = logging.getLogger(__name__)


class WalletRefundRefused(Exception):
    """A clear, user-facing reason; nothing moved."""


def _refundable_topups_locked(*, user: User) -> list[TopUp]:
    """``user``'s paid top-ups with something left to refund, newest first,
    their rows locked in one order (by id) so two writers cannot deadlock."""
    ids = list(
        TopUp.objects.filter(
            user=user, status=TopUpStatus.SUCCEEDED, reversed_cents__lt=F("amount_cents")
        )
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    locked = {t.pk: t for t in TopUp.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    return [locked[pk] for pk in ids]


def wallet_refund_request(*, user: User, amount_cents: int) -> Withdrawal:
    """Move ``amount_cents`` out of ``user``'s wallet into a wallet refund
    awaiting review. Runs inside the caller's transaction (account
    deletion). Raises WalletRefundRefused when the top-ups cannot take
    that much back."""
    if amount_cents <= 0:
        raise WalletRefundRefused(_("There is no money in the wallet to refund."))
    with transaction.atomic():
        plan: list[dict] = []
        left = amount_cents
        for topup in _refundable_topups_locked(user=user):
            if not left:
                break
            part = min(left, topup.amount_cents - topup.reversed_cents)
            plan.append({"topup_id": topup.pk, "amount_cents": part})
            left -= part
        if left:
            raise WalletRefundRefused(
                _(
                    "Only %(refundable)s of the %(amount)s in your wallet can go back to the "
                    "cards you paid with. Give it to the creators you flattred instead."
                )
                % {
                    "refundable": format_cents(amount_cents - left),
                    "amount": format_cents(amount_cents),
                }
            )
        for item in plan:
            TopUp.objects.filter(pk=item["topup_id"]).update(
                reversed_cents=F("reversed_cents") + item["amount_cents"]
            )
        withdrawal = Withdrawal.objects.create(
            user=user,
            kind=WithdrawalKind.WALLET_REFUND,
            amount_cents=amount_cents,
            status=WithdrawalStatus.AWAITING_REVIEW,
            refunds=plan,
        )
        try:
            withdrawal_post_request(
                withdrawal=withdrawal,
                source=ledger.wallet_account(user=user),
                memo=f"Wallet refund #{withdrawal.pk}",
                reference=ledger.Reference.of(withdrawal),
            )
        except ledger.InsufficientFunds:
            raise WalletRefundRefused(_("Your wallet changed meanwhile; try again."))
    return withdrawal


def wallet_refund_open_locked(*, user_id: int) -> Withdrawal | None:
    """The open wallet refund of ``user_id`` (at most one), its row locked.
    Lock it before any of its top-ups: every writer takes the withdrawal
    first, then the top-ups."""
    return (
        Withdrawal.objects.select_for_update()
        .select_related("user")
        .filter(user_id=user_id, kind=WithdrawalKind.WALLET_REFUND, status__in=OPEN_STATUSES)
        .first()
    )


def wallet_refund_reserved(*, withdrawal: Withdrawal | None, topup_id: int) -> int:
    """Cents ``withdrawal``'s plan reserves on the charge of ``topup_id``."""
    if withdrawal is None:
        return 0
    return sum(i["amount_cents"] for i in withdrawal.refunds if i["topup_id"] == topup_id)


def wallet_refund_cede(
    *, withdrawal: Withdrawal, topup_id: int, disputed: int, keep: int, dispute_id: str
) -> None:
    """Inside the dispute's transaction, ``withdrawal`` (awaiting review) and
    the top-up locked: the plan's reservation on ``topup_id`` shrinks to
    ``keep`` cents. ``disputed`` of the cents it gives up were posted from
    the pending account to the dispute by the caller (who also updates the
    top-up's ``reversed_cents``); the rest cannot be refunded on that charge
    any more and go back to the wallet. A refund left with nothing to refund
    is cancelled."""
    reserved = wallet_refund_reserved(withdrawal=withdrawal, topup_id=topup_id)
    returned = reserved - disputed - keep
    if returned < 0 or disputed < 0 or keep < 0:
        raise ValueError(f"cannot cede {disputed}+{keep} of {reserved} reserved cents")
    if not disputed and not returned:
        return
    if returned:
        withdrawal_post_returned(
            withdrawal=withdrawal,
            source=pending_account(withdrawal.user),
            target=ledger.wallet_account(user=withdrawal.user),
            cents=returned,
            memo=f"Wallet refund #{withdrawal.pk}: not refundable after dispute {dispute_id}",
            step=f"dispute:{dispute_id}:returned",
            reference=ledger.Reference.of(withdrawal),
        )
    others = [i for i in withdrawal.refunds if i["topup_id"] != topup_id]
    if keep:
        others.append({"topup_id": topup_id, "amount_cents": keep})
    # The plan keeps its order (newest top-up first).
    order = [i["topup_id"] for i in withdrawal.refunds]
    withdrawal.refunds = sorted(others, key=lambda i: order.index(i["topup_id"]))
    note = f"dispute {dispute_id} on top-up #{topup_id} took {format_cents(disputed)}"
    if returned:
        note += f"; {format_cents(returned)} no longer refundable went back to the wallet"
    withdrawal.reason = ((f"{withdrawal.reason}; " if withdrawal.reason else "") + note)[:500]
    left = sum(i["amount_cents"] for i in withdrawal.refunds)
    fields = ["refunds", "reason", "updated_at"]
    if left:
        withdrawal.amount_cents = left
        fields.append("amount_cents")
    else:
        # The amount stays what was asked (it must be positive); the
        # reason says where it went.
        withdrawal.status = WithdrawalStatus.CANCELLED
        fields.append("status")
    withdrawal.save(update_fields=fields)


def _release(withdrawal: Withdrawal, items: list[dict]) -> None:
    """Give back to the top-ups the reservation of refunds never made."""
    for item in sorted(items, key=lambda i: i["topup_id"]):
        TopUp.objects.filter(pk=item["topup_id"]).update(
            reversed_cents=F("reversed_cents") - item["amount_cents"]
        )


def wallet_refund_return(*, withdrawal: Withdrawal, items: list[dict]) -> int:
    """Inside a transaction holding ``withdrawal``'s row: the cents of
    ``items`` (not refunded) go back from pending to the wallet, and their
    top-ups' reservations are released. Returns the cents returned."""
    cents = sum(item["amount_cents"] for item in items)
    if not cents:
        return 0
    _release(withdrawal, items)
    withdrawal_post_returned(
        withdrawal=withdrawal,
        source=pending_account(withdrawal.user),
        target=ledger.wallet_account(user=withdrawal.user),
        cents=cents,
        memo=f"Wallet refund #{withdrawal.pk} returned",
        reference=ledger.Reference.of(withdrawal),
    )
    return cents


def wallet_refund_pay(*, withdrawal_id: int) -> Withdrawal:
    """Refund a processing wallet refund to the cards, once.

    No transaction is held during the gateway calls. GatewayUnreachable
    propagates (the task retries with the same keys, and a refund that went
    through comes back with its first answer); a declined refund is
    recorded and its cents go back to the wallet.
    """
    withdrawal = Withdrawal.objects.get(pk=withdrawal_id, kind=WithdrawalKind.WALLET_REFUND)
    if withdrawal.status != WithdrawalStatus.PROCESSING:
        return withdrawal
    topups = TopUp.objects.in_bulk([item["topup_id"] for item in withdrawal.refunds])
    results = []
    for item in withdrawal.refunds:
        topup = topups[item["topup_id"]]
        result = {"topup_id": topup.pk, "amount_cents": item["amount_cents"]}
        try:
            result["refund_id"] = gateway_get(topup.gateway).refund_create(
                topup=topup,
                amount_cents=item["amount_cents"],
                idempotency_key=f"withdrawal:{withdrawal.pk}:topup:{topup.pk}",
            )
        except (GatewayDeclined, GatewayUnavailable) as exc:
            result["error"] = str(exc)[:200]
        results.append(result)
    return _record(withdrawal_id=withdrawal.pk, results=results)


def _record(*, withdrawal_id: int, results: list[dict]) -> Withdrawal:
    with transaction.atomic(durable=True):
        withdrawal = (
            Withdrawal.objects.select_for_update().select_related("user").get(pk=withdrawal_id)
        )
        if withdrawal.status != WithdrawalStatus.PROCESSING:
            made = {r.get("refund_id") for r in results} - {None}
            if made <= {r.get("refund_id") for r in withdrawal.refunds}:
                return withdrawal  # a concurrent attempt recorded the same refunds
            logger.error(
                "wallet refund %s is %s but refunds were made: %s; check it by hand",
                withdrawal.pk,
                withdrawal.status,
                results,
            )
            return withdrawal
        paid = sum(r["amount_cents"] for r in results if r.get("refund_id"))
        declined = [r for r in results if not r.get("refund_id")]
        if paid:
            withdrawal_post_paid(
                withdrawal=withdrawal,
                cents=paid,
                memo=f"Wallet refund #{withdrawal.pk} paid",
                reference=ledger.Reference.of(withdrawal),
            )
        returned = wallet_refund_return(withdrawal=withdrawal, items=declined)
        withdrawal.refunds = results
        fields = ["refunds", "status", "updated_at"]
        if returned:
            withdrawal.status = WithdrawalStatus.FAILED
            errors = "; ".join(r["error"] for r in declined)
            withdrawal.reason = (
                f"{format_cents(paid)} refunded; {format_cents(returned)} declined "
                f"({errors}) and back in the wallet"
            )[:500]
            fields.append("reason")
        else:
            withdrawal.status = WithdrawalStatus.PAID
        withdrawal.save(update_fields=fields)
        return withdrawal


@register("charge.refund.updated", "refund.updated", "refund.failed")
def on_refund_failed(event: dict) -> None:
    """A refund the processor accepted and later failed (card closed, for
    example): its cents came back to us, so they go back to the wallet,
    once, and the top-up's reservation is released."""
    remote = event["data"]["object"]
    if remote.get("status") != "failed":
        return
    refund_id = remote.get("id")
    withdrawal = (
        Withdrawal.objects.select_for_update()
        .select_related("user")
        .filter(kind=WithdrawalKind.WALLET_REFUND, refunds__contains=[{"refund_id": refund_id}])
        .first()
    )
    if withdrawal is None:
        return  # not one of our wallet refunds (made from the dashboard)
    item = next(i for i in withdrawal.refunds if i.get("refund_id") == refund_id)
    if item.get("failed"):
        return
    cents = item["amount_cents"]
    withdrawal_post_returned(
        withdrawal=withdrawal,
        source=ledger.platform_account(kind=AccountKind.OUTSIDE),
        target=ledger.wallet_account(user=withdrawal.user),
        cents=cents,
        memo=f"Wallet refund #{withdrawal.pk}: refund {refund_id} failed",
        step=f"refund-failed:{refund_id}",
        reference=ledger.Reference.of(withdrawal),
    )
    _release(withdrawal, [item])
    item["failed"] = True
    item["error"] = str(remote.get("failure_reason") or "failed")[:200]
    withdrawal.status = WithdrawalStatus.REVERSED
    withdrawal.reason = (
        f"{withdrawal.reason}; " if withdrawal.reason else ""
    ) + f"refund {refund_id} of {format_cents(cents)} failed ({item['error']}); back in the wallet"
    withdrawal.reason = withdrawal.reason[:500]
    withdrawal.save(update_fields=["refunds", "status", "reason", "updated_at"])
