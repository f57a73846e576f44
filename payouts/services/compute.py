"""Computing a run: set-based SQL inside PostgreSQL, never a Python loop
over supporters or flattrs.

1. supporter lines: amount = min(budget, wallet) for supporters with counted
   flattrs (and, in charity mode, those without), skipping anyone who owes;
2. shares: each counted flattr gets amount // n, the amount % n earliest
   (created_at, id) one cent more (the month's flattrs read in that order
   from their covering index, in ranges of supporters that PostgreSQL's
   parallel workers split side by side), aggregated at once per thing and
   per supporter; shares are never stored (``payouts/shares.py`` derives
   any of them again);
3. creator lines (gross, fee rounded half up, net) and unclaimed holdings
   from the thing lines;
4. holdings to settle: claimed things are paid to their new owner, holdings
   older than FLATTR_UNCLAIMED_MONTHS go back to the supporters;
5. totals and the conservation check.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from accounts.models import User
from payouts.models import EventAction, PayoutRun, RunStage, RunStatus
from payouts.split import fee_sql, share_sql

CHUNK_SIZE = 50_000


class PayoutError(Exception):
    """A run cannot move this way; the message says why, in one line."""


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def current_period() -> dt.date:
    from buttons.services import current_period as buttons_current_period

    return buttons_current_period()


def last_closed_period() -> dt.date:
    return add_months(current_period(), -1)


def parse_period(text: str) -> dt.date:
    """``2026-10`` -> date(2026, 10, 1); PayoutError for anything else."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise PayoutError(f"{text!r} is not a month (expected YYYY-MM, e.g. 2026-10)")


def progress_key(run_id: int) -> str:
    return f"payout:{run_id}:progress"


def _stage(run: PayoutRun, stage: RunStage, progress: str = "") -> None:
    """Record where the run stands: in the row (seen once committed) and in
    the cache, so the admin shows progress while a long transaction runs."""
    from django.core.cache import cache

    PayoutRun.objects.filter(pk=run.pk).update(stage=stage, progress=progress)
    run.stage, run.progress = stage, progress
    cache.set(progress_key(run.pk), f"{stage} {progress}".strip(), 3600)


def _tune(cursor: CursorWrapper) -> None:
    # Sorts and hashes of millions of rows fit in memory this way.
    cursor.execute("SET LOCAL work_mem = '512MB'")
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    cursor.execute("SET LOCAL synchronous_commit = off")
    # Compiling these statements costs more than it saves (and the planner
    # settings that keep the split's plan would make it compile them fully).
    cursor.execute("SET LOCAL jit = off")


