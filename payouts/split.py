"""The split rule and the platform fee, written once.

docs/design.md, "The monthly split": a supporter's ``amount`` is split equally
among their ``n`` counted flattrs, exact to the cent: each gets
``amount // n`` and the ``amount % n`` earliest (rank 1 is the earliest)
get one cent more. A creator's fee is ``FLATTR_FEE_PERCENT`` of their gross,
rounded half up to the cent.

The same rule has two forms: Python, for one person's live preview, and
SQL fragments that the set-based run (``services/compute.py``) and the
posting's shortfall recompute put into their statements. Both forms are
built here from one definition and tested against each other
(``tests/payouts/test_split.py``).
"""

from __future__ import annotations


def share_cents(*, amount: int, n: int, rank: int) -> int:
    """The share of the flattr of ``rank`` (1 = earliest) among ``n``."""
    return amount // n + (1 if rank <= amount % n else 0)


def shares_cents(*, amount: int, n: int) -> list[int]:
    """Every share, earliest flattr first; they add up to ``amount``."""
    shares = [share_cents(amount=amount, n=n, rank=rank) for rank in range(1, n + 1)]
    assert sum(shares) == amount, "the shares must add up to the amount"
    return shares


def fee_cents(*, gross: int, percent: int) -> int:
    """``percent`` of ``gross`` cents, rounded half up to the cent."""
    return (gross * percent + 50) // 100


def share_sql(*, amount: str, n: str, rank: str) -> str:
    """``share_cents`` as a SQL expression over non-negative integer
    columns (``%%`` is psycopg's escaped modulo)."""
    return f"({amount}) / ({n}) + CASE WHEN ({rank}) <= ({amount}) %% ({n}) THEN 1 ELSE 0 END"


def fee_sql(*, gross: str, percent: str = "%(fee_percent)s") -> str:
    """``fee_cents`` as a SQL expression (integer division of non-negative
    numbers truncates like Python's floor division)."""
    return f"(({gross}) * {percent} + 50) / 100"
