"""Money taken back from a succeeded charge: a card dispute, a SEPA refund
claim, a late SEPA failure. ``dispute_recorded`` is what the webhook
handler calls (and ``payout_settle`` with what the gateway polls): once per
dispute id, whatever order or how often events arrive.

The disputed cents are allocated to the creators of that supporter's
shares, floored in proportion, the remaining cents to the largest shares
first (``dispute_allocation``); their collected gross drops by it and
``credits.run_reconcile`` takes back what they are no longer due: from
what the run still holds for them, then by reversing their transfers
(``transfers.recoveries_run``), else as a debt on future earnings.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from funding.models import (
    Charge,
    ChargeAttempt,
    ChargeDispute,
    ChargeStatus,
    DisputeShare,
    RunFunding,
)
from funding.services import accounts
from funding.services.credits import run_reconcile
from ledger.models import TransactionKind
from ledger.services import transaction_post
from payments.gateways.base import Dispute
from payouts.shares import counted_sql

logger = logging.getLogger(__name__)


def dispute_allocation(*, cents: int, shares: dict[int, int]) -> dict[int, int]:
    """``cents`` spread over ``shares`` ({creator: gross}) in proportion,
    floored; the remaining cents one each to the largest shares first (then
    the lowest creator id). The parts add up to ``cents`` (at most the
    shares' sum)."""
    total = sum(shares.values())
    if total <= 0 or cents <= 0:
        return {}
    cents = min(cents, total)
    parts = {c: cents * s // total for c, s in shares.items()}
    left = cents - sum(parts.values())
    for creator in sorted(shares, key=lambda c: (-shares[c], c))[:left]:
        parts[creator] += 1
    assert sum(parts.values()) == cents, "a dispute's parts add up to it"
    return {c: p for c, p in parts.items() if p}


def _supporter_shares(charge: Charge) -> dict[int, int]:
    """The supporter's gross per creator in the charge's run (claimed things)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT creator_id, sum(amount)::bigint
              FROM ({counted_sql(supporters="sl.supporter_id = %(supporter)s")}) s
             WHERE creator_id IS NOT NULL
             GROUP BY creator_id
            """,  # noqa: S608 - only our own SQL fragments are interpolated
            {"run": charge.run_id, "period": charge.run.period, "supporter": charge.supporter_id},
        )
        return dict(cursor.fetchall())


def dispute_recorded(*, dispute: Dispute) -> bool:
    """Record a dispute once and recover its money. False (logged, nothing
    moves) for an unknown payment intent, a charge that never succeeded, or
    a dispute id recorded before."""
    attempt = (
        ChargeAttempt.objects.filter(payment_intent_id=dispute.payment_intent_id)
        .order_by("-number")
        .first()
    )
    if attempt is None:
        logger.info(
            "dispute %s for unknown charge %s ignored",
            dispute.dispute_id,
            dispute.payment_intent_id,
        )
        return False
    try:
        # Not durable: the webhook handler calls it inside the event's
        # transaction; the reversals (processor calls) wait for the commit.
        with transaction.atomic():
            charge = (
                Charge.objects.select_for_update().select_related("run").get(pk=attempt.charge_id)
            )
            run = charge.run
            RunFunding.objects.select_for_update().get(run=run)
            if charge.status != ChargeStatus.SUCCEEDED:
                logger.info(
                    "dispute %s on a charge that is %s ignored", dispute.dispute_id, charge.status
                )
                return False
            if ChargeDispute.objects.filter(dispute_id=dispute.dispute_id).exists():
                return False
            # What was collected is credited first, so the dispute takes back
            # from creators who were credited.
            run_reconcile(run=run)
            before = charge.disputes.aggregate(c=Sum("amount"))["c"] or 0
            cents = min(dispute.amount_cents, charge.amount - before)
            if cents <= 0:
                return False
            record = ChargeDispute.objects.create(
                dispute_id=dispute.dispute_id, charge=charge, amount=cents
            )
            parts = dispute_allocation(cents=cents, shares=_supporter_shares(charge))
            DisputeShare.objects.bulk_create(
                [DisputeShare(dispute=record, creator_id=c, gross=p) for c, p in parts.items()]
            )
            transaction_post(
                kind=TransactionKind.TOPUP_REVERSAL,
                idempotency_key=f"dispute:{dispute.dispute_id}",
                legs=[(accounts.outside(), cents), (accounts.run_clearing(run), -cents)],
                memo=f"Dispute on the charge for {run.label}",
                reference=accounts.reference(run),
            )
            run_reconcile(run=run)
            transaction.on_commit(lambda: _recoveries_queue(run.pk))
    except IntegrityError:
        # The same dispute recorded by a racing call: it moved money once.
        return False
    return True


def _recoveries_queue(run_id: int) -> None:
    from funding.tasks import recoveries_run

    recoveries_run.delay(run_id)
