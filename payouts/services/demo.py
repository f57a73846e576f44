"""Trying a payout without waiting for a month to end (DEBUG only).

``payout_demo_close`` takes this month's flattrs, moves them into the next
month in order (the month after the latest run; the last closed month when
there is no run yet: the "demo month"), and computes that month's run, which can then be reviewed and approved in the admin like any
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
    """The month after the latest run (months close in order, never one in
    the past before a run already made), or the last closed month when there
    is no run yet. PayoutError when that month is not over yet."""
    latest = PayoutRun.objects.order_by("-period").values_list("period", flat=True).first()
    if latest is None:
        return add_months(current_period(), -1)
    month = add_months(latest, 1)
    if month >= current_period():
        raise PayoutError(
            f"no closed month is left for a demo: the latest run is {latest:%Y-%m} and the "
            f"next month in order, {month:%Y-%m}, is not over yet"
        )
    return month


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
        # One flattr per thing per month: a flattr whose supporter already
        # flattred that thing in the demo month stays in this month.
        taken = set(Flattr.objects.filter(period=period).values_list("supporter_id", "thing_id"))
        flattrs = [f for f in flattrs if (f.supporter_id, f.thing_id) not in taken]
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
