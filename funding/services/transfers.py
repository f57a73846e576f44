"""Paying creators what an after-mode run collected for them, and taking it
back after a dispute.

``transfers_plan`` (under the run's ``RunFunding`` lock) settles a
creator's debt from what the run holds for them first, then records one
``Transfer`` per creator with money held and a ready connected account
(``transfer:<run id>:<creator id>:<n>``); ``transfer_send`` calls the
processor outside any transaction and records the outcome (earnings ->
outside) in a second one. A creator without a ready account keeps the money
on the books as owed; a later settle pays it. ``recoveries_run`` reverses
transfers for the recoveries a dispute planned (``reversal:<id>``); a
refused reversal leaves the debt on the creator's receivable.

A transfer or reversal left in flight longer than the processor keeps its
idempotency keys (``charges.KEY_SAFE_AGE``) is looked for at the processor
(``transfer_find``, ``transfer_reversal_find``: by the key in its metadata)
before its key is used again; found, it is recorded as made.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from funding.models import (
    OPEN_STATUSES,
    Charge,
    CreatorPayout,
    Recovery,
    RecoveryStatus,
    RunFunding,
    Transfer,
    TransferStatus,
)
from funding.services import accounts
from funding.services.charges import IN_FLIGHT_LEASE, KEY_SAFE_AGE, LOOKUP_MARGIN
from funding.services.pacing import call_paced
from ledger.models import AccountKind, TransactionKind
from ledger.services import account_get, transaction_post
from payments.gateways import gateway_current
from payments.gateways.base import GatewayDeclined, GatewayError
from payments.withdrawals.models import PayoutAccount, PayoutAccountStatus
from payouts.models import PayoutRun

logger = logging.getLogger(__name__)


def transfers_allowed(*, run: PayoutRun, now: dt.datetime) -> bool:
    """Creators are paid once every charge of the run is final, or from
    ``FLATTR_TRANSFER_AFTER_DAYS`` after approval (``RunFunding.transfers_from``)."""
    state = RunFunding.objects.get(run=run)
    if now >= state.transfers_from:
        return True
    return not Charge.objects.filter(run=run, status__in=OPEN_STATUSES).exists()


def _debt_outstanding(user_id: int) -> int:
    """A creator's debts whose transfers could not be reversed, less what
    their earnings already paid of them (every run)."""
    debts = (
        Recovery.objects.filter(payout__creator_id=user_id, status=RecoveryStatus.DEBT).aggregate(
            c=Sum("amount")
        )["c"]
        or 0
    )
    paid = CreatorPayout.objects.filter(creator_id=user_id).aggregate(c=Sum("debt_paid"))["c"] or 0
    return debts - paid


def _destination(user_id: int) -> str | None:
    """The creator's ready connected account, None when there is none."""
    account = PayoutAccount.objects.filter(
        user_id=user_id, status=PayoutAccountStatus.ENABLED
    ).first()
    if account is None:
        return None
    return account.stripe_account_id or ""


def transfers_plan(*, run: PayoutRun) -> list[int]:
    """Record the transfers due now (ids returned, to send outside the
    transaction). Debts are settled from held money first."""
    planned: list[int] = []
    with transaction.atomic(durable=True):
        RunFunding.objects.select_for_update().get(run=run)
        rows = CreatorPayout.objects.select_for_update().filter(
            run=run, credited__gt=F("sent") + F("debt_paid")
        )
        for row in rows.order_by("creator_id"):
            owed = _debt_outstanding(row.creator_id)
            settle = min(owed, row.held)
            if settle > 0:
                row.debt_paid += settle
                transaction_post(
                    kind=TransactionKind.RECEIVABLE_SETTLEMENT,
                    idempotency_key=f"debt:{run.pk}:{row.creator_id}:{row.debt_paid}",
                    legs=[
                        (account_get(kind=AccountKind.EARNINGS, user=row.creator), -settle),
                        (account_get(kind=AccountKind.RECEIVABLE, user=row.creator), settle),
                    ],
                    memo=f"Debt paid from {run.label}",
                    reference=accounts.reference(run),
                )
            destination = _destination(row.creator_id)
            amount = row.held
            if amount > 0 and destination is not None:
                row.transfers += 1
                row.sent += amount
                transfer = Transfer.objects.create(
                    payout=row,
                    number=row.transfers,
                    idempotency_key=f"transfer:{run.pk}:{row.creator_id}:{row.transfers}",
                    amount=amount,
                    destination=destination,
                )
                planned.append(transfer.pk)
            row.save(update_fields=["debt_paid", "sent", "transfers"])
    return planned


