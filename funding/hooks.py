"""Funding's half of posting an after-mode run, registered with payouts
(``payouts/funding_hook.py``) from the app config."""

from __future__ import annotations

from django.db.backends.utils import CursorWrapper

from funding.selectors import creators_ready, statement_charges
from funding.services.charges import charges_record, run_funding_start
from payouts.funding_hook import StatementCharge
from payouts.models import PayoutRun


class AfterFundingHalf:
    def post_supporters(self, *, cursor: CursorWrapper, run: PayoutRun, chunk: int) -> None:
        charges_record(cursor=cursor, run=run, chunk=chunk)

    def run_posted(self, *, run: PayoutRun) -> None:
        run_funding_start(run=run)

    def statement_charges(
        self, *, run: PayoutRun, supporter_ids: list[int]
    ) -> dict[int, StatementCharge]:
        return statement_charges(run=run, supporter_ids=supporter_ids)

    def creators_ready(self, *, creator_ids: list[int]) -> set[int]:
        return creators_ready(creator_ids=creator_ids)
