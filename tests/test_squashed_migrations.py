"""Squashed migrations keep existing databases migrating (docs/development.md,
"Squashed migrations").

A fresh database runs the squashes (the suite's test database is built so),
and the migrations, squashes in, add up to the models (what
`makemigrations --check` says). The other tests take the test database back to what an installation that migrated
before the squashes holds, the replaced names recorded and not the squash,
and migrate it forward with today's tree."""

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.recorder import MigrationRecorder
from django.db.migrations.state import ProjectState

Key = tuple[str, str]


def _squashes() -> dict[Key, list[Key]]:
    loader = MigrationLoader(None)  # the files only
    return {key: list(migration.replaces) for key, migration in loader.replacements.items()}


def _forget_squashes(squashes: dict[Key, list[Key]]) -> None:
    """Leave only the replaced names in django_migrations, as a database
    migrated with the files before the squash has them."""
    recorder = MigrationRecorder(connection)
    for app, name in squashes:
        recorder.record_unapplied(app, name)


def _before_squashes() -> MigrationExecutor:
    """An executor that sees the tree as it was before the squashes: the
    replaced migrations as they were, the squashes beside them, unused."""
    executor = MigrationExecutor(connection)
    executor.loader = MigrationLoader(connection, replace_migrations=False)
    return executor


def _migrate_to_the_end() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _applied() -> set[Key]:
    return set(MigrationRecorder(connection).applied_migrations())


def test_the_squashes_are_the_ones_the_docs_name():
    assert set(_squashes()) == {
        ("api", "0001_squashed_0002_verbose_names"),
        ("buttons", "0002_squashed_0006_verbose_names"),
        ("claims", "0001_squashed_0002_verbose_names"),
        ("notifications", "0001_squashed_0002_verbose_names"),
        ("payments", "0001_squashed_0003_verbose_names"),
    }


def test_the_migrations_add_up_to_the_models():
    """`makemigrations --check`, from the files alone."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    changes = MigrationAutodetector(
        loader.project_state(),
        ProjectState.from_apps(apps),
        NonInteractiveMigrationQuestioner(dry_run=True),
    ).changes(graph=loader.graph)
    assert changes == {}


@pytest.mark.django_db(transaction=True)
def test_a_database_at_the_last_replaced_migrations_migrates_forward():
    squashes = _squashes()
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    # Back to the squashes (buttons 0007 and 0008, api and notifications 0003
    # go), then forget them: the database now holds what one migrated with
    # the old files up to buttons 0006, payments 0003, api 0002... holds.
    executor.migrate(list(squashes))
    try:
        _forget_squashes(squashes)
        assert not set(squashes) & _applied()
        assert {key for replaced in squashes.values() for key in replaced} <= _applied()

        executor = MigrationExecutor(connection)
        # Every replaced name applied: Django takes the squash as applied ...
        assert set(squashes) <= set(executor.loader.applied_migrations)
        plan = [
            migration.app_label + "." + migration.name
            for migration, _ in executor.migration_plan(leaves)
        ]
        # ... and runs only what came after, on top of the old files' tables.
        assert "buttons.0007_split_index_includes_thing" in plan
        assert "buttons.0008_thing_pending" in plan
        assert "api.0003_spent_authorization_codes" in plan
        assert not [name for name in plan if "squashed" in name]
        executor.migrate(leaves)

        # `migrate` records the squashes (`showmigrations` shows them [X]).
        assert set(squashes) <= _applied()
        assert not MigrationExecutor(connection).migration_plan(leaves)
    finally:
        _migrate_to_the_end()


@pytest.mark.django_db(transaction=True)
def test_a_database_part_way_through_a_squash_migrates_forward():
    squashes = _squashes()
    _forget_squashes(squashes)
    try:
        # With the files before the squashes, take each squashed app back to
        # inside its squash: buttons at 0003_verified_site (0005 and 0006,
        # the merge of the classic branch and the verbose names, not yet),
        # payments at 0002, api, claims and notifications at 0001.
        _before_squashes().migrate(
            [
                ("buttons", "0003_verified_site"),
                ("payments", "0002_topup_states_and_event_payload"),
                ("api", "0001_personal_tokens"),
                ("claims", "0001_claims"),
                ("notifications", "0001_notifications"),
            ]
        )
        applied = _applied()
        assert ("buttons", "0003_thing_updated_at") in applied
        assert ("buttons", "0005_merge_classic") not in applied
        assert ("payments", "0003_verbose_names") not in applied

        executor = MigrationExecutor(connection)
        # Its leaves name the replaced migrations, not the squashes.
        leaves = executor.loader.graph.leaf_nodes()
        # A squash partly applied is not used: the replaced files finish it.
        assert not set(squashes) & set(executor.loader.applied_migrations)
        plan = [
            migration.app_label + "." + migration.name
            for migration, _ in executor.migration_plan(leaves)
        ]
        assert plan.index("buttons.0006_verbose_names") < plan.index(
            "buttons.0007_split_index_includes_thing"
        )
        assert "buttons.0005_merge_classic" in plan
        assert "payments.0003_verbose_names" in plan
        assert not [name for name in plan if "squashed" in name]
        executor.migrate(leaves)

        # Once every replaced migration ran, the squash is recorded too.
        assert set(squashes) <= _applied()
        executor = MigrationExecutor(connection)
        assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    finally:
        _migrate_to_the_end()
