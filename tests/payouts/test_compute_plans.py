"""The compute's plans keep their shape (docs/scaling.md): ``EXPLAIN`` of
each step's statement on a small month, under the settings the step runs
with. No sort over the month's flattrs anywhere; the split's branches side
by side (a Parallel Append under a Gather, no Gather Merge, no hash join),
each reading its range of flattrs in order from the covering index. (At
scale a branch merge-joins the eligible supporters; on a small month the
planner loops over that tiny table instead: both keep supporter order
without a sort, which is what is checked.)"""

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from buttons.partitions import flattr_partitions_ensure
from payouts.models import PayoutRun
from payouts.services import compute, planner
from tests.factories import UserFactory, flattr, supporter, thing

P = dt.date(2026, 9, 1)
pytestmark = pytest.mark.django_db


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _explain(cursor, sql: str, params: dict) -> dict:
    cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
    raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _sorts_flattrs(plan: dict) -> list[dict]:
    """Sort nodes with the month's flattrs somewhere below them."""
    return [
        node
        for node in _nodes(plan)
        if "Sort" in node["Node Type"]
        and any(
            below.get("Relation Name", "").startswith("buttons_flattr") for below in _nodes(node)
        )
    ]


@pytest.fixture
def month():
    creator = UserFactory()
    things = [thing(owner=creator) for _ in range(6)] + [thing(owner=None), thing(hidden=True)]
    fans = [supporter(budget=100 + i, balance=1000) for i in range(40)]
    for i, fan in enumerate(fans):
        for minute in range(4):
            flattr(fan, things[(i + minute) % len(things)], P, minute=minute)
    flattr(creator, things[0], P)  # one's own
    flattr(fans[0], things[1], dt.date(2026, 8, 1))  # another month, another partition
    flattr_partitions_ensure()
    return PayoutRun.objects.create(period=P)


def _split_covering_of(partition: str) -> str:
    """The partition's own index of ``flattr_split_covering`` (buttons
    migration 0009: flattrs are partitioned by month)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'flattr_split_covering'::regclass
               AND c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass)
            """,
            [partition],
        )
        return cursor.fetchone()[0]


def test_each_step_keeps_its_plan(month, settings):
    settings.FLATTR_PAYOUT_SPLIT_BRANCHES = 2
    run = month
    params, tables = compute.compute_params(run=run), compute.Tables.of(run)
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        planner.planner(cursor, planner.PAYDAY, planner.COMPUTE, restore=False),
    ):
        compute.lines_clear(cursor, params)
        compute.eligible_supporters(cursor, params, tables)

        with planner.planner(cursor, planner.EXCLUDED):
            excluded = _explain(cursor, compute.excluded_sql(), params)
        assert not _sorts_flattrs(excluded)
        compute.excluded_flattrs(cursor, params, tables)

        ranges = compute.split_ranges(cursor, tables)
        assert len(ranges) == 2
        sql, split_params = compute.split_sql(params, tables, ranges)
        with planner.planner(cursor, planner.split_settings(len(ranges))):
            split = _explain(cursor, sql, split_params)
        types = [node["Node Type"] for node in _nodes(split)]
        assert split["Node Type"] == "Gather", types
        assert types[1] == "Append" and split["Plans"][0].get("Parallel Aware"), types
        assert "Gather Merge" not in types and "Hash Join" not in types, types
        assert not [t for t in types if "Sort" in t], types
        assert len(split["Plans"][0]["Plans"]) == 2, "one branch per range"
        # Each branch reads its own range of the month's flattrs, in order,
        # from the covering index of the month's partition alone, and drops
        # the excluded ones by a hash.
        reads = [
            n for n in _nodes(split) if n.get("Relation Name", "").startswith("buttons_flattr")
        ]
        assert len(reads) == 2, reads
        for read in reads:
            assert read["Relation Name"] == "buttons_flattr_2026_09", read
            assert read["Node Type"] == "Index Only Scan", read
            assert read["Index Name"] == _split_covering_of("buttons_flattr_2026_09"), read
            assert read["Parallel Aware"] is False, read
            assert "hashed SubPlan" in read["Filter"], read
        compute.split(cursor, params, tables)

        for statement in (compute.thing_lines_sql(), compute.supporter_lines_sql(tables)):
            assert not _sorts_flattrs(_explain(cursor, statement, params))
        compute.lines(cursor, params, tables)
        for statement in (compute.claims_sql(), compute.RETURNS_SQL):
            assert not _sorts_flattrs(_explain(cursor, statement, params))
        transaction.set_rollback(True)


def test_planner_puts_back_what_it_changed():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_sort'), current_setting('work_mem')")
        before = cursor.fetchone()
        with planner.planner(cursor, planner.COMPUTE, planner.split_settings(2)):
            cursor.execute("SELECT current_setting('enable_sort'), current_setting('work_mem')")
            assert cursor.fetchone() == ("off", "2GB")
        cursor.execute("SELECT current_setting('enable_sort'), current_setting('work_mem')")
        assert cursor.fetchone() == before
        with planner.planner(cursor, planner.PAYDAY, restore=False):
            pass
        cursor.execute("SELECT current_setting('synchronous_commit')")
        assert cursor.fetchone() == ("off",)
