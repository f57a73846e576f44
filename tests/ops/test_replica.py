"""The read-replica router against a real streaming replica.

The module starts its own primary PostgreSQL (ops/pgreplica.py: initdb in a
temporary folder, the test server's own binaries, its own port, trust
authentication), copies the migrated test database into it, makes a replica
with ``pg_basebackup -R`` and starts it. Django's connections then point at the
pair for each test. Lag is made on purpose with ``pg_wal_replay_pause()``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections, transaction
from django.test import Client, RequestFactory

from accounts.models import User
from core import db_router
from core.db_router import REPLICA, replica_reads
from ops import pgreplica
from ops.dburl import connection_url
from ops.pgreplica import DBNAME, Pair
from tests.factories import PASSWORD, thing

# The test database must exist (it is copied into the new primary); each test
# then runs on the pair, and the flush at its end empties the test database.
pytestmark = pytest.mark.django_db(transaction=True)

BIO_BEFORE = "Bio before the pause."
BIO_AFTER = "Bio written while the replica is paused."


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker) -> Iterator[Pair]:
    with django_db_blocker.unblock():
        source = connection_url(connection.settings_dict)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version_num")
            major = int(cursor.fetchone()[0]) // 10000
    if pgreplica.bin_dir(major) is None:
        pytest.skip(f"PostgreSQL {major} server binaries not found")
    with pgreplica.primary_running(major) as p:
        p.tool("createdb", "-h", "127.0.0.1", "-p", str(p.primary_port), "-U", "postgres", DBNAME)
        # The migrated test database, schema and rows, into the new primary.
        dump = p.tool("pg_dump", "--no-owner", "--dbname", source)
        p.tool("psql", "-q", "-v", "ON_ERROR_STOP=1", p.url(p.primary_port), stdin=dump)
        p.replica_start()
        yield p


@pytest.fixture
def on_pair(pair, django_db_blocker, settings) -> Iterator[Pair]:
    """Django's default connection on the new primary, "replica" on its replica."""
    settings.FLATTR_REPLICA_MAX_LAG_SECONDS = 600
    settings.FLATTR_REPLICA_PROBE_SECONDS = 0
    saved = dict(connection.settings_dict)
    options = {k: v for k, v in (saved.get("OPTIONS") or {}).items() if k != "host"}
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(
            {"HOST": "127.0.0.1", "PORT": pair.primary_port, "NAME": DBNAME, "OPTIONS": options}
        )
        connections.settings[REPLICA] = {
            **connection.settings_dict,
            "PORT": pair.replica_port,
            "OPTIONS": {**options, "connect_timeout": 2},
        }
        db_router.replica_health_reset()
        pair.catch_up()
        try:
            yield pair
        finally:
            with contextlib.suppress(Exception):
                pair.catch_up()
            for alias in (REPLICA, "default"):
                connections[alias].close()
            del connections[REPLICA]
            del connections.settings[REPLICA]
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
            db_router.replica_health_reset()


@pytest.fixture
def author(on_pair) -> User:
    name = f"ada{next(_authors)}"
    user = User.objects.create_user(username=name, email=f"{name}@example.org", password=PASSWORD)
    user.bio = BIO_BEFORE
    user.save(update_fields=["bio"])
    thing(owner=user, title="Ada's first post")
    on_pair.catch_up()
    return user


_authors = itertools.count()


def _save_settings(client, bio: str) -> None:
    response = client.post(
        "/settings/",
        {"display_name": "Ada", "bio": bio, "website": "", "monthly_budget": "2.00"},
    )
    assert response.status_code == 302, response.content[:500]


def test_a_marked_view_reads_the_replica_and_its_author_the_primary(on_pair, author, client):
    on_pair.pause()
    client.force_login(author)
    _save_settings(client, BIO_AFTER)
    assert User.objects.get(pk=author.pk).bio == BIO_AFTER  # on the primary

    # A visitor reads the paused replica: the bio is not there yet.
    visitor = Client()
    page = visitor.get(f"/u/{author.username}/")
    assert page.status_code == 200
    assert BIO_BEFORE in page.content.decode() and BIO_AFTER not in page.content.decode()
    assert visitor.get(f"/rest/v2/users/{author.username}").json()["about"] == BIO_BEFORE

    # The author, who just wrote, reads the primary.
    page = client.get(f"/u/{author.username}/")
    assert page.status_code == 200
    assert BIO_AFTER in page.content.decode()

    # Once replayed, everybody sees it.
    on_pair.catch_up()
    assert BIO_AFTER in visitor.get(f"/u/{author.username}/").content.decode()


def test_the_author_reads_the_primary_until_the_cookie_expires(on_pair, author, client, settings):
    settings.FLATTR_REPLICA_STICKY_SECONDS = 1
    on_pair.pause()
    client.force_login(author)
    _save_settings(client, BIO_AFTER)
    assert BIO_AFTER in client.get(f"/u/{author.username}/").content.decode()
    time.sleep(2.1)
    # The few seconds are over: the author reads the (still paused) replica.
    assert BIO_BEFORE in client.get(f"/u/{author.username}/").content.decode()


def test_reads_in_a_transaction_and_unmarked_views_use_the_primary(on_pair, author):
    on_pair.pause()
    User.objects.filter(pk=author.pk).update(bio=BIO_AFTER)

    seen = {}

    @replica_reads
    def view(request):
        seen["outside"] = User.objects.get(pk=author.pk).bio
        with transaction.atomic():
            seen["atomic"] = User.objects.get(pk=author.pk).bio
        return None

    view(RequestFactory().get("/"))
    assert seen == {"outside": BIO_BEFORE, "atomic": BIO_AFTER}
    # Outside a marked view, a read goes to the primary.
    assert User.objects.get(pk=author.pk).bio == BIO_AFTER
    # A POST to a marked view reads the primary.
    view(RequestFactory().post("/"))
    assert seen["outside"] == BIO_AFTER


def test_a_replica_too_far_behind_is_not_read(on_pair, author, settings, caplog):
    settings.FLATTR_REPLICA_MAX_LAG_SECONDS = 0.5
    on_pair.pause()
    User.objects.filter(pk=author.pk).update(bio=BIO_AFTER)
    time.sleep(1.2)
    with caplog.at_level(logging.WARNING, logger="core.db_router"):
        page = Client().get(f"/u/{author.username}/")
    assert page.status_code == 200
    assert BIO_AFTER in page.content.decode()
    assert any("s behind" in r.getMessage() for r in caplog.records)


def test_a_replica_that_is_down_falls_back_to_the_primary(on_pair, author, caplog):
    on_pair.pause()
    User.objects.filter(pk=author.pk).update(bio=BIO_AFTER)
    on_pair.pg_ctl("replica", "-m", "immediate", "stop")
    try:
        with caplog.at_level(logging.WARNING, logger="core.db_router"):
            page = Client().get(f"/u/{author.username}/")
            api = Client().get(f"/rest/v2/users/{author.username}")
        assert page.status_code == 200 and BIO_AFTER in page.content.decode()
        assert api.status_code == 200 and api.json()["about"] == BIO_AFTER
        assert any("unreachable" in r.getMessage() for r in caplog.records)
    finally:
        on_pair.pg_ctl("replica", "-w", "start")
