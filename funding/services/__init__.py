"""Pay after the month: the services others call.

- posting (registered with payouts, ``funding/apps.py``):
  ``charges_record``, ``run_funding_start``;
- ``run_settle(run=..., now=None)``: everything due now (``payout_settle``);
- the webhook handler: ``charge_succeeded(payment_intent_id=...)``,
  ``charge_failed(payment_intent_id=..., reason=..., retryable=...)``,
  ``dispute_recorded(dispute=Dispute(...))``, ``charge_refresh(charge_id=...)``;
- the way-to-pay pages: ``charges_method_saved(user=...)``;
- the confirm page: ``charge_confirm_url(charge=..., return_url=...)``.
"""

from funding.services.charges import charge_attempt, charges_record, run_funding_start
from funding.services.disputes import dispute_allocation, dispute_recorded
from funding.services.outcomes import (
    charge_confirm_url,
    charge_failed,
    charge_refresh,
    charge_succeeded,
    charge_update,
    charges_method_saved,
)
from funding.services.settle import SettleError, charges_run, run_settle, runs_settle

__all__ = [
    "SettleError",
    "charge_attempt",
    "charge_confirm_url",
    "charge_failed",
    "charge_refresh",
    "charge_succeeded",
    "charge_update",
    "charges_method_saved",
    "charges_record",
    "charges_run",
    "dispute_allocation",
    "dispute_recorded",
    "run_funding_start",
    "run_settle",
    "runs_settle",
]
