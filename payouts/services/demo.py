"""Trying a payout without waiting for a month to end (DEBUG only).

``payout_demo_close`` takes this month's flattrs, moves them into the most
recent past month that has no run yet (the "demo month"), and computes that
month's run, which can then be reviewed and approved in the admin like any
other. Flattrs record attention, not money, so moving them changes no
balance; the ledger is only touched when the run is approved.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from buttons.models import Flattr
from payouts.models import PayoutRun
from payouts.services.compute import PayoutError, add_months, current_period, payout_run_compute


def demo_period() -> dt.date:
    """The most recent past month without a run (searching two years back)."""
    month = add_months(current_period(), -1)
    for _ in range(24):
        if not PayoutRun.objects.filter(period=month).exists():
            return month
        month = add_months(month, -1)
    raise PayoutError("every month of the last two years has a run; nothing to close")


def payout_demo_close(*, actor=None) -> PayoutRun:
    """Close a demo month with this month's flattrs and compute its run."""
    if not settings.DEBUG:
        raise PayoutError("payout_demo only runs with DEBUG on: it rewrites flattr dates")
    period = demo_period()
    now_period = current_period()
    with transaction.atomic(durable=True):
        flattrs = list(Flattr.objects.select_for_update().filter(period=now_period))
        if not flattrs:
            raise PayoutError("nobody flattred anything this month: flattr a few things first")
        for flattr in flattrs:
            # Same day and time, in the demo month (days past its end are
            # clamped to its 28th).
            day = min(flattr.created_at.day, 28)
            flattr.created_at = flattr.created_at.replace(
                year=period.year, month=period.month, day=day
            )
            flattr.period = period
        Flattr.objects.bulk_update(flattrs, ["period", "created_at"])
    from buttons import counters

    for thing_id in {f.thing_id for f in flattrs}:
        counters.forget_counts(thing_id=thing_id, period=now_period)
    return payout_run_compute(period=period, actor=actor)
