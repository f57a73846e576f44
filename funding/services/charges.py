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
the processor answers the first call's outcome, recorded once.

The webhook handler calls ``charge_succeeded`` / ``charge_failed`` (and
``disputes.dispute_recorded``); the settings page calls
``charges_method_saved`` when a supporter saves a new way to pay.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from funding.models import (
    AttemptStatus,
    Charge,
    ChargeAttempt,
    ChargeStatus,
    RunFunding,
)
from funding.services import accounts
from ledger.models import AccountKind, TransactionKind
from ledger.services import (
    UserLegs,
    account_get,
    transaction_post,
    transaction_post_for_users,
)
from payments.gateways import gateway_get
from payments.gateways.base import (
    ChargeResult,
    GatewayDeclined,
    GatewayError,
    GatewayRateLimited,
    GatewayUnreachable,
)
from payments.gateways.base import ChargeStatus as Outcome
from payments.models import PaymentMethod, PaymentMethodStatus
from payouts.models import PayoutRun
from payouts.rules import wallet_part_sql

logger = logging.getLogger(__name__)

# An attempt recorded this long ago without an outcome is taken over (its
# worker died): called again with the same key, which charges once.
IN_FLIGHT_LEASE = dt.timedelta(seconds=60)
# How often one call is retried after a 429 before the charge is left for
# the next pass.
RATE_LIMIT_TRIES = 8


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
            Charge.objects.filter(run=run, status=ChargeStatus.QUEUED)
            .values_list("chunk", flat=True)
            .distinct()
        ):
            charge_chunk.delay(run.pk, chunk)

    transaction.on_commit(queue)
    return state


# --- Attempts -------------------------------------------------------------


