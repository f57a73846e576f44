"""A PgBouncer in transaction mode in front of a PostgreSQL, for tests and CI.

    python -m ops.pgbouncer -- CMD ARGS...

starts Debian's ``pgbouncer`` (``PGBOUNCER`` names another binary) in front of
``DATABASE_URL`` with its configuration in a temporary directory and on a free
port of its own, then runs CMD with ``DATABASE_URL`` pointing at the pooler,
``DATABASE_DIRECT_URL`` at the server itself and ``DATABASE_POOLER=1``.

The pooler is strict: ``pool_mode = transaction`` and ``DISCARD ALL`` after
every transaction (``server_reset_query_always``), so anything that outlives a
transaction on a server connection (a ``WITH HOLD`` cursor, ``SET`` without
``LOCAL``, a session advisory lock, a prepared statement, a temporary table)
is gone by the next one, as it would be on another pooled connection under
load. Only the test PostgreSQL's trust authentication is supported.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(database_url: str) -> tuple[str, int, str]:
    """(host or socket directory, port, user) of a postgres:// URL."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or "127.0.0.1"
    port = int(query.get("port") or parts.port or 5432)
    user = parts.username or query.get("user") or "postgres"
    return host, port, user


def pooled_url(database_url: str, port: int) -> str:
    """The same database and user, through the pooler on 127.0.0.1:port."""
    parts = urlsplit(database_url)
    query = {k: v for k, v in parse_qsl(parts.query) if k not in ("host", "port")}
    user = parts.username or "postgres"
    auth = f"{user}:{parts.password}@" if parts.password else f"{user}@"
    return urlunsplit((parts.scheme, f"{auth}127.0.0.1:{port}", parts.path, urlencode(query), ""))


@dataclass
class Pooler:
    """A running PgBouncer: its URL, and a restart as under load."""

    command: list[str]
    listen: int
    url: str
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own binary and config
            self.command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.listen)):
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"pgbouncer did not start: {err.strip()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Immediate shutdown (SIGTERM): open client and server connections
        are cut, transactions in flight included."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self, *, down_seconds: float = 0.0) -> None:
        """Stop, stay away ``down_seconds``, start again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()


@contextlib.contextmanager
def pooler_running(database_url: str, *, pool_size: int = 4) -> Iterator[Pooler]:
    """Start a strict PgBouncer in front of database_url; yield it."""
    binary = os.environ.get("PGBOUNCER") or shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        raise RuntimeError(f"pgbouncer not found ({binary}): apt install pgbouncer")
    host, port, user = _server(database_url)
    listen = _free_port()
    with tempfile.TemporaryDirectory(prefix="pgbouncer-") as tmp:
        work = Path(tmp)
        (work / "users.txt").write_text(f'"{user}" ""\n')
        (work / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    # Every database (the test databases pytest-django makes
                    # included) goes to the one server.
                    f"* = host={host} port={port}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {listen}",
                    f"unix_socket_dir = {work}",
                    "auth_type = trust",
                    f"auth_file = {work / 'users.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {pool_size}",
                    "max_client_conn = 200",
                    "server_reset_query = DISCARD ALL",
                    "server_reset_query_always = 1",
                    # The test databases are dropped at the end: a pooled
                    # connection idle for a second is closed.
                    "server_idle_timeout = 1",
                    "ignore_startup_parameters = extra_float_digits,options",
                    f"logfile = {work / 'pgbouncer.log'}",
                    f"pidfile = {work / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        command = [binary, "-q", str(work / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root: it runs as the owner of the
            # server's socket directory (who can reach the socket), or nobody.
            owner = Path(host).stat().st_uid if host.startswith("/") else 65534
            for path in (work, *work.iterdir()):
                os.chown(path, owner, -1)
            command[1:1] = ["-u", pwd.getpwuid(owner).pw_name]
        pooler = Pooler(command, listen, pooled_url(database_url, listen))
        try:
            pooler.start()
            yield pooler
        finally:
            pooler.stop()


@contextlib.contextmanager
def running(database_url: str, *, pool_size: int = 4) -> Iterator[str]:
    """Start a strict PgBouncer in front of database_url; yield its URL."""
    with pooler_running(database_url, pool_size=pool_size) as pooler:
        yield pooler.url


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m ops.pgbouncer -- CMD ARGS...", file=sys.stderr)
        return 2
    direct = os.environ.get("DATABASE_URL")
    if not direct:
        print("ops.pgbouncer: DATABASE_URL is not set", file=sys.stderr)
        return 2
    with running(direct) as url:
        env = dict(os.environ, DATABASE_URL=url, DATABASE_DIRECT_URL=direct, DATABASE_POOLER="1")
        print(f"ops.pgbouncer: DATABASE_URL through PgBouncer (transaction mode) at {url}")
        return subprocess.call(argv, env=env)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
