"""The money rules of a month, each written once.

docs/payouts.md, "Rules". Every rule has a Python form (one person's
preview, the dashboard, the statements) and, where the database applies it
to a whole month, a SQL form built here from the same definition; the two
are tested against each other and against a plain reference
(``tests/payouts/test_rules.py``). Nothing else in the code base writes
these formulas:

- **taken**: what the month takes from a supporter's wallet,
  ``min(budget, balance)`` (never below zero), nothing from someone who
  owes (a ``receivable`` below zero). Previews pass the balance less what
  computed but unposted runs already reserve. After the month
  (``FLATTR_FUNDING=after``) it is the budget, whatever the wallet holds;
- **wallet part** (after mode): of what is charged (the shares on claimed
  things), money left in a wallet from before a switch to after mode is
  spent first, ``min(claimed, balance)``; the card is charged the rest;
- **counted**: which flattrs count: on visible things, not one's own
  (``buttons.rules``, re-exported here: buttons needs it too and must not
  import payouts);
- **share**: a supporter's amount split equally among their ``n`` counted
  flattrs, exact to the cent: each gets ``amount // n`` and the
  ``amount % n`` earliest (rank 1 is the earliest) one cent more;
- **fee**: ``FLATTR_FEE_PERCENT`` of each creator's monthly gross, rounded
  half up to the cent; **net**: gross less fee;
- **onward**: a creator's onward share of ``percent`` gets
  ``net * percent // 100`` of the creator's net for the run (floor; the
  leftover cents stay with the creator), with no second fee and never
  passed on again (docs/payouts.md, "Onward shares");
- **fee parts**: how the statements attribute a creator's monthly fee to
  the shares that made the gross, so that what supporters are told went to
  the platform adds up to the fee the books charged.
"""

from __future__ import annotations

from collections import defaultdict

from buttons.rules import (
    counted,
    counts_sql,
    flattr_counts,
    not_own_sql,
    thing_visible,
    visible_sql,
)

__all__ = [
    "FeeParts",
    "counted",
    "counts_sql",
    "fee_cents",
    "fee_sql",
    "flattr_counts",
    "net_cents",
    "net_sql",
    "not_own_sql",
    "onward_cents",
    "onward_sql",
    "onward_split",
    "share_cents",
    "share_sql",
    "shares_cents",
    "taken_cents",
    "taken_sql",
    "wallet_part_cents",
    "wallet_part_sql",
    "thing_visible",
    "visible_sql",
]


# Taken ------------------------------------------------------------------


def taken_cents(*, budget: int, balance: int, owes: bool = False, after: bool = False) -> int:
    """What the month takes from a supporter with this ``budget`` and wallet
    ``balance`` (cents): the smaller, never below zero; nothing if they owe.
    ``after`` (charged after the month): the budget, no wallet minimum."""
    if after:
        return max(0, budget)
    if owes:
        return 0
    return max(0, min(budget, balance))


def taken_sql(*, budget: str, balance: str, after: bool = False) -> str:
    """``taken_cents`` for someone who does not owe, as a SQL expression
    (the run leaves out those who owe before taking anything)."""
    if after:
        return f"greatest({budget}, 0)"
    return f"least({budget}, greatest({balance}, 0))"


def wallet_part_cents(*, claimed: int, balance: int) -> int:
    """After mode: the cents of ``claimed`` (a supporter's shares on claimed
    things) paid from what is left in their wallet; the rest is charged."""
    return max(0, min(claimed, balance))


def wallet_part_sql(*, claimed: str, balance: str) -> str:
    """``wallet_part_cents`` as a SQL expression."""
    return f"greatest(least({claimed}, {balance}), 0)"


# Share ------------------------------------------------------------------


def share_cents(*, amount: int, n: int, rank: int) -> int:
    """The share of the flattr of ``rank`` (1 = earliest) among ``n``."""
    return amount // n + (1 if rank <= amount % n else 0)


def shares_cents(*, amount: int, n: int) -> list[int]:
    """Every share, earliest flattr first; they add up to ``amount``."""
    shares = [share_cents(amount=amount, n=n, rank=rank) for rank in range(1, n + 1)]
    assert sum(shares) == amount, "the shares must add up to the amount"
    return shares


def share_sql(*, amount: str, n: str, rank: str) -> str:
    """``share_cents`` as a SQL expression over non-negative integer
    columns (``%%`` is psycopg's escaped modulo)."""
    return f"({amount}) / ({n}) + CASE WHEN ({rank}) <= ({amount}) %% ({n}) THEN 1 ELSE 0 END"


# Fee and net ------------------------------------------------------------


def fee_cents(*, gross: int, percent: int) -> int:
    """``percent`` of ``gross`` cents, rounded half up to the cent."""
    return (gross * percent + 50) // 100


def fee_sql(*, gross: str, percent: str = "%(fee_percent)s") -> str:
    """``fee_cents`` as a SQL expression (integer division of non-negative
    numbers truncates like Python's floor division)."""
    return f"(({gross}) * {percent} + 50) / 100"


def net_cents(*, gross: int, percent: int) -> int:
    """What the creator keeps of ``gross``."""
    return gross - fee_cents(gross=gross, percent=percent)


def net_sql(*, gross: str, fee: str) -> str:
    """``net_cents`` as a SQL expression, from the gross and its fee."""
    return f"({gross}) - ({fee})"


# Onward shares -----------------------------------------------------------

ONWARD_MAX_ENTRIES = 20


def onward_cents(*, net: int, percent: int) -> int:
    """An onward share of ``percent`` (1..100) of a creator's ``net``."""
    return net * percent // 100


def onward_sql(*, net: str, percent: str) -> str:
    """``onward_cents`` as a SQL expression (non-negative integers:
    integer division truncates like Python's floor division)."""
    return f"({net}) * ({percent}) / 100"


def onward_split(*, net: int, percents: list[int]) -> tuple[list[int], int]:
    """Each share of a list whose percents add up to at most 100, and what
    the creator keeps: ``net`` less their sum (never below zero)."""
    assert sum(percents) <= 100, "a list passes on at most 100 %"
    shares = [onward_cents(net=net, percent=p) for p in percents]
    return shares, net - sum(shares)


class FeeParts:
    """Each share's part of its creator's monthly fee, for the statements.

    The fee is charged on a creator's monthly gross, not share by share, so
    a share's own fee would not add up to it (three shares of 5 cents at
    10 % would be told 3 cents where the books charge 2). Fed every share
    of the run in one fixed order (supporter, then rank), a share's part is
    the fee of the creator's gross so far including it less the fee of the
    gross so far without it: the parts of one creator add up to
    ``fee_cents`` of their gross exactly, and each is within a cent of the
    share's proportional part."""

    def __init__(self, *, percent: int) -> None:
        self.percent = percent
        self.given: defaultdict[int, int] = defaultdict(int)

    def part(self, *, creator_id: int, amount: int) -> int:
        before = self.given[creator_id]
        after = self.given[creator_id] = before + amount
        return fee_cents(gross=after, percent=self.percent) - fee_cents(
            gross=before, percent=self.percent
        )
