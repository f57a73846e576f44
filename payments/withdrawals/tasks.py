import logging

from celery import shared_task

from payments.gateways import GatewayRateLimited, GatewayUnreachable
from payments.withdrawals import services
from payments.withdrawals.models import WithdrawalStatus

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=30)
def withdrawal_pay(self, withdrawal_id: int) -> str:
    try:
        return services.withdrawal_pay(withdrawal_id=withdrawal_id).status
    except GatewayUnreachable as exc:
        if self.request.retries >= self.max_retries:
            # Not failed: an unreachable Stripe may have made the transfer
            # (or refund) and lost only its answer, so giving the money back
            # could pay twice. It stays processing; withdrawal_sweep_stuck
            # queues it again with the same idempotency key.
            logger.warning(
                "withdrawal %s: Stripe unreachable after %s tries, left for the sweep: %s",
                withdrawal_id,
                self.request.retries + 1,
                exc,
            )
            return WithdrawalStatus.PROCESSING
        countdown = exc.retry_after if isinstance(exc, GatewayRateLimited) else None
        raise self.retry(exc=exc, countdown=countdown)


@shared_task
def withdrawal_sweep_stuck() -> list[int]:
    """Every few minutes: queue again withdrawals stuck in processing."""
    return services.withdrawal_sweep_stuck()
