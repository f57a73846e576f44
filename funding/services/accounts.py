"""The ledger accounts and keys of pay after the month (docs/payouts.md,
"Pay after the month: the books")."""

from __future__ import annotations

from ledger.models import Account, AccountKind
from ledger.services import Reference, platform_account
from payouts.models import PayoutRun

# The platform pays the processor's fee on a charge (creators get
# ``G - fee(G)`` of what was collected): an ``outside`` account, as staff
# corrections are, may go negative.
PLATFORM_COSTS_REF = "platform-costs"


def run_clearing(run: PayoutRun) -> Account:
    """The run's clearing account: what its supporters owe (posted at
    approval) and what was collected, until creators are credited; zero
    once every charge is final and credited."""
    return platform_account(kind=AccountKind.PAYOUT_CLEARING, ref=f"after:{run.pk}")


def outside() -> Account:
    return platform_account(kind=AccountKind.OUTSIDE)


def platform_costs() -> Account:
    return platform_account(kind=AccountKind.OUTSIDE, ref=PLATFORM_COSTS_REF)


def reference(run: PayoutRun) -> Reference:
    return Reference.of(run, period=run.period)
