import logging

from celery import shared_task

from payouts import services

logger = logging.getLogger(__name__)


# Never retries itself: acks_late redelivers it after a crash, and running it
# again finishes the work instead of repeating it.
@shared_task(acks_late=True)
def payout_post(run_id: int) -> str:
    """Post an approved run; a redelivery after a crash finishes the work."""
    run = services.payout_run_post(run_id=run_id)
    return run.status


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