def transfer_send(*, transfer_id: int, now: dt.datetime | None = None) -> bool:
    """Call the processor for a recorded transfer (again with the same key
    if it was left in flight) and record the outcome once. Left in flight
    longer than the processor keeps keys (``KEY_SAFE_AGE``), the transfer
    that call made is looked for first and adopted when found."""
    now = now or timezone.now()
    transfer = Transfer.objects.select_related("payout__run").get(pk=transfer_id)
    if transfer.status != TransferStatus.IN_FLIGHT:
        return False
    run = transfer.payout.run
    gateway = gateway_current()
    found = None
    if transfer.created_at <= now - KEY_SAFE_AGE:
        try:
            found = call_paced(
                gateway.transfer_find,
                destination=transfer.destination or None,
                idempotency_key=transfer.idempotency_key,
                transfer_group=f"payout-{run.label}",
                since=transfer.created_at - LOOKUP_MARGIN,
            )
        except GatewayError as exc:
            # Never sent blind: the lookup is tried again later.
            logger.warning("transfer %s left in flight: %s", transfer.idempotency_key, exc)
            return False
        logger.warning(
            "transfer %s in flight since %s: %s",
            transfer.idempotency_key,
            transfer.created_at.isoformat(),
            f"found {found}" if found else "not made, sent again",
        )
    if found:
        return _transfer_record(transfer_id=transfer_id, remote_id=found, error="")
    try:
        remote_id = call_paced(
            gateway.transfer_send,
            destination=transfer.destination or None,
            amount_cents=transfer.amount,
            currency=_currency(),
            idempotency_key=transfer.idempotency_key,
            transfer_group=f"payout-{run.label}",
        )
    except GatewayDeclined as exc:
        return _transfer_record(transfer_id=transfer_id, remote_id="", error=str(exc))
    except GatewayError as exc:
        logger.warning("transfer %s left in flight: %s", transfer.idempotency_key, exc)
        return False
    return _transfer_record(transfer_id=transfer_id, remote_id=remote_id, error="")


def _currency() -> str:
    from django.conf import settings

    return settings.CURRENCY.lower()


def _transfer_record(*, transfer_id: int, remote_id: str, error: str) -> bool:
    with transaction.atomic(durable=True):
        transfer = Transfer.objects.select_for_update().get(pk=transfer_id)
        if transfer.status != TransferStatus.IN_FLIGHT:
            return False
        row = (
            CreatorPayout.objects.select_for_update()
            .select_related("run")
            .get(pk=transfer.payout_id)
        )
        transfer.finished_at = timezone.now()
        if error:
            logger.warning("transfer %s refused: %s", transfer.idempotency_key, error)
            transfer.status = TransferStatus.FAILED
            row.sent -= transfer.amount
            row.save(update_fields=["sent"])
        else:
            transfer.status = TransferStatus.SENT
            transfer.transfer_id = remote_id
            transaction_post(
                kind=TransactionKind.WITHDRAWAL_PAID,
                idempotency_key=transfer.idempotency_key,
                legs=[
                    (account_get(kind=AccountKind.EARNINGS, user=row.creator), -transfer.amount),
                    (accounts.outside(), transfer.amount),
                ],
                memo=f"Transfer for {row.run.label}",
                reference=accounts.reference(row.run),
            )
        transfer.save(update_fields=["status", "transfer_id", "finished_at"])
    return True


def transfers_stale(*, run: PayoutRun, now: dt.datetime) -> list[int]:
    """Transfers left in flight past the lease (their worker died)."""
    return list(
        Transfer.objects.filter(
            payout__run=run, status=TransferStatus.IN_FLIGHT, created_at__lte=now - IN_FLIGHT_LEASE
        ).values_list("pk", flat=True)
    )


