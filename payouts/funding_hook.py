"""How an after-mode run (``PayoutRun.funding == "after"``) is posted.

Payouts computes and posts every run, but charging belongs to ``funding``,
which sits above payouts in the import layers. Funding registers its half
here from its app config (as payouts registers ``period_is_final`` with
buttons): the supporters' stage of an after-mode run calls
``post_supporters`` for each chunk inside the chunk's database transaction
(charges recorded, receivables posted), and ``run_posted`` once the run is
posted, inside that transaction (charging queued on commit). The
statements of a posted after-mode run (``payouts.notices``) ask it what
each supporter is charged and by what means (``statement_charges``) and
which creators can be paid by transfer (``creators_ready``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.db.backends.utils import CursorWrapper

from payouts.models import PayoutRun


@dataclass(frozen=True)
class StatementCharge:
    """What a supporter's after-mode statement says of their charge."""

    charge_cents: int  # cents charged to the way to pay
    wallet_cents: int  # cents paid from money left in the wallet first
    # The way to pay the charge goes to: ``{"kind", "brand", "last4"}``;
    # None when none is saved or the saved one needs replacing.
    method: dict[str, str] | None
    method_needs_replacing: bool = False


class AfterFunding(Protocol):
    def post_supporters(self, *, cursor: CursorWrapper, run: PayoutRun, chunk: int) -> None: ...

    def run_posted(self, *, run: PayoutRun) -> None: ...

    def statement_charges(
        self, *, run: PayoutRun, supporter_ids: list[int]
    ) -> dict[int, StatementCharge]: ...

    def creators_ready(self, *, creator_ids: list[int]) -> set[int]: ...


_registered: list[AfterFunding] = []


def after_funding_register(funding: AfterFunding) -> None:
    _registered[:] = [funding]


def after_funding() -> AfterFunding:
    """The registered after-mode half; an after-mode run cannot be posted
    without it (the ``funding`` app not installed)."""
    if not _registered:
        from payouts.services.compute import PayoutError

        raise PayoutError("after-mode runs need the funding app (INSTALLED_APPS)")
    return _registered[0]
