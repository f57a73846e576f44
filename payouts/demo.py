"""Two months ago: a posted run (the creators have earnings to withdraw).
Last month: a draft run, ready to review in the admin."""

from typing import TextIO

from accounts.models import User
from payouts import services
from payouts.models import PayoutRun
from payouts.services.compute import add_months


def seed(*, users: dict[str, User], stdout: TextIO) -> None:
    last = services.last_closed_period()
    earlier = add_months(last, -1)
    if not PayoutRun.objects.filter(period=earlier).exists():
        run = services.payout_run_compute(period=earlier)
        services.payout_run_approve(run=run, actor=users["admin"], queue=False)
        run = services.payout_run_post(run_id=run.pk)
        stdout.write(f"Payout run {run.label} posted.")
    if not PayoutRun.objects.filter(period=last).exists():
        run = services.payout_run_compute(period=last)
        stdout.write(f"Draft payout run {run.label} computed: review it in the admin.")
