"""Computing a run: set-based SQL inside PostgreSQL, never a Python loop
over supporters or flattrs. The money rules are ``payouts/rules.py``'s;
``compute_lines`` runs these steps in one transaction, each under the
planner settings its plan needs (``planner.py``):

0. ``lines_clear``: the run's previous lines go;
1. ``eligible_supporters``: who can give and how much, ``min(budget,
   wallet)``, skipping anyone who owes; a snapshot of every thing;
2. ``excluded_flattrs``: the month's flattrs that do not count;
3. ``split``: each counted flattr gets amount // n, the amount % n earliest
   (created_at, id) one cent more (the month's flattrs read in that order
   from their covering index, in ranges of supporters that PostgreSQL's
   parallel workers split side by side), aggregated at once per thing and
   per supporter; shares are never stored (``payouts/shares.py`` derives
   any of them again);
4. ``lines``: thing lines, creator lines (gross, fee rounded half up, net)
   and unclaimed holdings from them, supporter lines in posting chunks;
5. ``onward``: the creators' lists of onward shares frozen in onward lines,
   each share ``rules.onward_sql`` of its creator's net, credited to the
   target's owner or held for an unclaimed thing (``onward_amounts``);
6. ``holdings``: claimed things are paid to their new owner, holdings older
   than FLATTR_UNCLAIMED_MONTHS go back to the supporters;

then the totals and the conservation check (``refresh_totals``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from accounts.models import User
from payouts.models import EventAction, Funding, HoldingStatus, PayoutRun, RunStage, RunStatus
from payouts.rules import fee_sql, net_sql, onward_sql, share_sql, taken_sql, visible_sql
from payouts.services.planner import COMPUTE, EXCLUDED, PAYDAY, planner, split_settings
from payouts.shares import counted_sql

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


def stage_record(run: PayoutRun, stage: RunStage, progress: str = "") -> None:
    """Record where the run stands: in the row (seen once committed) and in
    the cache, so the admin shows progress while a long transaction runs."""
    from django.core.cache import cache

    PayoutRun.objects.filter(pk=run.pk).update(stage=stage, progress=progress)
    run.stage, run.progress = stage, progress
    cache.set(progress_key(run.pk), f"{stage} {progress}".strip(), 3600)


def compute_params(*, run: PayoutRun) -> dict:
    """The parameters every step's statements read."""
    return {
        "run": run.pk,
        "period": run.period,
        "fee_percent": settings.FLATTR_FEE_PERCENT,
        "charity": settings.FLATTR_UNSPENT_BUDGET == "charity",
        "chunk": CHUNK_SIZE,
        "expired_before": add_months(run.period, -settings.FLATTR_UNCLAIMED_MONTHS + 1),
        # After the month: the budget is split whatever the wallet holds,
        # nothing goes to charity, unclaimed shares are pledges (not held).
        "after": run.funding == Funding.AFTER,
        "holding": HoldingStatus.PLEDGED if run.funding == Funding.AFTER else HoldingStatus.HELD,
    }


@dataclass(frozen=True)
class Tables:
    """The run's prepared tables. The ones the split's branches read are
    ordinary (unlogged) tables of the compute's transaction, named after the
    run: parallel workers share the transaction and see them, but cannot
    read a session's temporary tables. Each branch reads its range of them
    itself (``parallel_workers = 0``: never a scan shared among workers
    under one branch). They go with the transaction (dropped at the end of
    the lines step, or rolled back)."""

    eligible: str
    excluded: str

    @classmethod
    def of(cls, run: PayoutRun) -> Tables:
        return cls(eligible=f"payout_eligible_{run.pk}", excluded=f"payout_excluded_{run.pk}")


def lines_clear(cursor: CursorWrapper, params: dict) -> None:
    """Step 0: the run's lines go; the holdings it had chosen to settle go
    back to "held"."""
    for table in (
        "payouts_onwardline",
        "payouts_supporterline",
        "payouts_creatorline",
        "payouts_unclaimedline",
        "payouts_thingline",
    ):
        cursor.execute(f"DELETE FROM {table} WHERE run_id = %(run)s", params)  # noqa: S608
    cursor.execute(
        "UPDATE payouts_unclaimedline SET status = 'held', settled_by_id = NULL,"
        " claimed_by_id = NULL, claim_fee = 0 WHERE settled_by_id = %(run)s",
        params,
    )


