"""A run's shares, derived rather than stored.

The split is deterministic: a supporter's share of one flattr follows from
their line (``taken`` cents over ``flattrs`` counted flattrs) and the rank
of that flattr among the ones counted, earliest first (``created_at``,
``id``), by the one rule ``payouts.rules.share_cents``. The period's flattrs
are final once its run exists (``buttons.services`` refuses to remove
them), and the run's thing lines freeze the thing's owner and visibility as
they were when computing. So a flattr counts in a run iff its thing has a
line in that run and the supporter is not that line's creator, and every
reader (statements, My months, returns of expired holdings, shortfalls)
gets the same cents the run used, without one row per share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from payouts.models import PayoutRun
from payouts.rules import not_own_sql, share_sql


def counted_sql(
    *, supporters: str, taken: str = "sl.taken", run: str = "%(run)s", period: str = "%(period)s"
) -> str:
    """Each counted flattr of the run's supporter lines that match the SQL
    condition ``supporters`` (over ``sl``, the line), with its share.

    Parameters ``%(run)s`` and ``%(period)s``. Columns: ``flattr_id``,
    ``supporter_id``, ``thing_id``, ``creator_id``, ``created_at``, ``n``,
    ``rank``, ``amount`` (cents). ``taken`` may name another amount to split
    (the shortfall recompute splits the wallet's new amount); ``run`` and
    ``period`` may name SQL expressions instead of the parameters (a
    lateral join over several runs)."""
    return f"""
        SELECT x.*, {share_sql(amount="x.taken", n="x.n", rank="x.rank")} AS amount
          FROM (SELECT f.id AS flattr_id, f.supporter_id, f.thing_id, tl.creator_id,
                       f.created_at, {taken} AS taken, sl.flattrs AS n,
                       row_number() OVER (PARTITION BY f.supporter_id
                                          ORDER BY f.created_at, f.id) AS rank
                  FROM payouts_supporterline sl
                  JOIN buttons_flattr f
                    ON f.supporter_id = sl.supporter_id AND f.period = {period}
                  JOIN payouts_thingline tl
                    ON tl.run_id = sl.run_id AND tl.thing_id = f.thing_id
                 WHERE sl.run_id = {run} AND sl.flattrs > 0
                   AND {not_own_sql(supporter="f.supporter_id", owner="tl.creator_id")}
                   AND ({supporters})) x
    """  # noqa: S608 - only our own SQL fragments are interpolated


@dataclass(frozen=True)
class DerivedShare:
    flattr_id: int
    supporter_id: int
    thing_id: int
    creator_id: int | None  # None: the thing had no owner when the run was computed
    amount: int  # cents


def run_shares(*, run: PayoutRun, supporter_ids: list[int]) -> list[DerivedShare]:
    """The shares of these supporters in ``run``, by supporter and rank."""
    if not supporter_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT flattr_id, supporter_id, thing_id, creator_id, amount
              FROM ({counted_sql(supporters="sl.supporter_id = ANY(%(ids)s)")}) s
             ORDER BY supporter_id, rank
            """,  # noqa: S608 - only our own SQL fragments are interpolated
            {"run": run.pk, "period": run.period, "ids": list(supporter_ids)},
        )
        return [DerivedShare(*row) for row in cursor.fetchall()]


def supporter_shares(*, runs: list[PayoutRun], supporter_id: int) -> dict[int, list[DerivedShare]]:
    """One supporter's shares in each of ``runs`` (by run id, by rank), in
    one statement whatever the number of runs: a branch per run with its
    own run and month as constants, so each is planned as ``run_shares``
    is (the month's flattrs partition alone, the run's thing lines by
    index; a lateral join over the runs plans for a generic supporter and
    hashes every thing line of each run)."""
    shares: dict[int, list[DerivedShare]] = {run.pk: [] for run in runs}
    if not runs:
        return shares
    params: dict[str, int | dt.date] = {"id": supporter_id}
    branches = []
    for i, run in enumerate(runs):
        params[f"run{i}"], params[f"period{i}"] = run.pk, run.period
        counted = counted_sql(
            supporters="sl.supporter_id = %(id)s", run=f"%(run{i})s", period=f"%(period{i})s"
        )
        branches.append(
            f"SELECT {i} AS i, flattr_id, supporter_id, thing_id, creator_id, amount, rank"  # noqa: S608 - our own SQL
            f" FROM ({counted}) s{i}"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(branches) + " ORDER BY i, rank",
            params,
        )
        for i, *row, _rank in cursor.fetchall():
            shares[runs[i].pk].append(DerivedShare(*row))
    return shares
