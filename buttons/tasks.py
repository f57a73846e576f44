from celery import shared_task

from buttons import partitions, renewal


@shared_task
def subscriptions_renew() -> dict[str, int]:
    """Beat, daily just after midnight in PAYOUT_TIMEZONE: the first run of a
    month renews; the others find nothing due (a missed day heals)."""
    return renewal.subscriptions_renew()


@shared_task
def flattr_partitions_ensure() -> int:
    """Beat, daily: the month partitions of flattrs from last month to three
    months ahead (docs/operations.md, "Flattrs by month"); idempotent."""
    return partitions.flattr_partitions_ensure()