def eligible_sql(tables: Tables, *, after: bool = False) -> str:
    """Who can give this month, and how much (``rules.taken_sql``): a budget
    and a wallet above zero, and no receivable owed. In supporter order.
    ``after``: everyone with a budget gives their budget (a receivable is
    then what an open charge owes, not a debt that stops giving)."""
    if after:
        taken = taken_sql(budget="u.monthly_budget_cents", balance="0", after=True)
        return f"""
        SELECT u.id AS supporter_id, u.monthly_budget_cents AS budget,
               coalesce(w.balance, 0) AS balance, {taken} AS amount,
               u.date_joined >= %(period)s AS is_new
          FROM accounts_user u
          LEFT JOIN ledger_account w ON w.user_id = u.id AND w.kind = 'wallet'
         WHERE u.monthly_budget_cents > 0
         ORDER BY u.id
    """  # noqa: S608 - only our own SQL fragment is interpolated
    taken = taken_sql(budget="u.monthly_budget_cents", balance="w.balance")
    return f"""
        SELECT u.id AS supporter_id, u.monthly_budget_cents AS budget, w.balance,
               {taken} AS amount,
               u.date_joined >= %(period)s AS is_new
          FROM accounts_user u
          JOIN ledger_account w ON w.user_id = u.id AND w.kind = 'wallet' AND w.balance > 0
         WHERE u.monthly_budget_cents > 0
           AND NOT EXISTS (SELECT 1 FROM ledger_account r
                            WHERE r.user_id = u.id AND r.kind = 'receivable' AND r.balance < 0)
         ORDER BY u.id
    """  # noqa: S608 - only our own SQL fragment is interpolated


def eligible_supporters(cursor: CursorWrapper, params: dict, tables: Tables) -> None:
    """Step 1: the eligible supporters (``eligible_sql``) in one table in
    supporter order, indexed, that the split merges with the month's
    flattrs; and a snapshot of every thing (``payout_things``: owner,
    visible), read once, from which the excluded flattrs and the owner of
    each thing line come."""
    cursor.execute(
        f"DROP TABLE IF EXISTS {tables.eligible}, {tables.excluded}, payout_things, payout_split"
    )
    cursor.execute(
        f"CREATE UNLOGGED TABLE {tables.eligible} WITH (parallel_workers = 0) AS"
        f" {eligible_sql(tables, after=params['after'])}",
        params,
    )
    cursor.execute(f"CREATE UNIQUE INDEX ON {tables.eligible} (supporter_id)")
    cursor.execute(
        f"""
        CREATE TEMP TABLE payout_things ON COMMIT DROP AS
        SELECT id AS thing_id, owner_id, {visible_sql(hidden="hidden", removed="removed")} AS visible
          FROM buttons_thing
        """  # noqa: S608 - only our own SQL fragment is interpolated
    )
    cursor.execute("CREATE UNIQUE INDEX ON payout_things (thing_id)")
    cursor.execute("ANALYZE payout_things")


def excluded_sql() -> str:
    """The month's flattrs that do not count (``rules.flattr_counts`` is
    false): on things that are not visible, and on one's own visible things;
    each half an index lookup from the things (few rows)."""
    return """
        SELECT f.id FROM payout_things t
          JOIN buttons_flattr f ON f.thing_id = t.thing_id AND f.period = %(period)s
         WHERE NOT t.visible
         UNION ALL
        SELECT f.id FROM payout_things t
          JOIN buttons_flattr f ON f.supporter_id = t.owner_id AND f.thing_id = t.thing_id
                               AND f.period = %(period)s
         WHERE t.visible
    """


def excluded_flattrs(cursor: CursorWrapper, params: dict, tables: Tables) -> None:
    """Step 2: the excluded flattrs (``excluded_sql``) in a table the
    split's branches filter by hash; both prepared tables analysed."""
    with planner(cursor, EXCLUDED):
        cursor.execute(
            f"CREATE UNLOGGED TABLE {tables.excluded} WITH (parallel_workers = 0) AS"
            f" {excluded_sql()}",
            params,
        )
    cursor.execute(f"ANALYZE {tables.eligible}, {tables.excluded}")


