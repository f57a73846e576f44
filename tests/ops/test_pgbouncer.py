"""Through PgBouncer in transaction mode (each transaction may get another
server connection): what outlives a transaction is gone by the next one."""

import datetime as dt

import psycopg
import pytest

from payouts import selectors, services
from payouts.models import PayoutRun
from tests.factories import flattr, supporter, thing

P = dt.date(2026, 9, 1)


@pytest.fixture
def run(transactional_db) -> PayoutRun:
    creators = [supporter(budget=0, username=f"creator{i:02d}") for i in range(3)]
    for i in range(7):
        fan = supporter(budget=300, username=f"fan{i:02d}", email=f"fan{i}@example.org")
        for c in creators:
            flattr(fan, thing(owner=c), P)
    return services.payout_run_compute(period=P)


def test_the_pooler_forgets_session_state(through_pgbouncer):
    """The fixture is strict: a session SET is gone in the next transaction."""
    with psycopg.connect(through_pgbouncer, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("SET application_name = 'kept?'")
        conn.execute("SET statement_timeout = '7s'")
        assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)


def test_payout_reports_stream_through_the_pooler(run, through_pgbouncer, monkeypatch):
    # Small pages, so the reads take several round trips (several transactions).
    monkeypatch.setattr(selectors, "REPORT_PAGE", 2, raising=False)
    report = selectors.payout_report(run=run)
    assert [s["username"] for s in report["supporters"]] == [f"fan{i:02d}" for i in range(7)]
    assert sum(s["taken"] for s in report["supporters"]) == 7 * 300
    assert [c["username"] for c in report["creators"]] == [f"creator{i:02d}" for i in range(3)]
    assert sum(c["gross"] for c in report["creators"]) == 7 * 300
    rows = list(selectors.payout_report_rows(run=run))
    assert [r[:2] for r in rows[1:]] == [
        *(["supporter", f"fan{i:02d}"] for i in range(7)),
        *(["creator", f"creator{i:02d}"] for i in range(3)),
    ]
    assert rows[1][2] == "fan0@example.org" and rows[1][3] == 300 and rows[1][5] == 300


def test_payout_reports_page_by_key_directly(run, monkeypatch):
    """The same pages without a pooler, one line a page (no line lost or twice)."""
    monkeypatch.setattr(selectors, "REPORT_PAGE", 1, raising=False)
    names = [s["username"] for s in selectors.payout_report_supporters(run=run)]
    assert names == [f"fan{i:02d}" for i in range(7)]
    rows = list(selectors.payout_report_rows(run=run, roles=("creator",), euros=True))
    assert [r[1] for r in rows[1:]] == [f"creator{i:02d}" for i in range(3)]


def test_a_flattr_while_the_pooler_restarts_answers_503_and_counts_once(transactional_db, client):
    """PgBouncer stopped under a request: 503 with Retry-After (never a 500)
    and nothing written; asked again once it is back: one flattr."""
    from django.db import close_old_connections, connection

    from api import services as api_services
    from buttons.models import Flattr
    from ops import pgbouncer
    from tests.ops.conftest import direct_url, django_through

    fan = supporter(budget=300, username="fan")
    post = thing(owner=supporter(budget=0, username="maker"))
    _token, raw = api_services.personal_token_create(user=fan, name="t", scopes="flattr")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    url = f"/rest/v2/things/{post.pk}/flattr"
    with pgbouncer.pooler_running(direct_url()) as pooler, django_through(pooler.url):
        assert client.get(f"/rest/v2/things/{post.pk}").status_code == 200  # connected
        pooler.stop()
        refused = client.post(url, **auth)
        assert refused.status_code == 503
        assert refused.json()["error"] == "temporarily_unavailable"
        assert refused["Retry-After"]
        pooler.start()
        # What the request cycle does between requests (CONN_HEALTH_CHECKS;
        # Django's test client leaves it out).
        connection.errors_occurred = True
        close_old_connections()
        assert not Flattr.objects.filter(supporter=fan, thing=post).exists()
        assert client.post(url, **auth).status_code == 200
        assert client.post(url, **auth).status_code == 403  # already flattred
    assert Flattr.objects.filter(supporter=fan, thing=post).count() == 1