def recoveries_run(*, run: PayoutRun, now: dt.datetime | None = None) -> int:
    """Reverse the transfers the run's disputes planned to take back."""
    now = now or timezone.now()
    done = 0
    candidates = Recovery.objects.filter(payout__run=run).filter(
        status=RecoveryStatus.PENDING
    ) | Recovery.objects.filter(
        payout__run=run, status=RecoveryStatus.IN_FLIGHT, created_at__lte=now - IN_FLIGHT_LEASE
    )
    for pk in candidates.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            recovery = Recovery.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if (
                recovery is None
                or recovery.transfer_id is None
                or recovery.status
                not in (
                    RecoveryStatus.PENDING,
                    RecoveryStatus.IN_FLIGHT,
                )
            ):
                continue
            # Called before, longer ago than the processor keeps keys (it
            # was planned before that call): looked for before the key is
            # used again, as charges and transfers are.
            look_first = (
                recovery.status == RecoveryStatus.IN_FLIGHT
                and recovery.created_at <= now - KEY_SAFE_AGE
            )
            recovery.status = RecoveryStatus.IN_FLIGHT
            recovery.save(update_fields=["status"])
        transfer = Transfer.objects.get(pk=recovery.transfer_id)
        gateway = gateway_current()
        try:
            reversal = None
            if look_first:
                reversal = call_paced(
                    gateway.transfer_reversal_find,
                    transfer_id=transfer.transfer_id,
                    idempotency_key=recovery.idempotency_key,
                    since=recovery.created_at - LOOKUP_MARGIN,
                )
                logger.warning(
                    "reversal %s in flight since before %s: %s",
                    recovery.idempotency_key,
                    recovery.created_at.isoformat(),
                    f"found {reversal}" if reversal else "not made, sent again",
                )
        except GatewayError as exc:
            # Never sent blind: the lookup is tried again later.
            logger.warning("reversal %s left in flight: %s", recovery.idempotency_key, exc)
            continue
        if reversal is None:
            try:
                reversal = call_paced(
                    gateway.transfer_reverse,
                    transfer_id=transfer.transfer_id,
                    amount_cents=recovery.amount,
                    idempotency_key=recovery.idempotency_key,
                )
            except GatewayDeclined:
                reversal = None
            except GatewayError as exc:
                logger.warning("reversal %s left in flight: %s", recovery.idempotency_key, exc)
                continue
        done += _recovery_record(recovery_id=pk, reversal_id=reversal)
    return done


def _recovery_record(*, recovery_id: int, reversal_id: str | None) -> int:
    with transaction.atomic(durable=True):
        recovery = Recovery.objects.select_for_update().get(pk=recovery_id)
        if recovery.status != RecoveryStatus.IN_FLIGHT:
            return 0
        row = (
            CreatorPayout.objects.select_for_update()
            .select_related("run", "creator")
            .get(pk=recovery.payout_id)
        )
        recovery.finished_at = timezone.now()
        if reversal_id is None:
            # Spent: the receivable posted at the dispute stays, a debt on
            # future earnings (settled by ``transfers_plan``).
            recovery.status = RecoveryStatus.DEBT
        else:
            recovery.status = RecoveryStatus.REVERSED
            recovery.reversal_id = reversal_id
            transaction_post(
                kind=TransactionKind.REVERSAL,
                idempotency_key=recovery.idempotency_key,
                legs=[
                    (accounts.outside(), -recovery.amount),
                    (account_get(kind=AccountKind.RECEIVABLE, user=row.creator), recovery.amount),
                ],
                memo=f"Transfer reversed after a dispute ({row.run.label})",
                reference=accounts.reference(row.run),
            )
            row.reversed += recovery.amount
            row.debt -= recovery.amount
            row.save(update_fields=["reversed", "debt"])
            Transfer.objects.filter(recoveries=recovery).update(
                reversed=F("reversed") + recovery.amount
            )
        recovery.save(update_fields=["status", "reversal_id", "finished_at"])
    return 1
