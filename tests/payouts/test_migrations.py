"""Migration 0006: runs computed with stored shares get their thing lines
(and the creators' flattrs from new accounts) before the shares go."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def _targets(payouts: str) -> list[tuple[str, str | None]]:
    """Every app at its latest migration, payouts at ``payouts``; an app
    whose migrations need a later payouts one (funding) is unapplied."""
    graph = MigrationExecutor(connection).loader.graph
    kept = set(graph.forwards_plan(("payouts", payouts)))
    targets: list[tuple[str, str | None]] = []
    for app, name in graph.leaf_nodes():
        if app == "payouts":
            continue
        needs_later = any(
            node[0] == "payouts" and node not in kept for node in graph.forwards_plan((app, name))
        )
        targets.append((app, None if needs_later else name))
    return [*targets, ("payouts", payouts)]


def _applied(targets: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """The targets that are migrations (``None``: the app unapplied)."""
    return [(app, name) for app, name in targets if name is not None]


@pytest.mark.django_db(transaction=True)
def test_stored_shares_become_thing_lines():
    before, after = _targets("0005_chunks_and_choices"), _targets("0006_derived_shares")
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    try:
        old = executor.loader.project_state(_applied(before)).apps
        User = old.get_model("accounts", "User")
        run_model = old.get_model("payouts", "PayoutRun")
        period = dt.date(2026, 9, 1)
        joined_before = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        joined_in_month = dt.datetime(2026, 9, 2, tzinfo=dt.UTC)
        creator = User.objects.create(
            email="c@example.org", username="c", date_joined=joined_before
        )
        old_fan = User.objects.create(
            email="o@example.org", username="o", date_joined=joined_before
        )
        new_fan = User.objects.create(
            email="n@example.org", username="n", date_joined=joined_in_month
        )
        run = run_model.objects.create(period=period)
        old.get_model("payouts", "CreatorLine").objects.create(
            run=run, creator=creator, gross=70, fee=7, net=63, flattrs=2
        )
        Share = old.get_model("payouts", "Share")
        shares = [
            # flattr, supporter, thing, creator, amount
            (1, old_fan.pk, 10, creator.pk, 40),
            (2, new_fan.pk, 10, creator.pk, 30),
            (3, new_fan.pk, 11, None, 5),
        ]
        Share.objects.bulk_create(
            [
                Share(
                    flattr_id=flattr_id,
                    run_id=run.pk,
                    supporter_id=supporter_id,
                    thing_id=thing_id,
                    creator_id=creator_id,
                    amount=amount,
                )
                for flattr_id, supporter_id, thing_id, creator_id, amount in shares
            ]
        )

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(_applied(after)).apps
        lines = {
            line.thing_id: (line.creator_id, line.amount, line.flattrs, line.flattrs_from_new)
            for line in new.get_model("payouts", "ThingLine").objects.filter(run_id=run.pk)
        }
        assert lines == {10: (creator.pk, 70, 2, 1), 11: (None, 5, 1, 1)}
        creator_line = new.get_model("payouts", "CreatorLine").objects.get(run_id=run.pk)
        assert (creator_line.flattrs, creator_line.flattrs_from_new) == (2, 1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('payouts_share')")
            assert cursor.fetchone()[0] is None
    finally:
        MigrationExecutor(connection).migrate(leaves)