def due_q(now: dt.datetime) -> Q:
    """Charges that may be tried now: never tried, a retry whose time has
    come, or an attempt left in flight past its lease."""
    return (
        Q(status=ChargeStatus.QUEUED)
        | Q(status=ChargeStatus.FAILED, next_attempt_at__lte=now)
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
        charge.attempts += 1
        attempt = ChargeAttempt.objects.create(
            charge=charge,
            number=charge.attempts,
            idempotency_key=_attempt_key(charge, charge.attempts),
            payment_method_id=method.payment_method_id,
            started_at=now,
        )
        charge.status = ChargeStatus.IN_FLIGHT
        charge.save(update_fields=["attempts", "status", "updated_at"])
        return attempt, method


def stripe_slot() -> None:
    """Wait for the shared limiter's permission for one processor request
    (``payments.limiter.stripe_slot``, STRIPE_MAX_REQUESTS_PER_SECOND for
    all workers together). Every call of the processor from funding passes
    here: the one place that paces them."""
    try:
        limiter = importlib.import_module("payments.limiter")
    except ImportError:  # the shared limiter has not landed: unpaced
        return
    limiter.stripe_slot()


def call_paced(call: Any, /, **kwargs: Any) -> Any:
    """``call(**kwargs)`` through the limiter; after a 429 wait its
    ``Retry-After`` and call again with the same arguments (same key)."""
    for tries in range(RATE_LIMIT_TRIES):
        stripe_slot()
        try:
            return call(**kwargs)
        except GatewayRateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else min(2**tries * 0.1, 5)
            time.sleep(wait)
    raise GatewayUnreachable("rate limited too many times; left for the next pass")


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
        try:
            result = call_paced(
                gateway_get(method.gateway).charge_off_session,
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


# --- Outcomes ---------------------------------------------------------------


def _collect(charge: Charge, *, fee_cents: int) -> None:
    """Money in: the supporter's receivable settled from outside, the
    processor's fee paid by the platform. Once per charge (its key)."""
    run = charge.run
    legs = [
        (accounts.outside(), -charge.amount),
        (account_get(kind=AccountKind.RECEIVABLE, user=charge.supporter), charge.amount),
    ]
    if fee_cents:
        legs += [
            (accounts.platform_costs(), -fee_cents),
            (
                account_get(kind=AccountKind.PROCESSOR_FEES),
                fee_cents,
            ),
        ]
    transaction_post(
        kind=TransactionKind.TOPUP,
        idempotency_key=f"charge:{charge.run_id}:{charge.supporter_id}",
        legs=legs,
        memo=f"Charged for {run.label}",
        reference=accounts.reference(run),
    )


def _give_up(charge: Charge) -> None:
    """No more retries: the receivable is written off and the wallet part
    goes back to the wallet; the run expects nothing more from them."""
    run = charge.run
    legs = [(accounts.run_clearing(run), -charge.collected)]
    if charge.amount:
        legs.append(
            (account_get(kind=AccountKind.RECEIVABLE, user=charge.supporter), charge.amount)
        )
    if charge.wallet_part:
        legs.append(
            (account_get(kind=AccountKind.WALLET, user=charge.supporter), charge.wallet_part)
        )
    transaction_post(
        kind=TransactionKind.REVERSAL,
        idempotency_key=f"charge:{charge.run_id}:{charge.supporter_id}:given-up",
        legs=legs,
        memo=f"Charge for {run.label} given up",
        reference=accounts.reference(run),
    )
    charge.status = ChargeStatus.GIVEN_UP
    charge.next_attempt_at = None


def retry_at(charge: Charge, now: dt.datetime) -> dt.datetime | None:
    """When the next retry is due (``FLATTR_CHARGE_RETRY_DAYS`` after the
    first decline), None when the schedule is over."""
    days = list(settings.FLATTR_CHARGE_RETRY_DAYS)
    retries_made = charge.attempts - 1
    if retries_made >= len(days):
        return None
    first = charge.first_failed_at or now
    return first + dt.timedelta(days=days[retries_made])


def _apply(charge: Charge, result: ChargeResult, now: dt.datetime) -> None:
    """A processor answer applied to a locked charge (money moves here)."""
    if result.payment_intent_id:
        charge.payment_intent_id = result.payment_intent_id
    charge.reason = result.reason[:64]
    if result.status == Outcome.SUCCEEDED:
        charge.fee_cents = result.fee_cents or 0
        _collect(charge, fee_cents=charge.fee_cents)
        charge.status = ChargeStatus.SUCCEEDED
        charge.succeeded_at = now
        charge.next_attempt_at = None
        return
    if result.status == Outcome.PROCESSING:
        charge.status = ChargeStatus.PROCESSING
        return
    charge.first_failed_at = charge.first_failed_at or now
    if result.status == Outcome.REQUIRES_ACTION:
        charge.status = ChargeStatus.REQUIRES_ACTION
        return
    if not result.retryable:
        PaymentMethod.objects.filter(
            user_id=charge.supporter_id,
            status=PaymentMethodStatus.ACTIVE,
            payment_method_id=charge.attempts_made.get(number=charge.attempts).payment_method_id,
        ).update(status=PaymentMethodStatus.UNUSABLE, updated_at=now)
        charge.status = ChargeStatus.NEEDS_METHOD
        charge.next_attempt_at = None
        return
    following = retry_at(charge, now)
    if following is None:
        _give_up(charge)
        return
    charge.status = ChargeStatus.FAILED
    charge.next_attempt_at = following


def charge_result_record(*, attempt_id: int, result: ChargeResult) -> bool:
    """Second transaction: the attempt's outcome, once (False when it was
    recorded before: a replay)."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        attempt = ChargeAttempt.objects.select_for_update().get(pk=attempt_id)
        charge = Charge.objects.select_for_update().select_related("run").get(pk=attempt.charge_id)
        if attempt.status == AttemptStatus.DONE or charge.attempts != attempt.number:
            return False
        attempt.status = AttemptStatus.DONE
        attempt.outcome = result.status
        attempt.payment_intent_id = result.payment_intent_id
        attempt.reason = result.reason[:64]
        attempt.finished_at = now
        attempt.save(
            update_fields=["status", "outcome", "payment_intent_id", "reason", "finished_at"]
        )
        _apply(charge, result, now)
        charge.save()
    return True


def _by_payment_intent(payment_intent_id: str) -> ChargeAttempt | None:
    if not payment_intent_id:
        return None
    return (
        ChargeAttempt.objects.filter(payment_intent_id=payment_intent_id)
        .order_by("-number")
        .first()
    )


def charge_update(*, payment_intent_id: str, result: ChargeResult) -> bool:
    """A later answer about a charge that was waiting (SEPA processing,
    the supporter confirmed, a webhook): applied once, only while the charge
    still waits on that payment intent. False for an unknown, replayed,
    late or out-of-order event (logged, nothing moves)."""
    attempt = _by_payment_intent(payment_intent_id)
    if attempt is None:
        logger.info("charge update for unknown payment intent %s ignored", payment_intent_id)
        return False
    now = timezone.now()
    with transaction.atomic(durable=True):
        charge = Charge.objects.select_for_update().select_related("run").get(pk=attempt.charge_id)
        waiting = (ChargeStatus.PROCESSING, ChargeStatus.REQUIRES_ACTION, ChargeStatus.IN_FLIGHT)
        if charge.status not in waiting or charge.attempts != attempt.number:
            logger.info(
                "charge update %s for %s ignored: charge is %s",
                result.status,
                payment_intent_id,
                charge.status,
            )
            return False
        if result.status == charge.status:
            return False
        ChargeAttempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.DONE,
            outcome=result.status,
            reason=result.reason[:64],
            finished_at=now,
        )
        _apply(charge, result, now)
        charge.save()
    return True


def charge_succeeded(*, payment_intent_id: str, fee_cents: int | None = None) -> bool:
    """Webhook ``payment_intent.succeeded`` (or the supporter confirmed)."""
    return charge_update(
        payment_intent_id=payment_intent_id,
        result=ChargeResult(
            status=Outcome.SUCCEEDED, payment_intent_id=payment_intent_id, fee_cents=fee_cents
        ),
    )


def charge_failed(*, payment_intent_id: str, reason: str, retryable: bool) -> bool:
    """Webhook ``payment_intent.payment_failed`` (a SEPA debit failing,
    a confirmation refused). A failure after the charge succeeded (late
    SEPA) is a dispute: ``disputes.dispute_recorded``."""
    return charge_update(
        payment_intent_id=payment_intent_id,
        result=ChargeResult(
            status=Outcome.FAILED,
            payment_intent_id=payment_intent_id,
            reason=reason,
            retryable=retryable,
        ),
    )


def charge_refresh(*, charge_id: int) -> bool:
    """Ask the processor about a waiting charge and apply the answer."""
    charge = Charge.objects.get(pk=charge_id)
    if not charge.payment_intent_id:
        return False
    attempt = charge.attempts_made.get(number=charge.attempts)
    method = PaymentMethod.objects.filter(
        user_id=charge.supporter_id, payment_method_id=attempt.payment_method_id
    ).first()
    if method is None:
        return False
    try:
        result = call_paced(
            gateway_get(method.gateway).charge_refresh, payment_intent_id=charge.payment_intent_id
        )
    except GatewayError as exc:
        logger.warning("refreshing %s failed: %s", charge.payment_intent_id, exc)
        return False
    return charge_update(payment_intent_id=charge.payment_intent_id, result=result)


def charges_method_saved(*, user: User) -> int:
    """A supporter saved a new way to pay: their charges waiting for one are
    due again now (the schedule continues). Returns how many; their tries
    are queued on commit."""
    now = timezone.now()
    with transaction.atomic():
        charges = list(
            Charge.objects.select_for_update()
            .filter(supporter=user, status=ChargeStatus.NEEDS_METHOD)
            .values_list("pk", flat=True)
        )
        Charge.objects.filter(pk__in=charges).update(
            status=ChargeStatus.FAILED, next_attempt_at=now, updated_at=now
        )

        def queue() -> None:
            from funding.tasks import charge_one

            for pk in charges:
                charge_one.delay(pk)

        transaction.on_commit(queue)
    return len(charges)


def charges_expire(*, run: PayoutRun, now: dt.datetime) -> int:
    """Charges still waiting for the supporter (confirmation or a new way to
    pay) once the retry schedule is over are given up."""
    last = max(settings.FLATTR_CHARGE_RETRY_DAYS, default=0)
    expired = 0
    waiting = Charge.objects.filter(
        run=run,
        status__in=(ChargeStatus.REQUIRES_ACTION, ChargeStatus.NEEDS_METHOD),
        first_failed_at__lte=now - dt.timedelta(days=last),
    ).values_list("pk", flat=True)
    for pk in waiting:
        with transaction.atomic(durable=True):
            charge = Charge.objects.select_for_update().select_related("run").get(pk=pk)
            if charge.status not in (ChargeStatus.REQUIRES_ACTION, ChargeStatus.NEEDS_METHOD):
                continue
            _give_up(charge)
            charge.save()
            expired += 1
    return expired


def charge_confirm_url(*, charge: Charge, return_url: str) -> str:
    """Where a supporter confirms a charge waiting for authentication (the
    processor's page, back to ``return_url``); the confirm page redirects
    there. ValueError when the charge is not waiting for them."""
    if charge.status != ChargeStatus.REQUIRES_ACTION or not charge.payment_intent_id:
        raise ValueError("this charge is not waiting for confirmation")
    attempt = charge.attempts_made.get(number=charge.attempts)
    method = PaymentMethod.objects.filter(
        user_id=charge.supporter_id, payment_method_id=attempt.payment_method_id
    ).first()
    gateway = gateway_get(method.gateway if method else "stripe")
    return gateway.charge_confirm_url(
        payment_intent_id=charge.payment_intent_id, return_url=return_url
    )