def split_ranges(cursor: CursorWrapper, tables: Tables) -> list[tuple[int | None, int | None]]:
    """``FLATTR_PAYOUT_SPLIT_BRANCHES`` ranges of supporter ids, as even in
    eligible supporters as the table's order allows (one when few)."""
    cursor.execute(f"SELECT count(*) FROM {tables.eligible}")  # noqa: S608 - our table
    count = cursor.fetchone()[0]
    branches = max(1, min(settings.FLATTR_PAYOUT_SPLIT_BRANCHES, count))
    bounds: list[int | None] = [None]
    for i in range(1, branches):
        cursor.execute(
            f"SELECT supporter_id FROM {tables.eligible} ORDER BY supporter_id OFFSET %s LIMIT 1",  # noqa: S608
            [count * i // branches],
        )
        bounds.append(cursor.fetchone()[0])
    bounds.append(None)
    return list(zip(bounds, bounds[1:], strict=False))


def split_sql(
    params: dict, tables: Tables, ranges: list[tuple[int | None, int | None]]
) -> tuple[str, dict]:
    """The split's statement, one ``UNION ALL`` branch per range of
    supporters, and its parameters (the ranges' bounds are its own).

    A branch reads its flattrs in (supporter, time, id) order straight from
    the covering index (buttons migration 0007), gathers each supporter's
    things in that order into an array (its length is ``n``, an element's
    ordinal its rank: the window-free form, since PostgreSQL never runs a
    window inside a worker), merges the eligible supporters in the same
    order, and computes (``rules.share_sql``) and aggregates each share at
    once per thing and per supporter."""
    params = {**params}
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
                               AND f.id NOT IN (SELECT id FROM {tables.excluded})
                             GROUP BY f.supporter_id) g
                      JOIN {tables.eligible} e ON e.supporter_id = g.supporter_id
                                       {bounds.format(col="e.supporter_id")}) s,
                   unnest(s.things) WITH ORDINALITY t(thing_id, rn)
             GROUP BY GROUPING SETS ((t.thing_id), (s.supporter_id))
            """  # noqa: S608 - only our own SQL fragments are interpolated
        )
    return " UNION ALL ".join(branches), params


def split(cursor: CursorWrapper, params: dict, tables: Tables) -> None:
    """Step 3: the month's shares, aggregated per thing and per supporter
    into the temporary table ``payout_split`` (``thing_id`` or
    ``supporter_id`` set). Nothing per share is written.

    One branch per range of supporters (``split_ranges``), each a whole
    split of its range (``split_sql``), run side by side by PostgreSQL's
    parallel workers: a Parallel Append under a Gather, each branch's plan
    a worker's, no sort (``planner.split_settings``)."""
    ranges = split_ranges(cursor, tables)
    sql, split_params = split_sql(params, tables, ranges)
    with planner(cursor, split_settings(len(ranges))):
        cursor.execute("CREATE TEMP TABLE payout_split ON COMMIT DROP AS " + sql, split_params)
    cursor.execute("ANALYZE payout_split")


def thing_lines_sql() -> str:
    """Thing lines (which freeze each thing's owner for the statements,
    payouts/shares.py) from the split, and from those the creator lines
    (gross, ``rules.fee_sql``, ``rules.net_sql``) and unclaimed holdings."""
    fee = fee_sql(gross="sum(amount)::bigint")
    return f"""
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
            SELECT %(run)s, creator_id, gross, fee, {net_sql(gross="gross", fee="fee")}, n, from_new
              FROM (SELECT creator_id, sum(amount)::bigint AS gross, {fee} AS fee,
                           sum(flattrs) AS n, sum(flattrs_from_new) AS from_new
                      FROM things WHERE creator_id IS NOT NULL
                     GROUP BY creator_id) g
        )
        INSERT INTO payouts_unclaimedline (run_id, thing_id, amount, flattrs, status, claim_fee)
        SELECT %(run)s, thing_id, amount, flattrs, %(holding)s, 0
          FROM things WHERE creator_id IS NULL AND amount > 0
    """  # noqa: S608 - only our own SQL fragments are interpolated


