"""A PostgreSQL primary and its streaming replica, for tests and benchmarks.

    with pgreplica.primary_running(major=15) as pair:
        ...                       # createdb, load rows into pair.url(pair.primary_port)
        pair.replica_start()      # pg_basebackup -R, then start it

Both servers live in a temporary folder, on free ports of their own, with
trust authentication, ``fsync = off`` and the server binaries of the given
major version (the embedded ``pgserver`` ones, or Debian's). As root, the
server tools run as ``postgres``. Lag is made on purpose with
:meth:`Pair.pause`; the replica is stopped and started with :meth:`Pair.pg_ctl`.
Used by tests/ops/test_replica.py and bench/replica.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

DBNAME = "flattr_replica"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bin_dir(major: int) -> Path | None:
    """The folder of PostgreSQL ``major``'s server binaries, if installed."""
    candidates = []
    with contextlib.suppress(ImportError):
        import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    candidates.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    for folder in candidates:
        if not (folder / "initdb").exists():
            continue
        out = subprocess.run(  # noqa: S603 - a server binary of ours
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
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.root)  # noqa: S603

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

    def tool(self, name: str, *args: str, stdin: bytes | None = None) -> bytes:
        """A client tool (createdb, psql, pg_dump...) of the pair's version."""
        return subprocess.run(  # noqa: S603
            [str(self.bindir / name), *args], input=stdin, check=True, capture_output=True
        ).stdout

    def replica_sql(self, sql: str) -> Any:
        with psycopg.connect(self.url(self.replica_port), autocommit=True) as conn:
            return conn.execute(sql).fetchone()

    def replica_start(self) -> None:
        """Make the replica from the primary (pg_basebackup -R) and start it."""
        self.as_server(
            str(self.bindir / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"),
            *("-D", str(self.root / "replica"), "-R", "-X", "stream", "--no-sync"),
        )
        conf_path = self.root / "replica" / "postgresql.conf"
        conf_path.write_text(
            conf_path.read_text().replace(
                f"port = {self.primary_port}", f"port = {self.replica_port}"
            )
        )
        self.pg_ctl("replica", "-w", "start")

    def catch_up(self, timeout: float = 15, dbname: str = DBNAME) -> None:
        """Resume replay and wait until the replica has all the primary wrote."""
        self.replica_sql("SELECT pg_wal_replay_resume()")
        with psycopg.connect(self.url(self.primary_port, dbname), autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        lsn = row[0] if row else "0/0"
        deadline = time.monotonic() + timeout
        while not self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn")[0]:
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not catch up")
            time.sleep(0.05)

    def pause(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.replica_sql("SELECT pg_get_wal_replay_pause_state()")[0] != "paused":
            if time.monotonic() > deadline:
                raise TimeoutError("replay did not pause")
            time.sleep(0.02)


@contextlib.contextmanager
def primary_running(major: int, *, max_connections: int = 100) -> Iterator[Pair]:
    """A new primary (started) and room for its replica; both stopped and
    removed at the end. ``RuntimeError`` when the binaries are missing."""
    bindir = bin_dir(major)
    if bindir is None:
        raise RuntimeError(f"PostgreSQL {major} server binaries not found")
    root = Path(tempfile.mkdtemp(prefix="flattr-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pair = Pair(bindir, root, free_port(), free_port())
    try:
        pair.as_server(
            str(bindir / "initdb"),
            *("-D", str(root / "primary"), "-A", "trust", "-U", "postgres", "--no-sync"),
        )
        with (root / "primary" / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {pair.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{root}'\nwal_level = replica\n"
                f"fsync = off\nmax_wal_senders = 4\nmax_connections = {max_connections}\n"
            )
        pair.pg_ctl("primary", "-w", "start")
        yield pair
    finally:
        for node in ("replica", "primary"):
            if (root / node / "postmaster.pid").exists():
                with contextlib.suppress(subprocess.CalledProcessError):
                    pair.pg_ctl(node, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
