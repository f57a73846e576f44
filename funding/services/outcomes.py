"""What the processor answers about a charge, applied once: the outcome of
an attempt (``charge_result_record``), a later answer while the charge
waits (``charge_update``: SEPA results, the supporter's confirmation,
webhooks), a new way to pay (``charges_method_saved``), and the end of the
retry schedule (``charges_expire``). Money moves only here: collected
(``charge:<run id>:<supporter id>``) or given up (``...:given-up``)."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from funding.models import AttemptStatus, Charge, ChargeAttempt, ChargeStatus
from funding.services import accounts, advance
from funding.services.pacing import call_paced
from ledger.models import AccountKind, TransactionKind
from ledger.services import account_get, transaction_post
from notifications.services import events_publish
from payments.gateways import gateway_get
from payments.gateways.base import ChargeResult, GatewayError
from payments.gateways.base import ChargeStatus as Outcome
from payments.models import PaymentMethod, PaymentMethodStatus
from payouts.models import PayoutRun

logger = logging.getLogger(__name__)


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


def _fee_post(charge: Charge, *, fee_cents: int) -> None:
    """A fee learnt after the charge was collected (``fee_pending``): the
    platform pays it to the processor, once (its key)."""
    transaction_post(
        kind=TransactionKind.TOPUP,
        idempotency_key=f"charge:{charge.run_id}:{charge.supporter_id}:fee",
        legs=[
            (accounts.platform_costs(), -fee_cents),
            (account_get(kind=AccountKind.PROCESSOR_FEES), fee_cents),
        ],
        memo=f"Processor fee of the charge for {charge.run.label}",
        reference=accounts.reference(charge.run),
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
    # A new state: a settle has not seen it waiting yet.
    charge.waiting_seen = None
    if result.payment_intent_id:
        charge.payment_intent_id = result.payment_intent_id
    charge.reason = result.reason[:64]
    if result.status == Outcome.SUCCEEDED:
        # The fee is booked when known; else later (``charges_fee_fetch``).
        charge.fee_cents = result.fee_cents or 0
        charge.fee_pending = result.fee_cents is None and charge.amount > 0
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
    if result.give_up or not result.retryable:
        PaymentMethod.objects.filter(
            user_id=charge.supporter_id,
            status=PaymentMethodStatus.ACTIVE,
            payment_method_id=charge.attempts_made.get(number=charge.attempts).payment_method_id,
        ).update(status=PaymentMethodStatus.UNUSABLE, updated_at=now)
        if result.give_up:
            # The processor says never again (a blocked payer): no retry.
            _give_up(charge)
            return
        charge.status = ChargeStatus.NEEDS_METHOD
        charge.next_attempt_at = None
        return
    following = retry_at(charge, now)
    if following is None:
        _give_up(charge)
        return
    charge.status = ChargeStatus.FAILED
    charge.next_attempt_at = following
    method = PaymentMethod.objects.filter(
        user_id=charge.supporter_id, status=PaymentMethodStatus.ACTIVE
    ).first()
    if method is not None and advance.notice_required(method):
        # A SEPA retry is a new debit: a new notice names its date (the
        # schedule's day, or later for the notice period), in this transaction.
        events_publish(
            events=[
                advance.debit_announce(charge=charge, method=method, now=now, earliest=following)
            ]
        )
        charge.next_attempt_at = charge.debit_from


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
    # Not durable: the webhook handler calls it inside the event's transaction.
    with transaction.atomic():
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


def charge_fee_record(*, charge_id: int, fee_cents: int) -> bool:
    """The fee of a charge that succeeded before it was known, booked once
    (False when it was booked before, or the charge waits for none)."""
    with transaction.atomic(durable=True):
        charge = Charge.objects.select_for_update().select_related("run").get(pk=charge_id)
        if not charge.fee_pending or charge.status != ChargeStatus.SUCCEEDED:
            return False
        if not 0 <= fee_cents <= charge.amount:
            logger.error("charge %s: implausible fee %s ignored", charge_id, fee_cents)
            return False
        if fee_cents:
            _fee_post(charge, fee_cents=fee_cents)
        charge.fee_cents = fee_cents
        charge.fee_pending = False
        charge.save(update_fields=["fee_cents", "fee_pending", "updated_at"])
    return True


def charges_fee_fetch(*, run: PayoutRun) -> int:
    """Settle sweep: ask the processor the fee of the run's charges that
    succeeded before it was known (a SEPA debit's balance transaction can
    come after the success); book those now known. Returns how many."""
    booked = 0
    pending = Charge.objects.filter(run=run, fee_pending=True, status=ChargeStatus.SUCCEEDED)
    for charge in pending.only("pk", "supporter_id", "payment_intent_id", "attempts"):
        method = _method_of(charge)
        if method is None or not charge.payment_intent_id:
            continue
        try:
            result = call_paced(
                gateway_get(method.gateway).charge_refresh,
                payment_intent_id=charge.payment_intent_id,
            )
        except GatewayError as exc:
            logger.warning("fee of %s not read: %s", charge.payment_intent_id, exc)
            continue
        if result.status == Outcome.SUCCEEDED and result.fee_cents is not None:
            booked += charge_fee_record(charge_id=charge.pk, fee_cents=result.fee_cents)
    return booked


def _method_of(charge: Charge) -> PaymentMethod | None:
    """The way to pay the charge's latest attempt used."""
    attempt = charge.attempts_made.filter(number=charge.attempts).first()
    if attempt is None:
        return None
    return PaymentMethod.objects.filter(
        user_id=charge.supporter_id, payment_method_id=attempt.payment_method_id
    ).first()


