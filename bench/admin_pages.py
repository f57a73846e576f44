#!/usr/bin/env python
"""Time every admin list and one detail page of each model on the current
database (run ``manage.py seed_demo`` first), as a logged-in superuser.

    DEBUG=1 .venv/bin/python bench/admin_pages.py [--rounds 3] [--email admin@example.com]

Each page is fetched once to warm templates, then ``--rounds`` times; prints
one JSON object: the best time in milliseconds and the query count per page,
slowest first, and whether all are under the 300 ms target. Never run as a
test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# bench/http.py is named like the standard library's http package: take this
# folder off the import path, put the project on it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")

TARGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--email", default="admin@example.com")
    args = parser.parse_args()

    import django

    django.setup()
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
                "target_ms": TARGET_MS,
                "all_under_target": all(p["ms"] < TARGET_MS for p in pages.values()),
                "pages": ordered,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
