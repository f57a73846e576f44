from celery import shared_task

from payments import services


@shared_task
def topup_expire_pending() -> int:
    """Hourly: pending top-ups older than a day become expired."""
    return services.topup_expire_pending()