def charge_success_fetch(*, payment_intent_id: str, deadline: float) -> ChargeResult | None:
    """For a webhook's ``payment_intent.succeeded`` (outside any
    transaction): the charge's state asked of the processor, fee included
    (a webhook's object is never expanded), when it is one of ours still
    waiting on that intent; None otherwise (nothing to ask). The
    processor's errors pass through (GatewayUnreachable: the webhook is
    answered 503 and delivered again)."""
    attempt = _by_payment_intent(payment_intent_id)
    if attempt is None:
        return None
    charge = Charge.objects.get(pk=attempt.charge_id)
    waiting = (ChargeStatus.PROCESSING, ChargeStatus.REQUIRES_ACTION, ChargeStatus.IN_FLIGHT)
    if charge.status not in waiting or charge.attempts != attempt.number:
        return None
    method = PaymentMethod.objects.filter(
        user_id=charge.supporter_id, payment_method_id=attempt.payment_method_id
    ).first()
    if method is None:
        return None
    # One try, bounded: a 429 or a timeout answers 503 and Stripe
    # delivers the event again later.
    return gateway_get(method.gateway).charge_refresh(
        payment_intent_id=payment_intent_id, deadline=deadline
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
    """A supporter saved a new way to pay. Their charges waiting for one are
    due again now (the schedule continues); their charges not tried yet,
    declined or waiting follow the new way: by SEPA each gets its own advance
    notice and waits for its date (a held debit announced for another mandate
    too); by card nothing is held (a held debit is due now, a declined one
    back on the schedule). Returns how many charges changed; the tries due
    now are queued on commit, and so are the moves of charges waiting for a
    confirmation on the old way (``moves.charge_method_move``)."""
    now = timezone.now()
    with transaction.atomic():
        method = PaymentMethod.objects.filter(
            user_id=user.pk, status=PaymentMethodStatus.ACTIVE
        ).first()
        announce = method is not None and advance.notice_required(method)
        charges = list(
            Charge.objects.select_for_update()
            .select_related("run")
            .filter(
                supporter=user,
                status__in=(
                    ChargeStatus.QUEUED,
                    ChargeStatus.HELD,
                    ChargeStatus.FAILED,
                    ChargeStatus.NEEDS_METHOD,
                ),
            )
            .order_by("pk")
        )
        changed: list[Charge] = []
        events = []
        for charge in charges:
            before = (charge.status, charge.next_attempt_at, charge.debit_from)
            if charge.status == ChargeStatus.NEEDS_METHOD:
                charge.status = ChargeStatus.FAILED
                charge.next_attempt_at = now
            elif charge.status == ChargeStatus.HELD:
                charge.status = ChargeStatus.QUEUED
            elif charge.status == ChargeStatus.FAILED and charge.debit_from is not None:
                # The date was the notice's: back to the schedule's.
                charge.next_attempt_at = min(
                    charge.next_attempt_at or now, retry_at(charge, now) or now
                )
            charge.debit_from = None
            if announce and method is not None:
                failed = charge.status == ChargeStatus.FAILED
                events.append(
                    advance.debit_announce(
                        charge=charge,
                        method=method,
                        now=now,
                        earliest=charge.next_attempt_at if failed else None,
                    )
                )
                if failed:
                    charge.next_attempt_at = charge.debit_from
                else:
                    charge.status = ChargeStatus.HELD
            if (charge.status, charge.next_attempt_at, charge.debit_from) != before:
                charge.updated_at = now
                changed.append(charge)
        # bulk_update, not save(): no charge event (nothing was declined now).
        Charge.objects.bulk_update(
            changed,
            ["status", "next_attempt_at", "notices", "notice_at", "debit_from", "updated_at"],
        )
        events_publish(events=events)
        due = [
            c.pk
            for c in changed
            if c.status == ChargeStatus.QUEUED
            or (c.status == ChargeStatus.FAILED and c.next_attempt_at and c.next_attempt_at <= now)
        ]
        # Waiting for a confirmation on the method just replaced: moved to
        # the new one once the processor canceled the old intent (moves.py).
        moves = list(
            Charge.objects.filter(supporter=user, status=ChargeStatus.REQUIRES_ACTION)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

        def queue() -> None:
            from funding.tasks import charge_move, charge_one

            for pk in due:
                charge_one.delay(pk)
            for pk in moves:
                charge_move.delay(pk)

        transaction.on_commit(queue)
    return len(changed)


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
