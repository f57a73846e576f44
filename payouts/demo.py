"""A draft run of the last closed month, ready to review in the admin."""

from payouts import services
from payouts.models import PayoutRun


def seed(*, users, stdout) -> None:
    period = services.last_closed_period()
    if PayoutRun.objects.filter(period=period).exists():
        return
    run = services.payout_run_compute(period=period)
    stdout.write(f"Draft payout run {run.label} computed: review it in the admin.")
