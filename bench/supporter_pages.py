#!/usr/bin/env python
"""Supporter pages on a large database: My months, the month's statement
(its proof, ``months/<YYYY-MM>/proof.json``) and the dashboard, for
supporters of the latest posted run.

    DATABASE_URL=postgres://.../flattr_bench_part .venv/bin/python bench/supporter_pages.py

Meant for a database kept by ``bench/payday.py --keep`` (with
``--history-months 12``: a year of posted months); payday calls
``time_supporter_pages`` itself when it has history. Each page is asked
twice per supporter through Django's test client (the first warms the
caches); the second is timed, whole and its SQL alone (the part a longer
history could grow; the rest is rendering). Prints milliseconds (median,
p95, max per page; SQL median and max; most queries) as JSON. Reads only. Never run as a test.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]


def time_supporter_pages(*, run=None, supporters: int = 20) -> dict:
    """Milliseconds of each supporter page for ``supporters`` supporters
    with a line in ``run`` (default: the latest posted run), spread over
    the ids."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.urls import reverse

    from accounts.models import User
    from payouts.models import PayoutRun, RunStatus, SupporterLine

    if run is None:
        run = PayoutRun.objects.filter(status=RunStatus.POSTED).order_by("-period").first()
    oldest = PayoutRun.objects.filter(status=RunStatus.POSTED).order_by("period").first()
    if run is None or oldest is None:
        raise SystemExit("no posted run: run bench/payday.py --keep first")
    ids = list(
        SupporterLine.objects.filter(run=run, flattrs__gt=0)
        .order_by("supporter_id")
        .values_list("supporter_id", flat=True)
    )
    picked = ids[:: max(1, len(ids) // supporters)][:supporters]
    pages = {
        "my_months": lambda: reverse("my_months"),
        "dashboard": lambda: reverse("dashboard"),
        "statement": lambda: reverse("statement_proof", args=[f"{run.period:%Y-%m}"]),
        "statement_oldest": lambda: reverse("statement_proof", args=[f"{oldest.period:%Y-%m}"]),
    }
    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    )
    timings: dict[str, list[float]] = {name: [] for name in pages}
    sql_timings: dict[str, list[float]] = {name: [] for name in pages}
    queries: dict[str, int] = {}
    spent: dict[str, float] = {"ms": 0.0, "n": 0}

    def timed(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["ms"] += (time.perf_counter() - t0) * 1000
            spent["n"] += 1

    statuses: dict[str, dict[int, int]] = {name: {} for name in pages}
    with plain_static, connection.execute_wrapper(timed):
        for supporter_id in picked:
            client = Client()
            client.force_login(User.objects.get(pk=supporter_id))
            for name, url in pages.items():
                for _attempt in range(2):
                    spent.update(ms=0.0, n=0)
                    t0 = time.perf_counter()
                    response = client.get(url(), HTTP_HOST="localhost")
                    elapsed = (time.perf_counter() - t0) * 1000
                if response.status_code not in (200, 404):
                    raise RuntimeError(f"{name} answered {response.status_code}")
                statuses[name][response.status_code] = (
                    statuses[name].get(response.status_code, 0) + 1
                )
                timings[name].append(elapsed)
                sql_timings[name].append(spent["ms"])
                queries[name] = max(queries.get(name, 0), int(spent["n"]))
    result = {}
    for name, values in timings.items():
        values.sort()
        result[name] = {
            "median": round(statistics.median(values), 1),
            "p95": round(values[min(len(values) - 1, int(len(values) * 0.95))], 1),
            "max": round(values[-1], 1),
            "sql_median": round(statistics.median(sql_timings[name]), 1),
            "sql_max": round(max(sql_timings[name]), 1),
            "queries_max": queries[name],
            "statuses": statuses[name],
        }
    return {
        "run": f"{run.period:%Y-%m}",
        "oldest_run": f"{oldest.period:%Y-%m}",
        "posted_runs": PayoutRun.objects.filter(status=RunStatus.POSTED).count(),
        "supporters": len(picked),
        "ms": result,
    }


def main() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM buttons_flattr")
        flattrs = cursor.fetchone()[0]
    result = {"flattrs": flattrs, **time_supporter_pages()}
    print(json.dumps(result, indent=2))  # noqa: T201
    return result


if __name__ == "__main__":
    main()
