"""The monthly split. Writes live in compute, post and lifecycle."""

from payouts.services.compute import (
    PayoutError,
    last_closed_period,
    parse_period,
    payout_run_compute,
)
from payouts.services.lifecycle import payout_compute_due, payout_run_approve, payout_run_cancel
from payouts.services.post import (
    payout_chunk_post,
    payout_run_advance,
    payout_run_post,
    payout_runs_sweep,
)

__all__ = [
    "PayoutError",
    "last_closed_period",
    "parse_period",
    "payout_chunk_post",
    "payout_compute_due",
    "payout_run_approve",
    "payout_run_cancel",
    "payout_run_compute",
    "payout_run_advance",
    "payout_run_post",
    "payout_runs_sweep",
]
