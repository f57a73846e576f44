"""Celery tasks of pay after the month: thin calls to the services, on the
default (money) queue. ``charge_chunk`` tries the due charges of one
posting chunk; several workers share a chunk safely (each charge is claimed
with ``SKIP LOCKED``). ``funding_sweep`` (beat) settles every open
after-mode run: attempts a dead worker left in flight, retries whose time
has come, SEPA results, transfers and recoveries."""

import logging

from celery import shared_task
from django.utils import timezone

from funding.models import Charge
from funding.services import charge_attempt, charges_run, runs_settle
from payouts.models import PayoutRun

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def charge_chunk(run_id: int, chunk: int) -> int:
    run = PayoutRun.objects.get(pk=run_id)
    return charges_run(run=run, now=timezone.now(), chunk=chunk)


@shared_task(acks_late=True)
def charge_one(charge_id: int) -> bool:
    if not Charge.objects.filter(pk=charge_id).exists():
        return False
    return charge_attempt(charge_id=charge_id)


@shared_task(acks_late=True)
def charge_move(charge_id: int) -> bool:
    """A charge waiting for a confirmation follows the supporter's new way
    to pay (its old payment intent canceled first, outside any transaction)."""
    from funding.services.moves import charge_method_move

    return charge_method_move(charge_id=charge_id)


@shared_task
def funding_sweep() -> list[str]:
    settled = runs_settle()
    if settled:
        logger.info("funding sweep settled %s", settled)
    return settled


@shared_task(acks_late=True)
def recoveries_run(run_id: int) -> int:
    """Reverse the transfers a dispute planned to take back (after the
    dispute's transaction committed: never a processor call inside it)."""
    from funding.services.transfers import recoveries_run as run_recoveries

    return run_recoveries(run=PayoutRun.objects.get(pk=run_id))