def supporter_lines_sql(tables: Tables) -> str:
    """Supporter lines from the eligible supporters and the split, numbered
    into posting chunks in supporter order; those without counted flattrs
    only in charity mode (what was taken goes to charity)."""
    return f"""
        INSERT INTO payouts_supporterline
            (run_id, supporter_id, budget, balance, taken, flattrs, charity, chunk)
        SELECT %(run)s, e.supporter_id, e.budget, e.balance, e.amount,
               coalesce(p.flattrs, 0),
               CASE WHEN p.flattrs IS NULL THEN e.amount ELSE 0 END,
               ((row_number() OVER (ORDER BY e.supporter_id)) - 1) / %(chunk)s
          FROM {tables.eligible} e
          LEFT JOIN payout_split p ON p.supporter_id = e.supporter_id
         WHERE p.flattrs IS NOT NULL OR (%(charity)s AND NOT %(after)s)
    """  # noqa: S608 - the table's name is ours


def pledged_sql() -> str:
    """After mode: each supporter line's cents on things nobody owned
    (``pledged``), from the derived shares of only the supporters who
    flattred such a thing (``payouts/shares.py``)."""
    gave = (
        "sl.supporter_id IN (SELECT g.supporter_id FROM buttons_flattr g"
        " JOIN payouts_thingline u ON u.run_id = %(run)s AND u.thing_id = g.thing_id"
        " AND u.creator_id IS NULL WHERE g.period = %(period)s)"
    )
    return f"""
        UPDATE payouts_supporterline sl
           SET pledged = p.cents
          FROM (SELECT supporter_id, sum(amount)::bigint AS cents
                  FROM ({counted_sql(supporters=gave)}) s
                 WHERE creator_id IS NULL
                 GROUP BY supporter_id) p
         WHERE sl.run_id = %(run)s AND sl.supporter_id = p.supporter_id
    """  # noqa: S608 - only our own SQL fragments are interpolated


def lines(cursor: CursorWrapper, params: dict, tables: Tables) -> None:
    """Step 4: thing, creator and supporter lines and the month's holdings
    (``thing_lines_sql``, ``supporter_lines_sql``); the prepared tables go,
    and the lines get fresh statistics for the posting joins that read them."""
    cursor.execute(thing_lines_sql(), params)
    cursor.execute(supporter_lines_sql(tables), params)
    if params["after"]:
        cursor.execute(pledged_sql(), params)
    cursor.execute(f"DROP TABLE {tables.eligible}, {tables.excluded}, payout_split")
    cursor.execute(
        "ANALYZE payouts_supporterline, payouts_creatorline, payouts_unclaimedline,"
        " payouts_thingline"
    )


def onward_freeze_sql() -> str:
    """The lists in force, frozen in the run's onward lines: one per share
    of each creator with a line, credited to the creator named or to the
    thing's owner now (empty: an unclaimed thing, held). A share whose thing
    is hidden or removed, or now the giver's own, stays with the giver; so
    does one to a thing nobody owns in after mode (nothing is held)."""
    visible = visible_sql(hidden="t.hidden", removed="t.removed")
    return f"""
        INSERT INTO payouts_onwardline (run_id, from_user_id, to_user_id, thing_id, percent, cents)
        SELECT %(run)s, s.creator_id, coalesce(s.target_user_id, t.owner_id),
               s.target_thing_id, s.percent, 0
          FROM payouts_onwardshare s
          JOIN payouts_creatorline cl ON cl.run_id = %(run)s AND cl.creator_id = s.creator_id
          LEFT JOIN buttons_thing t ON t.id = s.target_thing_id
         WHERE s.target_user_id IS NOT NULL
            OR ({visible} AND (t.owner_id IS NULL OR t.owner_id <> s.creator_id)
                AND NOT (%(after)s AND t.owner_id IS NULL))
    """  # noqa: S608 - only our own SQL fragment is interpolated


