"""Celery tasks of the monthly split: thin calls to the services.

Posting fans out: ``payout_post`` enters the first stage and queues its
chunks; each ``payout_post_chunk`` posts one chunk and advances the run when
its stage is complete, which queues the next stage's chunks. Tasks are
acknowledged late (``CELERY_TASK_ACKS_LATE``), and ``payout_sweep`` (beat)
queues any chunk nobody holds, so a killed worker's work is finished by
another one within minutes.
"""

import logging

from celery import shared_task

from payouts import services
from payouts.models import PayoutRun

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def payout_post(run_id: int) -> str:
    """Start (or resume) posting an approved run: its pending chunks are
    queued for the workers. Returns the run's status."""
    services.payout_run_advance(run_id=run_id)
    return PayoutRun.objects.values_list("status", flat=True).get(pk=run_id)


@shared_task(acks_late=True)
def payout_post_chunk(run_id: int, stage: str, number: int) -> bool:
    """Post one chunk (once, whoever else holds it), then advance the run."""
    posted = services.payout_chunk_post(run_id=run_id, stage=stage, number=number)
    if posted:
        services.payout_run_advance(run_id=run_id)
    return posted


@shared_task
def payout_sweep() -> int:
    queued = services.payout_runs_sweep()
    if queued:
        logger.info("payout sweep queued %d chunk(s): %s", len(queued), queued)
    return len(queued)


@shared_task
def payout_compute_due() -> str | None:
    run = services.payout_compute_due()
    if run is not None:
        logger.info("computed the payout run of %s (%s)", run.label, run.status)
        return run.label
    return None


@shared_task(acks_late=True)
def payout_statements_publish(run_id: int) -> int:
    """After posting: statements to every supporter and creator of the run."""
    from payouts import notices

    return notices.run_statements_publish(run_id=run_id)


@shared_task
def wallet_low_remind() -> int:
    """Beat (daily): a few days before month end, the wallet-below-budget notice."""
    from payouts import notices

    return notices.wallet_low_remind()
