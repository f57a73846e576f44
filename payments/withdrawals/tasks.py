from celery import shared_task

from payments.gateways import GatewayUnreachable
from payments.withdrawals import services


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=30)
def withdrawal_pay(self, withdrawal_id: int) -> str:
    try:
        return services.withdrawal_pay(withdrawal_id=withdrawal_id).status
    except GatewayUnreachable as exc:
        if self.request.retries >= self.max_retries:
            return services.withdrawal_fail(
                withdrawal_id=withdrawal_id, reason="the payment processor could not be reached"
            ).status
        raise self.retry(exc=exc)


@shared_task
def withdrawal_sweep_stuck() -> list[int]:
    """Every few minutes: queue again withdrawals stuck in processing."""
    return services.withdrawal_sweep_stuck()
