"""The read-replica router against a real streaming replica.

The module starts its own primary PostgreSQL (initdb in a temporary folder,
the test server's own binaries, its own port, trust authentication), copies
the migrated test database into it, makes a replica with
``pg_basebackup -R`` and starts it. Django's connections then point at the
pair for each test. Lag is made on purpose with ``pg_wal_replay_pause()``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.test import Client, RequestFactory

from accounts.models import User
from core import db_router
from core.db_router import REPLICA, replica_reads
from ops.dburl import connection_url
from tests.factories import PASSWORD, thing

# The test database must exist (it is copied into the new primary); each test
# then runs on the pair, and the flush at its end empties the test database.
pytestmark = pytest.mark.django_db(transaction=True)

DBNAME = "flattr_replica"
BIO_BEFORE = "Bio before the pause."
BIO_AFTER = "Bio written while the replica is paused."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin_dir(major: int) -> Path | None:
    candidates = []
    with contextlib.suppress(ImportError):
        import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    for folder in candidates:
        if not (folder / "initdb").exists():
            continue
        out = subprocess.run(
            [str(folder / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout
        if out.split()[-1].split(".")[0] == str(major):
            return folder
    return None


@dataclass
class Pair:
    bindir: Path
    root: Path
    primary_port: int
    replica_port: int

    def as_server(self, *command: str) -> None:
        """Run a server tool as the owner of the data (never root)."""
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.root)

    def pg_ctl(self, node: str, *args: str) -> None:
        self.as_server(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.root / node),
            "-l",
            str(self.root / f"{node}.log"),
            *args,
        )

    def url(self, port: int, dbname: str = DBNAME) -> str:
        return f"postgresql://postgres@127.0.0.1:{port}/{dbname}"

    def replica_sql(self, sql: str):
        with psycopg.connect(self.url(self.replica_port), autocommit=True) as conn:
            return conn.execute(sql).fetchone()

    def catch_up(self, timeout: float = 15) -> None:
        """Resume replay and wait until the replica has all the primary wrote."""
        self.replica_sql("SELECT pg_wal_replay_resume()")
        with psycopg.connect(self.url(self.primary_port), autocommit=True) as conn:
            lsn = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        deadline = time.monotonic() + timeout
        while not self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn")[0]:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)

    def pause(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.replica_sql("SELECT pg_get_wal_replay_pause_state()")[0] != "paused":
            assert time.monotonic() < deadline, "replay did not pause"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker) -> Iterator[Pair]:
    with django_db_blocker.unblock():
        source = connection_url(connection.settings_dict)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version_num")
            major = int(cursor.fetchone()[0]) // 10000
    bindir = _bin_dir(major)
    if bindir is None:
        pytest.skip(f"PostgreSQL {major} server binaries not found")
    root = Path(tempfile.mkdtemp(prefix="flattr-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    p = Pair(bindir, root, _free_port(), _free_port())
    try:
        p.as_server(
            str(bindir / "initdb"),
            "-D",
            str(root / "primary"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        )
        with (root / "primary" / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {p.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{root}'\nwal_level = replica\n"
                "fsync = off\nmax_wal_senders = 4\n"
            )
        p.pg_ctl("primary", "-w", "start")
        subprocess.run(
            [
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(p.primary_port),
                "-U",
                "postgres",
                DBNAME,
            ],
            check=True,
        )
        # The migrated test database, schema and rows, into the new primary.
        dump = subprocess.run(
            [str(bindir / "pg_dump"), "--no-owner", "--dbname", source],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(
            [str(bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", p.url(p.primary_port)],
            input=dump,
            check=True,
            capture_output=True,
        )
        p.as_server(
            str(bindir / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(p.primary_port), "-U", "postgres"),
            *("-D", str(root / "replica"), "-R", "-X", "stream", "--no-sync"),
        )
        conf_path = root / "replica" / "postgresql.conf"
        conf_path.write_text(
            conf_path.read_text().replace(f"port = {p.primary_port}", f"port = {p.replica_port}")
        )
        p.pg_ctl("replica", "-w", "start")
        yield p
    finally:
        for node in ("replica", "primary"):
            if (root / node / "postmaster.pid").exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    p.pg_ctl(node, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


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
