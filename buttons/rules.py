"""Which flattrs count in the monthly split, and when a month's flattrs are
final: buttons' side of the money rules, written once.

A flattr counts iff its thing is visible (neither ``hidden`` nor
``removed``) and the supporter does not own it (an unclaimed thing, with no
owner, counts). The rule lives here, below payouts, because buttons'
own pages need it (``selectors.counted_flattrs``) and payouts imports
buttons, never the reverse: ``payouts/rules.py`` re-exports it beside the
other money rules. Its forms: Python (``flattr_counts``), the ORM
(``counted``) and SQL fragments (``counts_sql`` and its two halves), tested
against each other on the real database (``tests/payouts/test_rules.py``).

A month's flattrs become final once a payout decided on them: payouts
registers that check here (``period_final_check_register`` in its app
config), so buttons refuses to take a flattr back without knowing payouts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet

PeriodCheck = Callable[[dt.date], bool]
_period_final_checks: list[PeriodCheck] = []


def thing_visible(*, hidden: bool, removed: bool) -> bool:
    """A thing whose flattrs may count: neither hidden nor removed."""
    return not hidden and not removed


def flattr_counts(*, supporter_id: int, owner_id: int | None, hidden: bool, removed: bool) -> bool:
    """Whether a flattr of ``supporter_id`` on a thing owned by ``owner_id``
    (None: unclaimed) counts in the month's split."""
    return thing_visible(hidden=hidden, removed=removed) and owner_id != supporter_id


def visible_sql(*, hidden: str, removed: str) -> str:
    """``thing_visible`` as a SQL condition over boolean columns."""
    return f"NOT {hidden} AND NOT {removed}"


def not_own_sql(*, supporter: str, owner: str) -> str:
    """The supporter is not the thing's owner (an unclaimed thing counts)."""
    return f"({owner} IS NULL OR {owner} <> {supporter})"


def counts_sql(*, supporter: str, owner: str, hidden: str, removed: str) -> str:
    """``flattr_counts`` as a SQL condition."""
    return (
        f"({visible_sql(hidden=hidden, removed=removed)}"
        f" AND {not_own_sql(supporter=supporter, owner=owner)})"
    )


def counted(flattrs: QuerySet, *, supporter: object) -> QuerySet:
    """``flattr_counts`` as an ORM filter over ``supporter``'s flattrs."""
    return (
        flattrs.exclude(thing__owner=supporter)
        .exclude(thing__hidden=True)
        .exclude(thing__removed=True)
    )


def flattr_needs_wallet() -> bool:
    """Whether a flattr needs wallet money (and no unpaid debt). In wallet
    mode it does; after the month (``FLATTR_FUNDING=after``) it never does:
    a flattr without a saved way to pay is a pledge until one is saved, and
    what a supporter owes for a month being charged is no debt that stops
    them (docs/payments.md, "Funding modes")."""
    return settings.FLATTR_FUNDING != "after"


def flattr_means_ok(*, owed: int, balance: int) -> bool:
    """In wallet mode, whether a supporter who owes ``owed`` cents (a refund
    or dispute) with ``balance`` cents in the wallet may flattr: no debt and
    some money. Its SQL form is ``flattr_means_ok_sql`` (tested equal)."""
    return owed <= 0 and balance > 0


def flattr_means_ok_sql(*, owed: str, balance: str) -> str:
    """``flattr_means_ok`` as a SQL condition over two integer columns."""
    return f"({owed} <= 0 AND {balance} > 0)"


def period_final_check_register(check: PeriodCheck) -> None:
    """Add a check that says a month's flattrs are final (an app above
    buttons registers it once, from its ``AppConfig.ready``)."""
    if check not in _period_final_checks:
        _period_final_checks.append(check)


def period_is_final(period: dt.date) -> bool:
    """Whether some registered decision (a computed payout run) already
    rests on ``period``'s flattrs."""
    return any(check(period) for check in _period_final_checks)
