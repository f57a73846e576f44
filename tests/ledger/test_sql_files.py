"""The SQL files hold the database's current functions and triggers.

Each PostgreSQL function and trigger of the project has one file,
``<app>/sql/functions/<name>.sql`` or ``<app>/sql/triggers/<name>.sql``, with
its current definition (docs/development.md, "Functions and triggers"). The
migrated test database is compared with the files: every function and
trigger in the database has a file, every file has its object, and loading a
file gives the definition the migrations gave (``pg_get_functiondef`` and
``pg_get_triggerdef``, whitespace normalised). A file edited without a
migration, or a migration that changes a function without its file, fails
here.
"""

from collections import Counter
from pathlib import Path

import pytest
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_FILES = sorted(ROOT.glob("*/sql/functions/*.sql"))
TRIGGER_FILES = sorted(ROOT.glob("*/sql/triggers/*.sql"))

# The project's own functions: in the schema the migrations write to, not
# brought by an extension.
FUNCTIONS = """
    SELECT p.proname, pg_get_functiondef(p.oid)
      FROM pg_proc p
     WHERE p.pronamespace = current_schema()::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                          AND d.deptype = 'e')
"""
FUNCTION_NAMED = FUNCTIONS + " AND p.proname = %s"
# The project's own triggers: not the ones PostgreSQL makes for constraints.
TRIGGERS = """
    SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid)
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = current_schema()::regnamespace
       AND NOT t.tgisinternal
"""
TRIGGER_NAMED = TRIGGERS + " AND t.tgname = %s"


class _Undo(Exception):
    """Rolls the savepoint back once the loaded definition is read."""


def _normalised(sql: str) -> str:
    return " ".join(sql.split())


def _rows(query: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchall()


def _in_savepoint(*statements: str, then: str, name: str) -> list[tuple]:
    """Run ``statements``, read the rows of ``then`` named ``name``, undo all."""
    found: list[tuple] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            cursor.execute(then, [name])
            found = cursor.fetchall()
            raise _Undo
    except _Undo:
        pass
    return found


def _duplicates(paths: list[Path]) -> list[str]:
    return [stem for stem, n in Counter(p.stem for p in paths).items() if n > 1]


def test_files_were_found():
    assert {p.parent.parent.parent.name for p in FUNCTION_FILES} >= {"ledger", "payouts"}
    assert TRIGGER_FILES


@pytest.mark.django_db
def test_every_function_has_one_file_and_every_file_a_function():
    assert _duplicates(FUNCTION_FILES) == []
    in_database = sorted(name for name, _ in _rows(FUNCTIONS))
    assert sorted(p.stem for p in FUNCTION_FILES) == in_database


@pytest.mark.django_db
def test_every_trigger_has_one_file_and_every_file_a_trigger():
    assert _duplicates(TRIGGER_FILES) == []
    in_database = sorted(name for name, _, _ in _rows(TRIGGERS))
    assert sorted(p.stem for p in TRIGGER_FILES) == in_database


@pytest.mark.django_db
@pytest.mark.parametrize("path", FUNCTION_FILES, ids=lambda p: p.stem)
def test_function_file_is_the_database_definition(path):
    migrated = dict(_rows(FUNCTIONS))
    assert path.stem in migrated, f"{path.stem} is not in the migrated database"
    # Dropped (with its triggers) before the file is loaded: a file that
    # creates another function leaves this one missing.
    loaded = _in_savepoint(
        f"DROP FUNCTION {path.stem}() CASCADE",
        path.read_text(),
        then=FUNCTION_NAMED,
        name=path.stem,
    )
    assert len(loaded) == 1, f"{path} does not create {path.stem}()"
    assert _normalised(loaded[0][1]) == _normalised(migrated[path.stem])


@pytest.mark.django_db
@pytest.mark.parametrize("path", TRIGGER_FILES, ids=lambda p: p.stem)
def test_trigger_file_is_the_database_definition(path):
    migrated = {name: (table, definition) for name, table, definition in _rows(TRIGGERS)}
    assert path.stem in migrated, f"{path.stem} is not in the migrated database"
    table, definition = migrated[path.stem]
    loaded = _in_savepoint(
        f"DROP TRIGGER {path.stem} ON {table}",
        path.read_text(),
        then=TRIGGER_NAMED,
        name=path.stem,
    )
    assert len(loaded) == 1, f"{path} does not create the trigger {path.stem}"
    assert loaded[0][1] == table
    assert _normalised(loaded[0][2]) == _normalised(definition)
