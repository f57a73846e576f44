import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.db import connection

from ops import pgbouncer
from ops.dburl import connection_url


def direct_url() -> str:
    """The test database's URL, from the live connection's settings."""
    return connection_url(connection.settings_dict)


@contextlib.contextmanager
def django_through(url: str) -> Iterator[None]:
    """Django's default connection re-pointed at url (a pooler) for a while."""
    saved = dict(connection.settings_dict)
    saved_options = {k: v for k, v in (saved.get("OPTIONS") or {}).items() if k != "host"}
    parts = urlsplit(url)
    connection.close()
    connection.settings_dict.update(
        {
            "HOST": parts.hostname,
            "PORT": parts.port,
            "OPTIONS": {**saved_options, "prepare_threshold": None},
        }
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def through_pgbouncer(transactional_db) -> Iterator[str]:
    """The test database behind a strict PgBouncer in transaction mode
    (ops/pgbouncer.py); Django's connection goes through it."""
    with pgbouncer.running(direct_url()) as url, django_through(url):
        yield url
