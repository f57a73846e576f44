"""Dump the database, restore it into a fresh one and check the copy.

    python manage.py restore_drill [--target-url URL] [--keep] [--jobs N] [-v 2]

pg_dump -Fc of the current database (DATABASE_DIRECT_URL when set, else
DATABASE_URL), pg_restore (--jobs in parallel: the index and constraint
builds are most of a large restore) into --target-url (which must be empty: a database
with tables is refused) or into a fresh database made next to the source and
dropped afterwards. The copy passes when ``ledger_check`` is clean there,
every published transparency root recomputed from the restored lines equals
the stored one, and the counts of users, flattrs, ledger transactions and
postings equal the source's. Exit 0 with one line (the seconds of each
stage; ``-v 2`` adds those of each check), or 1 with the difference.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ops.dburl import connection_url

COUNTS = {
    "users": "accounts_user",
    "flattrs": "buttons_flattr",
    "transactions": "ledger_transaction",
    "postings": "ledger_posting",
}


def _binary(name: str) -> str:
    """The server's own client tools first (the embedded server's are in
    pgserver), then PATH."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/{name}")]
    try:
        import pgserver

        candidates.insert(0, Path(pgserver.__file__).parent / "pginstall" / "bin" / name)
    except ImportError:
        pass
    for path in candidates:
        if path.exists() and _major(path) == major:
            return str(path)
    found = shutil.which(name)
    if not found:
        raise CommandError(f"{name} not found (PostgreSQL {major} client tools)")
    return found


def _major(path: Path) -> int:
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True).stdout  # noqa: S603
    try:
        return int(out.split()[-1].split(".")[0])
    except (IndexError, ValueError):
        return 0


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _source_url() -> str:
    """The server itself (DATABASE_DIRECT_URL, past a pooler) or the
    database this process uses."""
    direct = getattr(settings, "DATABASE_DIRECT_URL", "")
    if direct and not os.environ.get("FLATTR_TESTING"):
        return direct
    return connection_url(connection.settings_dict)


def verify_here() -> dict[str, Any]:
    """Figures of the database this process is connected to."""
    from payouts.models import RunCommitment
    from payouts.transparency import _tree, chain_root

    out: dict[str, Any] = {"counts": {}, "roots": [], "ledger_check": 0, "seconds": {}}
    began = time.monotonic()
    with connection.cursor() as cursor:
        for label, table in COUNTS.items():
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our constants
            out["counts"][label] = cursor.fetchone()[0]
    out["seconds"]["counts"], began = time.monotonic() - began, time.monotonic()
    for commitment in RunCommitment.objects.select_related("run").order_by("period"):
        _mine, fold = _tree(commitment.run, commitment.secret)
        merkle = fold.root().hex()
        root = chain_root(previous_root=commitment.previous_root, merkle_root=merkle)
        if merkle != commitment.merkle_root or root != commitment.root:
            out["roots"].append(f"{commitment.run.label}: published {commitment.root}, got {root}")
    out["published_roots"] = RunCommitment.objects.count()
    out["seconds"]["roots"], began = time.monotonic() - began, time.monotonic()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "ledger_check"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    out["seconds"]["ledger_check"] = time.monotonic() - began
    if done.returncode != 0:
        out["ledger_check"] = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["failed"]
    return out


class Command(BaseCommand):
    help = "Dump the database, restore it into a fresh one and verify the copy."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--target-url", default="", help="An empty database to restore into.")
        parser.add_argument("--keep", action="store_true", help="Keep the fresh database.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="Parallel pg_restore jobs (default: the CPUs, at most 4).",
        )
        parser.add_argument("--verify-only", action="store_true", help=argparse_hidden())

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify_only"]:
            self.stdout.write(json.dumps(verify_here()))
            return
        start = time.monotonic()
        source = _source_url()
        target = options["target_url"]
        made = ""
        if target:
            with psycopg.connect(target, autocommit=True) as conn:
                tables = conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN"
                    " ('pg_catalog', 'information_schema')"
                ).fetchone()
            if tables and tables[0]:
                raise CommandError(
                    f"refused: the target database is not empty ({tables[0]} tables)"
                )
        else:
            made = f"{connection.settings_dict['NAME']}_drill_{int(time.time())}"
            with psycopg.connect(source, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{made}"')
            target = _with_database(source, made)
        self.seconds: dict[str, float] = {}
        self.verbosity = int(options["verbosity"])
        try:
            failures = self._drill(source, target, jobs=max(1, options["jobs"]))
        finally:
            if made and not options["keep"]:
                with psycopg.connect(source, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)')
        if failures:
            for failure in failures:
                self.stderr.write(f"restore drill: {failure}")
            sys.exit(1)
        stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        self.stdout.write(
            f"restore drill: OK in {time.monotonic() - start:.1f} s ({stages};"
            f" {target.split('?')[0]})"
        )

    def _drill(self, source: str, target: str, *, jobs: int) -> list[str]:
        with tempfile.TemporaryDirectory(prefix="restore-drill-") as tmp:
            dump = Path(tmp) / "flattr.dump"
            for stage, command in (
                ("dump", [_binary("pg_dump"), "-Fc", "-f", str(dump), "--dbname", source]),
                (
                    "restore",
                    [
                        _binary("pg_restore"),
                        "--no-owner",
                        "--exit-on-error",
                        *("--jobs", str(jobs)),
                        "-d",
                        target,
                        str(dump),
                    ],
                ),
            ):
                began = time.monotonic()
                done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
                self.seconds[stage] = time.monotonic() - began
                if done.returncode != 0:
                    name = Path(command[0]).name
                    raise CommandError(f"{name} failed: {done.stderr.strip().splitlines()[-1:]}")
        began = time.monotonic()
        before = verify_here()
        self.seconds["verify source"] = time.monotonic() - began
        began = time.monotonic()
        checked = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "restore_drill", "--verify-only"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            env=dict(os.environ, DATABASE_URL=target, DATABASE_DIRECT_URL="", DATABASE_POOLER="0"),
        )
        self.seconds["verify copy"] = time.monotonic() - began
        if checked.returncode != 0:
            return [f"verifying the copy failed: {checked.stderr.strip().splitlines()[-1:]}"]
        after = json.loads(checked.stdout.strip().splitlines()[-1])
        failures = [
            f"{label}: {before['counts'][label]} in the source, {after['counts'][label]} restored"
            for label in COUNTS
            if before["counts"][label] != after["counts"][label]
        ]
        failures += [f"transparency root {r}" for r in after["roots"]]
        if after["ledger_check"]:
            failures.append(f"ledger_check on the copy: {after['ledger_check']}")
        if after.get("published_roots") != before.get("published_roots"):
            failures.append("published roots: the count differs")
        if self.verbosity >= 2:
            for side, figures in (("source", before), ("copy", after)):
                parts = ", ".join(f"{k} {v:.1f} s" for k, v in figures["seconds"].items())
                self.stdout.write(f"verify {side}: {parts}")
        return failures


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS
