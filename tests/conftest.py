import pytest
from django.core.cache import cache
from django.db.backends.postgresql.operations import DatabaseOperations as _PostgresOperations

from flattr_site.celery import app as celery_app

# Tasks run in-process during tests: the real task functions, no broker hop.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True

# The ledger refuses TRUNCATE (ledger migration 0007). Between transactional
# tests Django empties the database with one TRUNCATE: it runs as a replica
# session (superuser only), where user triggers stay quiet.
_sql_flush = _PostgresOperations.sql_flush


def _sql_flush_past_ledger_guards(self, style, tables, **kwargs):
    sql = _sql_flush(self, style, tables, **kwargs)
    return ["SET LOCAL session_replication_role = replica", *sql] if sql else sql


_PostgresOperations.sql_flush = _sql_flush_past_ledger_guards


def _clear_cache() -> None:
    """Drop our keys only: a shared Redis may also serve `make run`."""
    client = cache._cache.get_client(write=True)
    prefix = cache.make_key("")
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def clean_cache():
    from buttons import counters

    _clear_cache()
    counters._local.clear()
    yield


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff(db):
    from tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True)


def database_url_for_subprocess() -> str:
    """A DATABASE_URL that points a child process at the test database,
    whether it is on a TCP server or the embedded one's unix socket."""
    from django.db import connection

    s = connection.settings_dict
    host = s["HOST"] or s.get("OPTIONS", {}).get("host", "")
    auth = f"{s['USER']}:{s['PASSWORD'] or ''}"
    if host.startswith("/"):
        return f"postgresql://{auth}@/{s['NAME']}?host={host}"
    return f"postgresql://{auth}@{host or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
