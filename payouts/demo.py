"""Three months ago: a posted run (the creators have earnings to withdraw).
Two months ago: a draft run, ready to review in the admin. Last month is
left without a run: ``payout_demo`` closes it with this month's flattrs (the
next month in order), so the README's "flattr, then payout_demo" works on a
fresh seed."""

from typing import TextIO

from accounts.models import User
from payouts import services
from payouts.models import PayoutRun
from payouts.services.compute import add_months


def seed(*, users: dict[str, User], stdout: TextIO) -> None:
    last = add_months(services.last_closed_period(), -1)
    earlier = add_months(last, -1)
    if PayoutRun.objects.filter(period__gt=last).exists():
        # Seeded in an earlier month: the runs of the months since are made
        # by payout_demo or month end; never add one before them.
        return
    if not PayoutRun.objects.filter(period=earlier).exists():
        run = services.payout_run_compute(period=earlier)
        services.payout_run_approve(run=run, actor=users["admin"], queue=False)
        run = services.payout_run_post(run_id=run.pk)
        stdout.write(f"Payout run {run.label} posted.")
    if not PayoutRun.objects.filter(period=last).exists():
        run = services.payout_run_compute(period=last)
        stdout.write(f"Draft payout run {run.label} computed: review it in the admin.")
