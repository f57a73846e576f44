"""``run_settle``: everything due now for an after-mode run, in order
(``manage.py payout_settle``, the beat task and tests call it):

1. charges waiting for a confirmation on a way to pay the supporter has
   since replaced moved to the new one (``moves.charges_move``); charges
   due: never tried, SEPA debits whose announced date has come
   (``advance``), retries whose time has come, attempts left in flight by a
   dead worker (``charges.charge_attempt``; past ``KEY_SAFE_AGE`` looked
   for at the processor before being sent again);
2. charges an earlier settle saw waiting asked again (SEPA processing
   becomes final at the settle after the one that saw it; a missed
   webhook); those left waiting are marked seen by this settle;
3. charges waiting past the retry schedule given up; the fees of charges
   that succeeded before the processor knew them (``fee_pending``: a SEPA
   debit's balance transaction can come after its success) asked again;
4. creators credited with what was collected (``credits.run_reconcile``);
5. transfers, once allowed, and those left in flight (past
   ``KEY_SAFE_AGE`` looked for first, as charges are);
6. disputes the gateway reports (``disputes.dispute_recorded``) and the
   reversals they plan.

Safe to run any number of times, concurrently: every step claims its rows
(``SKIP LOCKED``, a status) or holds the run's ``RunFunding`` lock.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from funding.models import Charge, ChargeStatus, RunFunding
from funding.services.charges import charge_attempt, charges_due
from funding.services.credits import run_reconcile
from funding.services.disputes import dispute_recorded
from funding.services.moves import charges_move
from funding.services.outcomes import charge_refresh, charges_expire, charges_fee_fetch
from funding.services.transfers import (
    recoveries_run,
    transfer_send,
    transfers_allowed,
    transfers_plan,
    transfers_stale,
)
from payments.gateways import gateway_get
from payments.models import PaymentMethod
from payouts.models import Funding, PayoutRun, RunStatus
from payouts.services.compute import PayoutError


class SettleError(PayoutError):
    """The run cannot be settled (not an after-mode run, not posted)."""


def charges_run(*, run: PayoutRun, now: dt.datetime, chunk: int | None = None) -> int:
    """Try every charge due now (of one chunk); how many outcomes were recorded."""
    done = 0
    for pk in list(charges_due(run=run, now=now, chunk=chunk).values_list("pk", flat=True)):
        done += charge_attempt(charge_id=pk, now=now)
    return done


def charges_refresh(*, run: PayoutRun, settle: int) -> int:
    """Ask again about charges a settle before ``settle`` saw waiting (SEPA
    processing is final at the settle after the one that saw it: whether a
    worker or the settle itself charged it)."""
    waiting = Charge.objects.filter(
        run=run,
        status__in=(ChargeStatus.PROCESSING, ChargeStatus.REQUIRES_ACTION),
        waiting_seen__lt=settle,
    )
    return sum(charge_refresh(charge_id=pk) for pk in waiting.values_list("pk", flat=True))


def charges_seen_waiting(*, run: PayoutRun, settle: int) -> None:
    """Mark the charges this settle leaves waiting (first time only)."""
    Charge.objects.filter(
        run=run,
        status__in=(ChargeStatus.PROCESSING, ChargeStatus.REQUIRES_ACTION),
        waiting_seen__isnull=True,
    ).update(waiting_seen=settle)


def disputes_poll(*, run: PayoutRun) -> int:
    """Disputes the gateways report on the run's succeeded charges (the
    test gateway's ``pm_card_createDispute``; Stripe's come by webhook)."""
    recorded = 0
    succeeded = Charge.objects.filter(
        run=run, status=ChargeStatus.SUCCEEDED, amount__gt=0, disputes__isnull=True
    ).exclude(payment_intent_id="")
    by_gateway: dict[str, list[str]] = {}
    for supporter, intent in succeeded.values_list("supporter_id", "payment_intent_id"):
        method = PaymentMethod.objects.filter(user_id=supporter).order_by("-pk").first()
        if method is not None:
            by_gateway.setdefault(method.gateway, []).append(intent)
    for name, intents in by_gateway.items():
        for dispute in gateway_get(name).disputes_poll(payment_intent_ids=intents):
            recorded += dispute_recorded(dispute=dispute)
    return recorded


def run_settle(*, run: PayoutRun, now: dt.datetime | None = None) -> PayoutRun:
    """Do everything due now for ``run`` (the module's docstring)."""
    run = PayoutRun.objects.get(pk=run.pk)
    if run.funding != Funding.AFTER:
        raise SettleError(f"the run of {run.label} is paid from wallets; nothing to settle")
    if run.status != RunStatus.POSTED or not RunFunding.objects.filter(run=run).exists():
        raise SettleError(
            f"the run of {run.label} is {run.status}; approve it first (payout_approve)"
        )
    now = now or timezone.now()
    RunFunding.objects.filter(run=run).update(settles=F("settles") + 1)
    settle = RunFunding.objects.values_list("settles", flat=True).get(run=run)
    charges_move(run=run, now=now)
    charges_run(run=run, now=now)
    charges_refresh(run=run, settle=settle)
    charges_seen_waiting(run=run, settle=settle)
    charges_expire(run=run, now=now)
    charges_fee_fetch(run=run)
    with transaction.atomic(durable=True):
        run_reconcile(run=run)
    if transfers_allowed(run=run, now=now):
        for pk in transfers_plan(run=run) + transfers_stale(run=run, now=now):
            transfer_send(transfer_id=pk, now=now)
    disputes_poll(run=run)
    recoveries_run(run=run, now=now)
    return run


def runs_settle(*, now: dt.datetime | None = None) -> list[str]:
    """Beat: settle every after-mode run that still has work (open charges,
    money held for creators, recoveries)."""
    settled = []
    for run in PayoutRun.objects.filter(
        funding=Funding.AFTER, status=RunStatus.POSTED, funding_state__isnull=False
    ):
        run_settle(run=run, now=now)
        settled.append(run.label)
    return settled
