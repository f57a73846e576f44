from celery import shared_task

from buttons import renewal


@shared_task
def subscriptions_renew() -> dict[str, int]:
    """Beat, daily just after midnight in PAYOUT_TIMEZONE: the first run of a
    month renews; the others find nothing due (a missed day heals)."""
    return renewal.subscriptions_renew()
