#!/usr/bin/env python
"""Time every admin list and one detail page of each model on the demo
data, as a logged-in superuser.

    DEBUG=1 DATABASE_URL=postgres://... .venv/bin/python bench/admin_pages.py [--rounds 3]

Creates a scratch database (``flattr_bench_admin``, or
``BENCH_DATABASE_NAME``, on DATABASE_URL's server or the embedded one),
migrates it and runs ``seed_demo`` into it, logs in through Django's test
client as the demo superuser (``--email``),
then fetches each page once to warm templates and ``--rounds`` times more.
Prints one JSON object: the best time in milliseconds and the query count
per page, slowest first, and whether all are under the 300 ms target. The
scratch database is dropped at the end unless ``--keep`` is given; with
``--current`` the pages are timed on DATABASE_URL's own data instead. Never
run as a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# bench/http.py is named like the standard library's http package: take this
# folder off the import path, put the project on it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")

TARGET_MS = 300
SCRATCH = os.environ.get("BENCH_DATABASE_NAME", "flattr_bench_admin")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{SCRATCH}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--email", default="admin@example.com")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--current", action="store_true", help="time DATABASE_URL's data, no scratch database"
    )
    args = parser.parse_args()
    scratch = not args.current
    base_url = os.environ.get("DATABASE_URL", "")
    if scratch:
        from flattr_site import embedded

        # DATABASE_URL's server, or the embedded PostgreSQL (and Redis).
        os.environ.update(embedded.ensure_env(Path(__file__).resolve().parent.parent / ".data"))
        base_url = os.environ["DATABASE_URL"]
        _recreate_database(base_url)
        os.environ["DATABASE_URL"] = _with_database(base_url, SCRATCH)
    try:
        _run(args, seed=scratch)
    finally:
        if scratch and not args.keep:
            from django.db import connections

            connections.close_all()
            _recreate_database(base_url, drop_only=True)


def _run(args: argparse.Namespace, *, seed: bool) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    if seed:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from django.conf import settings
    from django.contrib import admin
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    client.force_login(User.objects.get(email=args.email))
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        first = model.objects.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first]))
    pages = {}
    for url in urls:
        client.get(url)
        best, queries, status = float("inf"), 0, 0
        for _ in range(args.rounds):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - start
            best = min(best, elapsed)
            queries, status = len(captured), response.status_code
        pages[url] = {"ms": round(best * 1000, 1), "queries": queries, "status": status}
    ordered = dict(sorted(pages.items(), key=lambda kv: -kv[1]["ms"]))
    print(
        json.dumps(
            {
                "database": "scratch, seed_demo" if seed else "DATABASE_URL as is",
                "target_ms": TARGET_MS,
                "all_under_target": all(p["ms"] < TARGET_MS for p in pages.values()),
                "pages": ordered,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