def onward_amounts(cursor: CursorWrapper, params: dict) -> None:
    """Each frozen onward share's cents from its giver's net
    (``rules.onward_sql``); receivers without a line get one (gross, fee,
    net and flattrs 0); each creator line's ``onward_out`` and
    ``onward_in``; shares to unclaimed things held with the month's
    holdings (``onward`` is their part). Run again after a shortfall."""
    cursor.execute(
        f"""
        UPDATE payouts_onwardline ol
           SET cents = {onward_sql(net="cl.net", percent="ol.percent")}
          FROM payouts_creatorline cl
         WHERE ol.run_id = %(run)s AND cl.run_id = %(run)s AND cl.creator_id = ol.from_user_id
           AND ol.cents <> {onward_sql(net="cl.net", percent="ol.percent")}
        """,  # noqa: S608 - only our own SQL fragments are interpolated
        params,
    )
    cursor.execute(
        """
        INSERT INTO payouts_creatorline
            (run_id, creator_id, gross, fee, net, flattrs, flattrs_from_new, onward_out, onward_in)
        SELECT DISTINCT %(run)s, to_user_id, 0, 0, 0, 0, 0, 0, 0
          FROM payouts_onwardline
         WHERE run_id = %(run)s AND to_user_id IS NOT NULL AND cents > 0
        ON CONFLICT (run_id, creator_id) DO NOTHING
        """,
        params,
    )
    cursor.execute(
        """
        UPDATE payouts_creatorline cl
           SET onward_out = x.given, onward_in = x.received
          FROM (SELECT user_id, sum(given)::bigint AS given, sum(received)::bigint AS received
                  FROM (SELECT from_user_id AS user_id, cents AS given, 0 AS received
                          FROM payouts_onwardline WHERE run_id = %(run)s
                        UNION ALL
                        SELECT to_user_id, 0, cents
                          FROM payouts_onwardline
                         WHERE run_id = %(run)s AND to_user_id IS NOT NULL) o
                 GROUP BY user_id) x
         WHERE cl.run_id = %(run)s AND cl.creator_id = x.user_id
           AND (cl.onward_out, cl.onward_in) IS DISTINCT FROM (x.given, x.received)
        """,
        params,
    )
    cursor.execute(
        """
        INSERT INTO payouts_unclaimedline
            (run_id, thing_id, amount, flattrs, status, claim_fee, onward)
        SELECT %(run)s, thing_id, sum(cents), 0, 'held', 0, sum(cents)
          FROM payouts_onwardline
         WHERE run_id = %(run)s AND to_user_id IS NULL
         GROUP BY thing_id
        HAVING sum(cents) > 0
        ON CONFLICT (run_id, thing_id) DO UPDATE
           SET amount = payouts_unclaimedline.amount + EXCLUDED.amount, onward = EXCLUDED.onward
        """,
        params,
    )


def onward(cursor: CursorWrapper, params: dict) -> None:
    """Step 5: the lists frozen (``onward_freeze_sql``), then the amounts
    (``onward_amounts``)."""
    cursor.execute(onward_freeze_sql(), params)
    onward_amounts(cursor, params)
    cursor.execute("ANALYZE payouts_onwardline")


def claims_sql() -> str:
    """Held holdings of posted runs whose thing now has an owner: paid to
    that owner, less the fee (``rules.fee_sql``) on the part supporters'
    flattrs gave (money passed on pays no second fee)."""
    return f"""
        UPDATE payouts_unclaimedline h
           SET status = 'claimed', settled_by_id = %(run)s, claimed_by_id = t.owner_id,
               claim_fee = {fee_sql(gross="(h.amount - h.onward)")}
          FROM buttons_thing t, payouts_payoutrun r
         WHERE h.status = 'held' AND t.id = h.thing_id AND t.owner_id IS NOT NULL
           AND r.id = h.run_id AND r.status = 'posted'
    """  # noqa: S608 - only our own SQL fragment is interpolated


RETURNS_SQL = """
    UPDATE payouts_unclaimedline h
       SET status = 'returned', settled_by_id = %(run)s
      FROM payouts_payoutrun r
     WHERE h.status = 'held' AND r.id = h.run_id AND r.status = 'posted'
       AND r.period < %(expired_before)s
"""


