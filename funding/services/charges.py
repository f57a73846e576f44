"""Charging the supporters of an approved after-mode run, exactly once.

At posting (``charges_record``, in each supporters' chunk transaction) a
``Charge`` per supporter with shares on claimed things is recorded and the
books say what they owe: wallet money left from wallet mode is spent first
(``rules.wallet_part_sql``), the rest is a receivable; both against the
run's clearing account.

Each charge is then tried by ``charge_attempt``: in a first short
transaction the charge is claimed (``SKIP LOCKED``: two workers never take
the same one) and a ``ChargeAttempt`` row written with its idempotency key
(``charge:<run id>:<supporter id>``, then ``:<n>`` for retry n); the
processor is called outside any transaction; ``charge_result_record``
records the answer in a second one, and only there does money move. A
worker killed between the two leaves the charge ``in_flight``: any later
attempt (the sweeper, ``payout_settle``) calls again with the same key, so
the processor answers the first call's outcome, recorded once. The
processor keeps a key only a day or so: an attempt first sent more than
``KEY_SAFE_AGE`` ago is first looked for (``charge_find``, by the key in
its metadata) and the charge found is adopted; only when there is none is
it sent again.

A SEPA debit is not tried before the date its advance notice named
(``advance.py``): a charge ``held`` for it is due from ``debit_from``, and
a charge about to be debited by SEPA without a notice for that attempt gets
one and waits.

Outcomes are applied by ``outcomes.py`` (webhooks, SEPA results, a new
way to pay, the end of the retry schedule).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, QuerySet
from django.utils import timezone

from funding.models import (
    Charge,
    ChargeAttempt,
    ChargeStatus,
    RunFunding,
)
from funding.services import accounts, advance
from funding.services.outcomes import charge_result_record
from funding.services.pacing import call_paced
from ledger.models import AccountKind, TransactionKind
from ledger.services import (
    UserLegs,
    transaction_post_for_users,
)
from notifications.services import events_publish
from payments.gateways import gateway_get
from payments.gateways.base import (
    ChargeResult,
    GatewayDeclined,
    GatewayError,
)
from payments.gateways.base import ChargeStatus as Outcome
from payments.models import PaymentMethod, PaymentMethodStatus
from payouts.models import PayoutRun
from payouts.rules import wallet_part_sql

logger = logging.getLogger(__name__)

# An attempt recorded this long ago without an outcome is taken over (its
# worker died): called again with the same key, which charges once.
IN_FLIGHT_LEASE = dt.timedelta(seconds=60)
# Stripe keeps an idempotency key's first answer at least 24 hours, then may
# prune it (a reuse makes a new object). An attempt first sent longer ago
# than this is looked for at the processor before it is sent again; the
# margin covers clocks and the time the first call itself took.
KEY_SAFE_AGE = dt.timedelta(hours=20)
# The lookup reaches this far before the first attempt: our clock and the
# processor's may disagree.
LOOKUP_MARGIN = dt.timedelta(hours=1)


# --- Recording at posting ---------------------------------------------------


def charges_record(*, cursor: CursorWrapper, run: PayoutRun, chunk: int) -> None:
    """One chunk of an after-mode run's supporters: a charge for each with
    shares on claimed things (their wallet, locked, pays first), then two
    ledger transactions: wallets -wallet part and receivables -amount,
    against the run's clearing account. Inside the chunk's transaction;
    posting the chunk again writes nothing (unique charges, ledger keys)."""
    params: dict[str, Any] = {"run": run.pk, "chunk": chunk}
    claimed = "(sl.taken - sl.pledged - sl.charity)"
    cursor.execute(
        """
        SELECT w.id FROM ledger_account w
          JOIN payouts_supporterline sl ON sl.supporter_id = w.user_id
         WHERE w.kind = 'wallet' AND w.balance > 0
           AND sl.run_id = %(run)s AND sl.chunk = %(chunk)s
         ORDER BY w.id FOR UPDATE OF w
        """,
        params,
    )
    part = wallet_part_sql(claimed=claimed, balance="coalesce(w.balance, 0)")
    cursor.execute(
        f"""
        INSERT INTO funding_charge
            (run_id, supporter_id, chunk, amount, wallet_part, status, attempts,
             payment_intent_id, reason, fee_cents, succeeded_at, created_at, updated_at)
        SELECT %(run)s, supporter_id, %(chunk)s, claimed - part, part,
               CASE WHEN claimed = part THEN 'succeeded' ELSE 'queued' END, 0, '', '', 0,
               CASE WHEN claimed = part THEN now() END, now(), now()
          FROM (SELECT sl.supporter_id, {claimed} AS claimed, {part} AS part
                  FROM payouts_supporterline sl
                  LEFT JOIN ledger_account w ON w.user_id = sl.supporter_id AND w.kind = 'wallet'
                 WHERE sl.run_id = %(run)s AND sl.chunk = %(chunk)s) c
         WHERE claimed > 0
        ON CONFLICT (run_id, supporter_id) DO NOTHING
        """,  # noqa: S608 - only our own SQL fragments are interpolated
        params,
    )
    clearing = accounts.run_clearing(run).pk
    charges = Charge.objects.filter(run=run, chunk=chunk)
    from django.db.models import F

    for kind, key, rows in (
        (
            AccountKind.WALLET,
            "wallets",
            charges.filter(wallet_part__gt=0).values_list("supporter_id", F("wallet_part") * -1),
        ),
        (
            AccountKind.RECEIVABLE,
            "receivables",
            charges.filter(amount__gt=0).values_list("supporter_id", F("amount") * -1),
        ),
    ):
        transaction_post_for_users(
            kind=TransactionKind.PAYOUT,
            idempotency_key=f"payout:{run.label}:{key}:{chunk}",
            memo=f"Payout {run.label}: owed after the month",
            reference=accounts.reference(run),
            user_legs=UserLegs(kind=kind, rows=rows),
            balance_account_id=clearing,
        )


def run_funding_start(*, run: PayoutRun) -> RunFunding:
    """Once the run is posted (inside that transaction): its funding state,
    and its charging queued for the workers on commit."""
    approved = run.approved_at or timezone.now()
    state, _created = RunFunding.objects.get_or_create(
        run=run,
        defaults={
            "transfers_from": approved + dt.timedelta(days=settings.FLATTR_TRANSFER_AFTER_DAYS)
        },
    )

    def queue() -> None:
        from funding.tasks import charge_chunk

        for chunk in (
            Charge.objects.filter(run=run, status__in=(ChargeStatus.QUEUED, ChargeStatus.HELD))
            .values_list("chunk", flat=True)
            .distinct()
        ):
            charge_chunk.delay(run.pk, chunk)

    transaction.on_commit(queue)
    return state


# --- Attempts -------------------------------------------------------------


def due_q(now: dt.datetime) -> Q:
    """Charges that may be tried now: never tried, a SEPA debit whose
    announced date has come, a retry whose time has come (and, by SEPA, its
    announced date), or an attempt left in flight past its lease."""
    announced = Q(debit_from__isnull=True) | Q(debit_from__lte=now)
    return (
        Q(status=ChargeStatus.QUEUED)
        | Q(status=ChargeStatus.HELD, debit_from__lte=now)
        | (Q(status=ChargeStatus.FAILED, next_attempt_at__lte=now) & announced)
        | Q(status=ChargeStatus.IN_FLIGHT, updated_at__lte=now - IN_FLIGHT_LEASE)
    )


def charges_due(*, run: PayoutRun, now: dt.datetime, chunk: int | None = None) -> QuerySet[Charge]:
    charges = Charge.objects.filter(run=run).filter(due_q(now))
    if chunk is not None:
        charges = charges.filter(chunk=chunk)
    return charges.order_by("pk")


def _attempt_key(charge: Charge, number: int) -> str:
    key = f"charge:{charge.run_id}:{charge.supporter_id}"
    return key if number == 1 else f"{key}:{number}"


def _claim(
    *, charge_id: int, now: dt.datetime
) -> tuple[ChargeAttempt | None, PaymentMethod | None]:
    """First transaction: take the charge if it is due and nobody holds it,
    and record the attempt (or take over the one left in flight)."""
    with transaction.atomic(durable=True):
        charge = (
            Charge.objects.select_for_update(skip_locked=True)
            .filter(pk=charge_id)
            .filter(due_q(now))
            .first()
        )
        if charge is None:
            return None, None
        if charge.status == ChargeStatus.IN_FLIGHT:
            attempt = charge.attempts_made.get(number=charge.attempts)
            charge.save(update_fields=["updated_at"])  # a new lease
            method = (
                PaymentMethod.objects.filter(
                    user_id=charge.supporter_id, payment_method_id=attempt.payment_method_id
                )
                .order_by("-pk")
                .first()
            )
            return attempt, method
        method = PaymentMethod.objects.filter(
            user_id=charge.supporter_id, status=PaymentMethodStatus.ACTIVE
        ).first()
        if method is None:
            charge.status = ChargeStatus.NEEDS_METHOD
            charge.reason = "no_payment_method"
            charge.first_failed_at = charge.first_failed_at or now
            charge.save(update_fields=["status", "reason", "first_failed_at", "updated_at"])
            return None, None
        if charge.debit_from is None and advance.notice_required(method):
            # A SEPA debit nobody announced for this attempt (a mandate saved
            # while the charge was queued, a notice skipped at posting): the
            # notice goes out now and the attempt waits for its date.
            failed = charge.status == ChargeStatus.FAILED
            event = advance.debit_announce(
                charge=charge,
                method=method,
                now=now,
                earliest=charge.next_attempt_at if failed else None,
            )
            if failed:
                charge.next_attempt_at = charge.debit_from
            else:
                charge.status = ChargeStatus.HELD
            # An update, not save(): no charge event (the declined e-mail of
            # this attempt, if any, went out with the decline).
            Charge.objects.filter(pk=charge.pk).update(
                status=charge.status,
                next_attempt_at=charge.next_attempt_at,
                notices=charge.notices,
                notice_at=charge.notice_at,
                debit_from=charge.debit_from,
                updated_at=now,
            )
            events_publish(events=[event])
            return None, None
        charge.attempts += 1
        attempt = ChargeAttempt.objects.create(
            charge=charge,
            number=charge.attempts,
            idempotency_key=_attempt_key(charge, charge.attempts),
            payment_method_id=method.payment_method_id,
            started_at=now,
        )
        charge.status = ChargeStatus.IN_FLIGHT
        # This attempt uses the notice that announced it; a retry needs its own.
        charge.debit_from = None
        charge.save(update_fields=["attempts", "status", "debit_from", "updated_at"])
        return attempt, method


def charge_attempt(*, charge_id: int, now: dt.datetime | None = None) -> bool:
    """Try one charge if it is due; True when an outcome was recorded."""
    now = now or timezone.now()
    attempt, method = _claim(charge_id=charge_id, now=now)
    if attempt is None:
        return False
    charge = attempt.charge
    run = PayoutRun.objects.get(pk=charge.run_id)
    if method is None:
        result = ChargeResult(
            status=Outcome.FAILED, payment_intent_id="", reason="payment_method_removed"
        )
    else:
        gateway = gateway_get(method.gateway)
        found = None
        if attempt.started_at <= now - KEY_SAFE_AGE:
            # Sent first so long ago that the processor may have forgotten
            # the key: what that call made, if anything, is looked for
            # before the key is used again (it could make a second charge).
            try:
                found = call_paced(
                    gateway.charge_find,
                    method=method,
                    idempotency_key=attempt.idempotency_key,
                    amount_cents=charge.amount,
                    since=attempt.started_at - LOOKUP_MARGIN,
                )
            except GatewayError as exc:
                # Never sent blind: the lookup is tried again later.
                logger.warning("charge %s left in flight: %s", attempt.idempotency_key, exc)
                return False
            logger.warning(
                "charge %s in flight since %s: %s",
                attempt.idempotency_key,
                attempt.started_at.isoformat(),
                f"found {found.payment_intent_id}" if found else "not made, sent again",
            )
        try:
            result = found or call_paced(
                gateway.charge_off_session,
                method=method,
                amount_cents=charge.amount,
                currency=settings.CURRENCY.lower(),
                idempotency_key=attempt.idempotency_key,
                transfer_group=f"payout-{run.label}",
                statement_descriptor=f"Flattr {run.label}",
                metadata={"run": run.label, "supporter": str(charge.supporter_id)},
            )
        except GatewayDeclined as exc:
            result = ChargeResult(status=Outcome.FAILED, payment_intent_id="", reason=str(exc)[:64])
        except GatewayError as exc:
            # Unreachable, rate limited, unavailable: the attempt stays in
            # flight and is called again with the same key later.
            logger.warning("charge %s left in flight: %s", attempt.idempotency_key, exc)
            return False
    charge_result_record(attempt_id=attempt.pk, result=result)
    return True
