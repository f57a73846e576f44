"""bench/payday.py drops the flattrs' keys and indexes before its bulk
load and builds them after: every month partition must have them again,
or the bench measures plans the app never runs (the returns of expired
holdings scanned whole months for want of the thing index)."""

import importlib.util
from pathlib import Path

import pytest
from django.db import connection

from buttons.partitions import flattr_partitions_ensure

pytestmark = pytest.mark.django_db

PAYDAY = Path(__file__).resolve().parents[2] / "bench" / "payday.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_payday", PAYDAY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _indexes(cursor) -> dict[str, tuple[int, int]]:
    """Each table of buttons_flattr (the parent and its partitions): how many
    indexes it has, and how many of them are valid."""
    cursor.execute(
        """
        SELECT c.relname, count(i.indexrelid), count(i.indexrelid) FILTER (WHERE i.indisvalid)
          FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid
         WHERE c.oid = 'buttons_flattr'::regclass
            OR c.oid IN (SELECT inhrelid FROM pg_inherits
                          WHERE inhparent = 'buttons_flattr'::regclass)
         GROUP BY c.relname
        """
    )
    return {name: (total, valid) for name, total, valid in cursor.fetchall()}


def test_the_payday_bench_builds_the_flattr_indexes_again_on_every_partition():
    flattr_partitions_ensure()
    bench = _bench()
    with connection.cursor() as cursor:
        before = _indexes(cursor)
        constraints, indexes = bench._flattr_keys_drop(cursor)
        assert constraints and indexes
        bench._flattr_keys_restore(cursor, constraints, indexes)
        after = _indexes(cursor)

    assert len(before) > 2  # the parent and its month partitions
    parent = before["buttons_flattr"][0]
    assert all(counts == (parent, parent) for counts in before.values()), before
    assert after == before