def holdings(cursor: CursorWrapper, params: dict) -> None:
    """Step 6: the holdings this run settles: claimed ones are paid to their
    thing's new owner (``claims_sql``), those older than
    FLATTR_UNCLAIMED_MONTHS go back to their supporters (``RETURNS_SQL``)."""
    cursor.execute(claims_sql(), params)
    cursor.execute(RETURNS_SQL, params)


def compute_lines(*, run: PayoutRun) -> None:
    """(Re)compute every line of a draft run in one database transaction,
    step by step (the module's docstring); the totals last."""
    params, tables = compute_params(run=run), Tables.of(run)
    with connection.cursor() as cursor, planner(cursor, PAYDAY, COMPUTE, restore=False):
        lines_clear(cursor, params)
        stage_record(run, RunStage.COMPUTING_SUPPORTERS)
        eligible_supporters(cursor, params, tables)
        excluded_flattrs(cursor, params, tables)
        stage_record(run, RunStage.COMPUTING_SHARES)
        split(cursor, params, tables)
        lines(cursor, params, tables)
        onward(cursor, params)
        stage_record(run, RunStage.COMPUTING_HOLDINGS)
        holdings(cursor, params)
    refresh_totals(run=run)


def aggregate_lines(*, cursor: CursorWrapper, params: dict) -> None:
    """Creator lines and unclaimed holdings again from the thing lines
    (after a shortfall changed some of them), and the onward shares from
    the new nets (the frozen lists)."""
    cursor.execute(
        f"""
        UPDATE payouts_creatorline cl
           SET gross = g.gross, fee = g.fee, net = {net_sql(gross="g.gross", fee="g.fee")},
               onward_out = 0
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
    onward_amounts(cursor, params)


def refresh_totals(*, run: PayoutRun) -> PayoutRun:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
              (SELECT count(*) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(flattrs), 0) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(taken), 0) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(charity), 0) FROM payouts_supporterline WHERE run_id = %(run)s),
              (SELECT count(*) FROM payouts_creatorline WHERE run_id = %(run)s AND flattrs > 0),
              (SELECT coalesce(sum(gross), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(fee), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(net), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(amount), 0) FROM payouts_unclaimedline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(amount), 0) FROM payouts_unclaimedline
                WHERE settled_by_id = %(run)s AND status = 'returned'),
              (SELECT coalesce(sum(amount), 0) FROM payouts_unclaimedline
                WHERE settled_by_id = %(run)s AND status = 'claimed'),
              (SELECT coalesce(sum(claim_fee), 0) FROM payouts_unclaimedline
                WHERE settled_by_id = %(run)s AND status = 'claimed'),
              (SELECT coalesce(sum(onward_out), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(onward_in), 0) FROM payouts_creatorline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(onward), 0) FROM payouts_unclaimedline WHERE run_id = %(run)s),
              (SELECT coalesce(sum(cents), 0) FROM payouts_onwardline WHERE run_id = %(run)s)
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
            onward_out,
            onward_in,
            onward_held,
            onward_lines,
        ) = cursor.fetchone()
    # Conservation, to the cent: every cent taken from the supporter lines
    # is found again in the creator lines and holdings (both aggregated from
    # the thing lines) or in charity; of the nets, what creators kept and
    # what they passed on, which was received onward or is held.
    kept = net - onward_out
    ok = (
        taken == kept + onward_in + fee + unclaimed + charity
        and gross == net + fee
        and onward_out == onward_in + onward_held == onward_lines
    )
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
        onward=onward_out,
        onward_received=onward_in,
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
        funding = settings.FLATTR_FUNDING
        if funding not in Funding.values:
            raise PayoutError(f"FLATTR_FUNDING is {funding!r}; use wallet or after")
        if run.funding != funding:
            run.funding = funding
            run.save(update_fields=["funding"])
        compute_lines(run=run)
        run.computed_at = timezone.now()
        run.stage = RunStage.COMPUTED
        run.progress = ""
        run.save(update_fields=["computed_at", "stage", "progress"])
        action = EventAction.COMPUTED if created else EventAction.RECOMPUTED
        run.events.create(action=action, actor=actor)
    return run
