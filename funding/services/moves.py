"""A charge waiting for the supporter's confirmation follows their new way
to pay.

A charge in ``requires_action`` waits on a PaymentIntent of the method it
was tried with. When the supporter saves another way to pay (often because
that card wants a confirmation every time), that method is removed and
detached: the old intent could only be confirmed with it, and the month
would end given up. So the charge moves: the old intent is canceled at the
processor first (outside any transaction), and only once it is canceled
does the charge become due again, a new attempt (its own key) with the new
method; by SEPA it first gets its advance notice and waits for its date.
If the supporter confirmed the old intent meanwhile, the processor refuses
the cancel and its state (succeeded, processing) is applied instead: never
two intents that can both take money. A cancel that fails (unreachable) is
tried again by the next settle (``charges_move``).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from funding.models import Charge, ChargeAttempt, ChargeStatus
from funding.services import advance
from funding.services.outcomes import charge_update
from funding.services.pacing import call_paced
from notifications.services import events_publish
from payments.gateways import gateway_get
from payments.gateways.base import GatewayError
from payments.models import PaymentMethod, PaymentMethodStatus
from payouts.models import PayoutRun

logger = logging.getLogger(__name__)

MOVED = "moved_to_new_method"


def _move_due(charge: Charge) -> tuple[ChargeAttempt, PaymentMethod, PaymentMethod] | None:
    """The charge's waiting attempt, the method it used and the supporter's
    active one, when the charge waits for a confirmation on a method that
    is no longer the active one; None otherwise."""
    if charge.status != ChargeStatus.REQUIRES_ACTION or not charge.payment_intent_id:
        return None
    attempt = charge.attempts_made.filter(number=charge.attempts).first()
    active = PaymentMethod.objects.filter(
        user_id=charge.supporter_id, status=PaymentMethodStatus.ACTIVE
    ).first()
    if attempt is None or active is None or active.payment_method_id == attempt.payment_method_id:
        return None
    used = (
        PaymentMethod.objects.filter(
            user_id=charge.supporter_id, payment_method_id=attempt.payment_method_id
        )
        .order_by("-pk")
        .first()
    )
    if used is None:
        return None
    return attempt, used, active


def charge_method_move(*, charge_id: int, now: dt.datetime | None = None) -> bool:
    """Move one charge waiting for a confirmation to the supporter's new way
    to pay (the module's docstring). True when the charge changed."""
    charge = Charge.objects.filter(pk=charge_id).first()
    due = _move_due(charge) if charge is not None else None
    if charge is None or due is None:
        return False
    attempt, used, _active = due
    pi = charge.payment_intent_id
    try:
        state = call_paced(gateway_get(used.gateway).charge_cancel, payment_intent_id=pi)
    except GatewayError as exc:
        logger.warning("charge %s not moved yet, %s not canceled: %s", charge_id, pi, exc)
        return False
    if state is not None:
        # Confirmed (or processing) before the cancel: that is the outcome.
        return charge_update(payment_intent_id=pi, result=state)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        charge = Charge.objects.select_for_update().select_related("run").get(pk=charge_id)
        due = _move_due(charge)
        if due is None or charge.attempts != attempt.number or charge.payment_intent_id != pi:
            return False
        method = due[2]
        ChargeAttempt.objects.filter(pk=attempt.pk).update(reason=MOVED)
        charge.status = ChargeStatus.QUEUED
        charge.reason = MOVED
        charge.next_attempt_at = None
        charge.debit_from = None
        events = []
        if advance.notice_required(method):
            events.append(advance.debit_announce(charge=charge, method=method, now=now))
            charge.status = ChargeStatus.HELD
        charge.save(
            update_fields=[
                "status",
                "reason",
                "next_attempt_at",
                "notices",
                "notice_at",
                "debit_from",
                "updated_at",
            ]
        )
        events_publish(events=events)
        if charge.status == ChargeStatus.QUEUED:

            def queue() -> None:
                from funding.tasks import charge_one

                charge_one.delay(charge_id)

            transaction.on_commit(queue)
    logger.info("charge %s moved from %s to %s", charge_id, pi, method.payment_method_id)
    return True


def charges_move(*, run: PayoutRun, now: dt.datetime) -> int:
    """Settle sweep: the run's charges waiting for a confirmation on a way
    to pay that was replaced, moved (a cancel that failed before is tried
    again). Returns how many moved."""
    waiting = Charge.objects.filter(run=run, status=ChargeStatus.REQUIRES_ACTION)
    return sum(
        charge_method_move(charge_id=pk, now=now) for pk in waiting.values_list("pk", flat=True)
    )