def _split_ranges(cursor: CursorWrapper, eligible: str) -> list[tuple[int | None, int | None]]:
    """``FLATTR_PAYOUT_SPLIT_BRANCHES`` ranges of supporter ids, as even in
    eligible supporters as the table's order allows (one when few)."""
    cursor.execute(f"SELECT count(*) FROM {eligible}")  # noqa: S608 - our table
    count = cursor.fetchone()[0]
    branches = max(1, min(settings.FLATTR_PAYOUT_SPLIT_BRANCHES, count))
    bounds: list[int | None] = [None]
    for i in range(1, branches):
        cursor.execute(
            f"SELECT supporter_id FROM {eligible} ORDER BY supporter_id OFFSET %s LIMIT 1",  # noqa: S608
            [count * i // branches],
        )
        bounds.append(cursor.fetchone()[0])
    bounds.append(None)
    return list(zip(bounds, bounds[1:], strict=False))


def _split(cursor: CursorWrapper, params: dict, *, eligible: str, excluded: str) -> None:
    """The month's shares, aggregated per thing and per supporter into the
    temporary table ``payout_split`` (``thing_id`` or ``supporter_id`` set).

    One branch per range of supporters, each a whole split of its range,
    run side by side by PostgreSQL's parallel workers (a Parallel Append;
    each branch's plan is a worker's). A branch reads its flattrs in
    (supporter, time, id) order straight from the covering index (buttons
    migration 0007), gathers each supporter's things in that order into an
    array (its length is ``n``, an element's ordinal its rank: the
    window-free form, since PostgreSQL never runs a window inside a
    worker), merges the eligible supporters in the same order, and computes
    and aggregates each share at once. Nothing per share is written."""
    ranges = _split_ranges(cursor, eligible)
    params = {**params}  # the ranges' bounds are this statement's own
    branches = []
    for i, (low, high) in enumerate(ranges):
        bounds = ""
        if low is not None:
            params[f"low{i}"] = low
            bounds += f" AND {{col}} >= %(low{i})s"
        if high is not None:
            params[f"high{i}"] = high
            bounds += f" AND {{col}} < %(high{i})s"
        share = share_sql(amount="s.amount", n="cardinality(s.things)", rank="t.rn")
        branches.append(
            f"""
            SELECT t.thing_id, s.supporter_id, sum({share}) AS amount, count(*) AS flattrs,
                   count(*) FILTER (WHERE s.is_new) AS from_new
              FROM (SELECT g.supporter_id, g.things, e.amount, e.is_new
                      FROM (SELECT f.supporter_id,
                                   array_agg(f.thing_id ORDER BY f.created_at, f.id) AS things
                              FROM buttons_flattr f
                             WHERE f.period = %(period)s{bounds.format(col="f.supporter_id")}
                               AND f.id NOT IN (SELECT id FROM {excluded})
                             GROUP BY f.supporter_id) g
                      JOIN {eligible} e ON e.supporter_id = g.supporter_id
                                       {bounds.format(col="e.supporter_id")}) s,
                   unnest(s.things) WITH ORDINALITY t(thing_id, rn)
             GROUP BY GROUPING SETS ((t.thing_id), (s.supporter_id))
            """  # noqa: S608 - only our own SQL fragments are interpolated
        )
    # Branches side by side: parallel workers for each (the leader takes
    # one too), no gather-merge (order is not needed), a merge join of
    # each range's supporters (both sides come in supporter order).
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = %s", [len(ranges)])
    cursor.execute("SET LOCAL parallel_setup_cost = 0")
    cursor.execute("SET LOCAL parallel_tuple_cost = 0")
    cursor.execute("SET LOCAL enable_gathermerge = off")
    cursor.execute("SET LOCAL enable_hashjoin = off")
    cursor.execute("SET LOCAL enable_sort = off")
    cursor.execute("SET LOCAL enable_nestloop = on")
    cursor.execute(
        "CREATE TEMP TABLE payout_split ON COMMIT DROP AS " + " UNION ALL ".join(branches),
        params,
    )
    for setting in (
        "max_parallel_workers_per_gather",
        "parallel_setup_cost",
        "parallel_tuple_cost",
        "enable_gathermerge",
        "enable_sort",
    ):
        cursor.execute(f"SET LOCAL {setting} TO DEFAULT")
    cursor.execute("SET LOCAL enable_nestloop = off")


def compute_lines(*, run: PayoutRun) -> None:
    """(Re)compute every line of a draft run in one database transaction."""
    params = {
        "run": run.pk,
        "period": run.period,
        "fee_percent": settings.FLATTR_FEE_PERCENT,
        "charity": settings.FLATTR_UNSPENT_BUDGET == "charity",
        "chunk": CHUNK_SIZE,
        "expired_before": add_months(run.period, -settings.FLATTR_UNCLAIMED_MONTHS + 1),
    }
    with connection.cursor() as cursor:
        _tune(cursor)
        for table in (
            "payouts_supporterline",
            "payouts_creatorline",
            "payouts_unclaimedline",
            "payouts_thingline",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE run_id = %(run)s", params)  # noqa: S608
        # Holdings this run had chosen to settle go back to "held".
        cursor.execute(
            "UPDATE payouts_unclaimedline SET status = 'held', settled_by_id = NULL,"
            " claimed_by_id = NULL, claim_fee = 0 WHERE settled_by_id = %(run)s",
            params,
        )

        # The small tables of the split are hashed, never looped over row by
        # row with index lookups (which the planner picks on fresh tables).
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL work_mem = '2GB'")
        _stage(run, RunStage.COMPUTING_SUPPORTERS)
        # The tables the split's branches read are ordinary (unlogged) tables
        # of this transaction, named after the run: parallel workers share the
        # transaction and see them, but cannot read a session's temporary
        # tables. Each branch reads its range of them itself
        # (parallel_workers = 0: never a scan shared among workers under one
        # branch). They go with the transaction (dropped below, or rolled back).
        eligible, excluded = f"payout_eligible_{run.pk}", f"payout_excluded_{run.pk}"
        cursor.execute(f"DROP TABLE IF EXISTS {eligible}, {excluded}, payout_things, payout_split")
        # Who can give this month, and how much: one table in supporter
        # order, analysed, that the split merges with the month's flattrs.
        cursor.execute(
            f"""
            CREATE UNLOGGED TABLE {eligible} WITH (parallel_workers = 0) AS
            SELECT u.id AS supporter_id, u.monthly_budget_cents AS budget, w.balance,
                   least(u.monthly_budget_cents, w.balance) AS amount,
                   u.date_joined >= %(period)s AS is_new
              FROM accounts_user u
              JOIN ledger_account w ON w.user_id = u.id AND w.kind = 'wallet' AND w.balance > 0
             WHERE u.monthly_budget_cents > 0
               AND NOT EXISTS (SELECT 1 FROM ledger_account r
                                WHERE r.user_id = u.id AND r.kind = 'receivable' AND r.balance < 0)
             ORDER BY u.id
            """,  # noqa: S608 - the table's name is ours
            params,
        )
        cursor.execute(f"CREATE UNIQUE INDEX ON {eligible} (supporter_id)")
        # Every thing as it is now, read once: which flattrs count and who
        # owns each thing line come from this one snapshot.
        cursor.execute(
            """
            CREATE TEMP TABLE payout_things ON COMMIT DROP AS
            SELECT id AS thing_id, owner_id, NOT hidden AND NOT removed AS visible
              FROM buttons_thing
            """
        )
        cursor.execute("CREATE UNIQUE INDEX ON payout_things (thing_id)")
        cursor.execute("ANALYZE payout_things")
        # The month's flattrs that do not count: on hidden or removed things
        # and on one's own things (index lookups from the things: few rows).
        cursor.execute("SET LOCAL enable_nestloop = on")
        cursor.execute(
            f"""
            CREATE UNLOGGED TABLE {excluded} WITH (parallel_workers = 0) AS
            SELECT f.id FROM payout_things t
              JOIN buttons_flattr f ON f.thing_id = t.thing_id AND f.period = %(period)s
             WHERE NOT t.visible
             UNION ALL
            SELECT f.id FROM payout_things t
              JOIN buttons_flattr f ON f.supporter_id = t.owner_id AND f.thing_id = t.thing_id
                                   AND f.period = %(period)s
             WHERE t.visible
            """,  # noqa: S608 - the table's name is ours
            params,
        )
        cursor.execute(f"ANALYZE {eligible}, {excluded}")

        _stage(run, RunStage.COMPUTING_SHARES)
        _split(cursor, params, eligible=eligible, excluded=excluded)
        cursor.execute("ANALYZE payout_split")
        # Thing lines (which freeze each thing's owner for the statements,
        # payouts/shares.py), creator lines and unclaimed holdings from those,
        # and supporter lines numbered into posting chunks.
        cursor.execute("SET LOCAL enable_hashjoin = on")
        cursor.execute(
            f"""
            WITH things AS (
                INSERT INTO payouts_thingline
                    (run_id, thing_id, creator_id, amount, flattrs, flattrs_from_new)
                SELECT %(run)s, s.thing_id, t.owner_id, s.amount, s.flattrs, s.from_new
                  FROM (SELECT thing_id, sum(amount)::bigint AS amount,
                               sum(flattrs)::int AS flattrs, sum(from_new)::int AS from_new
                          FROM payout_split WHERE thing_id IS NOT NULL GROUP BY thing_id) s
                  LEFT JOIN payout_things t ON t.thing_id = s.thing_id
                RETURNING thing_id, creator_id, amount, flattrs, flattrs_from_new
            ),
            creators AS (
                INSERT INTO payouts_creatorline
                    (run_id, creator_id, gross, fee, net, flattrs, flattrs_from_new)
                SELECT %(run)s, creator_id, gross, fee, gross - fee, n, from_new
                  FROM (SELECT creator_id, sum(amount)::bigint AS gross,
                               {fee_sql(gross="sum(amount)::bigint")} AS fee,
                               sum(flattrs) AS n, sum(flattrs_from_new) AS from_new
                          FROM things WHERE creator_id IS NOT NULL
                         GROUP BY creator_id) g
            )
            INSERT INTO payouts_unclaimedline (run_id, thing_id, amount, flattrs, status, claim_fee)
            SELECT %(run)s, thing_id, amount, flattrs, 'held', 0
              FROM things WHERE creator_id IS NULL AND amount > 0
            """,  # noqa: S608 - only our own SQL fragment is interpolated
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO payouts_supporterline
                (run_id, supporter_id, budget, balance, taken, flattrs, charity, chunk)
            SELECT %(run)s, e.supporter_id, e.budget, e.balance, e.amount,
                   coalesce(p.flattrs, 0),
                   CASE WHEN p.flattrs IS NULL THEN e.amount ELSE 0 END,
                   ((row_number() OVER (ORDER BY e.supporter_id)) - 1) / %(chunk)s
              FROM {eligible} e
              LEFT JOIN payout_split p ON p.supporter_id = e.supporter_id
             WHERE p.flattrs IS NOT NULL OR %(charity)s
            """,  # noqa: S608 - the table's name is ours
            params,
        )
        cursor.execute(f"DROP TABLE {eligible}, {excluded}, payout_split")

        # Fresh statistics for the posting joins that read these lines.
        cursor.execute(
            "ANALYZE payouts_supporterline, payouts_creatorline, payouts_unclaimedline,"
            " payouts_thingline"
        )

        _stage(run, RunStage.COMPUTING_HOLDINGS)
        # Holdings whose thing now has an owner are paid to that owner;
        # holdings older than FLATTR_UNCLAIMED_MONTHS go back to supporters.
        cursor.execute(
            f"""
            UPDATE payouts_unclaimedline h
               SET status = 'claimed', settled_by_id = %(run)s, claimed_by_id = t.owner_id,
                   claim_fee = {fee_sql(gross="h.amount")}
              FROM buttons_thing t, payouts_payoutrun r
             WHERE h.status = 'held' AND t.id = h.thing_id AND t.owner_id IS NOT NULL
               AND r.id = h.run_id AND r.status = 'posted'
            """,  # noqa: S608 - only our own SQL fragment is interpolated
            params,
        )
        cursor.execute(
            """
            UPDATE payouts_unclaimedline h
               SET status = 'returned', settled_by_id = %(run)s
              FROM payouts_payoutrun r
             WHERE h.status = 'held' AND r.id = h.run_id AND r.status = 'posted'
               AND r.period < %(expired_before)s
            """,
            params,
        )
    refresh_totals(run=run)


def aggregate_lines(*, cursor: CursorWrapper, params: dict) -> None:
    """Creator lines and unclaimed holdings again from the thing lines
    (after a shortfall changed some of them)."""
    cursor.execute(
        f"""
        UPDATE payouts_creatorline cl
           SET gross = g.gross, fee = g.fee, net = g.gross - g.fee
          FROM (SELECT creator_id, sum(amount)::bigint AS gross,
                       {fee_sql(gross="sum(amount)::bigint")} AS fee
                  FROM payouts_thingline
                 WHERE run_id = %(run)s AND creator_id IS NOT NULL
                 GROUP BY creator_id) g
         WHERE cl.run_id = %(run)s AND cl.creator_id = g.creator_id
           AND (cl.gross, cl.fee) IS DISTINCT FROM (g.gross, g.fee)
        """,  # noqa: S608 - only our own SQL fragment is interpolated
        params,
    )
    cursor.execute(
        "DELETE FROM payouts_unclaimedline WHERE run_id = %(run)s AND status = 'held'", params
    )
    cursor.execute(
        """
        INSERT INTO payouts_unclaimedline (run_id, thing_id, amount, flattrs, status, claim_fee)
        SELECT %(run)s, thing_id, amount, flattrs, 'held', 0
          FROM payouts_thingline
         WHERE run_id = %(run)s AND creator_id IS NULL AND amount > 0
        """,
        params,
    )


def refresh_totals(*, run: PayoutRun) -> PayoutRun:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
              (SELECT count(*) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(flattrs), 0) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(taken), 0) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(charity), 0) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT count(*) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(gross), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(fee), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(net), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(amount), 0) FROM payouts_unclaimedline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(amount), 0) FROM payouts_unclaimedline
                WHERE settled_by_id = %(run)s AND status = 'returned'),
              (SELECT coalesce(sum(amount), 0) FROM payouts_unclaimedline
                WHERE settled_by_id = %(run)s AND status = 'claimed'),
              (SELECT coalesce(sum(claim_fee), 0) FROM payouts_unclaimedline
                WHERE settled_by_id = %(run)s AND status = 'claimed')
            """,
            {"run": run.pk},
        )
        (
            supporters,
            flattrs,
            taken,
            charity,
            creators,
            gross,
            fee,
            net,
            unclaimed,
            returned,
            claimed_gross,
            claimed_fee,
        ) = cursor.fetchone()
    # Conservation, to the cent: every cent taken from the supporter lines
    # is found again in the creator lines and holdings (both aggregated from
    # the thing lines) or in charity.
    ok = taken == net + fee + unclaimed + charity and gross == net + fee
    PayoutRun.objects.filter(pk=run.pk).update(
        supporters=supporters,
        flattrs=flattrs,
        taken=taken,
        charity=charity,
        creators=creators,
        gross=gross,
        fee=fee,
        net=net,
        unclaimed=unclaimed,
        returned=returned,
        claimed_gross=claimed_gross,
        claimed_fee=claimed_fee,
        conservation_ok=ok,
    )
    run.refresh_from_db()
    return run


def payout_run_compute(
    *, period: dt.date, recompute: bool = False, actor: User | None = None
) -> PayoutRun:
    """Compute the run of a closed month (create it, or recompute a draft)."""
    if period.day != 1:
        raise PayoutError("a period is the first day of a month")
    if period >= current_period():
        raise PayoutError(f"{period:%Y-%m} is not closed yet; only past months can be computed")
    with transaction.atomic(durable=True):
        run, created = PayoutRun.objects.select_for_update().get_or_create(period=period)
        if not created:
            if run.status != RunStatus.DRAFT:
                raise PayoutError(
                    f"the run of {period:%Y-%m} is {run.status}; only a draft can be recomputed"
                )
            if not recompute and run.computed_at is not None:
                raise PayoutError(
                    f"the run of {period:%Y-%m} exists; pass --recompute to compute it again"
                )
        compute_lines(run=run)
        run.computed_at = timezone.now()
        run.stage = RunStage.COMPUTED
        run.progress = ""
        run.save(update_fields=["computed_at", "stage", "progress"])
        action = EventAction.COMPUTED if created else EventAction.RECOMPUTED
        run.events.create(action=action, actor=actor)
    return run
