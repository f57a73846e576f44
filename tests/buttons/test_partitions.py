"""Flattrs partitioned by month (buttons migration 0009, buttons.partitions;
docs/operations.md, "Flattrs by month")."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from buttons import services, tasks
from buttons.models import Flattr
from buttons.partitions import flattr_partitions_ensure
from tests.factories import UserFactory, flattr, thing

BEFORE = ("buttons", "0009_flattr_source_likes")
AFTER = ("buttons", "0010_flattr_partitions")


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _partition_of(flattr_id: int) -> str:
    return _rows("SELECT tableoid::regclass::text FROM buttons_flattr WHERE id = %s", [flattr_id])[
        0
    ][0]


def _partitions() -> dict[str, str]:
    """{partition: bounds} of buttons_flattr."""
    return dict(
        _rows(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'buttons_flattr'::regclass
            """
        )
    )


def _constraints() -> dict[str, str]:
    return dict(
        _rows(
            "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'buttons_flattr'::regclass"
        )
    )


def _month(first: dt.date, ahead: int) -> dt.date:
    months = first.year * 12 + first.month - 1 + ahead
    return dt.date(months // 12, months % 12 + 1, 1)


def _name(month: dt.date) -> str:
    return f"buttons_flattr_{month:%Y_%m}"


def _today() -> dt.date:
    return _rows("SELECT current_date")[0][0]


def _targets(buttons: tuple[str, str]) -> list[tuple[str, str]]:
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    return [(app, name) for app, name in leaves if app != "buttons"] + [buttons]


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_rows_ids_sequence_and_the_rule_of_one_flattr_per_thing_per_month():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(_targets(BEFORE))
    try:
        old = executor.loader.project_state(_targets(BEFORE)).apps
        old_flattr = old.get_model("buttons", "Flattr")
        user_model = old.get_model("accounts", "User")
        thing_model = old.get_model("buttons", "Thing")
        fans = [
            user_model.objects.create(email=f"f{i}@example.org", username=f"f{i}") for i in range(3)
        ]
        things = [
            thing_model.objects.create(url=f"https://example.org/{i}", title=f"t{i}")
            for i in range(4)
        ]
        months = [dt.date(2026, m, 1) for m in (6, 7, 8, 9)]
        for month in months:
            for fan in fans:
                for t in things[: 1 + month.month % 4]:
                    old_flattr.objects.create(
                        supporter_id=fan.pk,
                        thing_id=t.pk,
                        period=month,
                        created_at=dt.datetime(month.year, month.month, 3, tzinfo=dt.UTC),
                    )
        # A gap in the ids (rolled-back inserts): the sequence is kept as it
        # is, not recomputed from the highest id.
        _rows("SELECT setval('buttons_flattr_id_seq', 500)")
        before = sorted(
            _rows(
                "SELECT id, supporter_id, thing_id, period, created_at, source FROM buttons_flattr"
            )
        )
        constraints_before = _constraints()
        assert len(before) == 3 * (3 + 4 + 1 + 2)

        MigrationExecutor(connection).migrate(_targets(AFTER))

        assert _rows("SELECT relkind FROM pg_class WHERE relname = 'buttons_flattr'") == [("p",)]
        after = sorted(
            _rows(
                "SELECT id, supporter_id, thing_id, period, created_at, source FROM buttons_flattr"
            )
        )
        assert after == before
        # Each row in its month's partition; none left in the default one.
        placed = dict(
            _rows(
                "SELECT period, array_agg(DISTINCT tableoid::regclass::text) FROM buttons_flattr GROUP BY period"
            )
        )
        assert placed == {month: [_name(month)] for month in months}
        assert _rows("SELECT count(*) FROM buttons_flattr_default") == [(0,)]
        # The same constraints by name; the keys carry the month.
        assert _constraints() == constraints_before
        assert _rows(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'buttons_flattr_pkey'"
        ) == [("PRIMARY KEY (id, period)",)]
        new = Flattr.objects.create(
            supporter_id=fans[0].pk,
            thing_id=things[3].pk,
            period=months[0],
            created_at=dt.datetime(2026, 6, 9, tzinfo=dt.UTC),
        )
        assert new.pk == 501
        assert _partition_of(new.pk) == _name(months[0])
        with (
            # The month's partition names the rule: its own unique index.
            pytest.raises(IntegrityError, match=r"Key \(supporter_id, thing_id, period\)"),
            transaction.atomic(),
        ):
            Flattr.objects.create(
                supporter_id=fans[0].pk,
                thing_id=things[0].pk,
                period=months[2],
                created_at=dt.datetime(2026, 8, 9, tzinfo=dt.UTC),
            )
        assert Flattr.objects.count() == len(before) + 1

        # And back: the plain table with every row, id and the sequence.
        MigrationExecutor(connection).migrate(_targets(BEFORE))
        assert _rows("SELECT relkind FROM pg_class WHERE relname = 'buttons_flattr'") == [("r",)]
        assert len(_rows("SELECT id FROM buttons_flattr")) == len(before) + 1
        # 502 went to the refused duplicate.
        assert _rows("SELECT nextval(pg_get_serial_sequence('buttons_flattr', 'id'))") == [(503,)]
        assert _constraints() == constraints_before
    finally:
        MigrationExecutor(connection).migrate(leaves)


@pytest.mark.django_db
def test_no_foreign_key_points_at_flattrs():
    """Ids are unique by their one sequence only (a partitioned table's keys
    hold the month): a foreign key to flattrs would need ``(id, period)``.
    None exists; one added must say how it holds (docs/operations.md)."""
    assert (
        _rows(
            "SELECT conrelid::regclass::text FROM pg_constraint"
            " WHERE confrelid = 'buttons_flattr'::regclass"
        )
        == []
    )


@pytest.mark.django_db
def test_a_flattr_lands_in_its_months_partition():
    fan, t = UserFactory(wallet_cents=1000), thing()
    now = dt.datetime.now(dt.UTC)
    made = services.flattr_create(supporter=fan, thing=t, now=now)
    assert _partition_of(made.pk) == _name(services.period_of(now))
    with pytest.raises(services.FlattrRefused):
        services.flattr_create(supporter=fan, thing=t, now=now)


@pytest.mark.django_db
def test_the_beat_task_makes_three_months_ahead_once():
    first = _month(_today().replace(day=1), -1)
    wanted = [_month(first, i) for i in range(5)]
    with connection.cursor() as cursor:
        for month in wanted[2:]:
            cursor.execute(f"DROP TABLE {_name(month)}")
    assert not {_name(m) for m in wanted[2:]} & set(_partitions())

    assert tasks.flattr_partitions_ensure.delay().get() == 3
    partitions = _partitions()
    for month in wanted:
        assert partitions[_name(month)] == (
            f"FOR VALUES FROM ('{month:%Y-%m-%d}') TO ('{_month(month, 1):%Y-%m-%d}')"
        )
    assert partitions["buttons_flattr_default"] == "DEFAULT"
    assert flattr_partitions_ensure() == 0
    assert _partitions() == partitions


@pytest.mark.django_db
def test_a_month_without_partition_waits_in_the_default_one_and_moves_out_whole():
    fan, other, t = UserFactory(), UserFactory(), thing()
    old = dt.date(2019, 3, 1)
    first = flattr(fan, t, old)
    second = flattr(other, t, old, day=2)
    assert _partition_of(first.pk) == "buttons_flattr_default"

    assert flattr_partitions_ensure() == 1
    assert _partition_of(first.pk) == _partition_of(second.pk) == "buttons_flattr_2019_03"
    assert list(
        Flattr.objects.filter(period=old).order_by("id").values_list("id", "supporter_id")
    ) == [
        (first.pk, fan.pk),
        (second.pk, other.pk),
    ]
    assert _rows("SELECT count(*) FROM buttons_flattr_default") == [(0,)]
    # The rule holds in the new partition as in the others.
    with pytest.raises(IntegrityError), transaction.atomic():
        flattr(fan, t, old, day=9)
    assert flattr_partitions_ensure() == 0


@pytest.mark.django_db
def test_a_flattr_is_found_and_taken_back_by_its_id_alone():
    fan, t = UserFactory(wallet_cents=1000), thing()
    made = services.flattr_create(supporter=fan, thing=t)
    assert Flattr.objects.get(pk=made.pk).thing_id == t.pk
    services.flattr_undo(supporter=fan, flattr_id=made.pk)
    assert not Flattr.objects.filter(pk=made.pk).exists()
