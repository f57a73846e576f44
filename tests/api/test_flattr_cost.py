"""What a flattr through the API costs the database, pinned: a change that
adds a query to the hottest write shows here (docs/scaling.md, "The
edges"). The rules themselves are tested in test_views_flattrs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buttons.models import Flattr
from notifications.models import Event
from tests.api.conftest import ApiClient, token_for
from tests.factories import FlattrFactory, ThingFactory, UserFactory, fund

# Committed for real: the counters are updated on commit, and the queries
# counted are those production makes (no test savepoints).
pytestmark = pytest.mark.django_db(transaction=True)


def _flattr(client: ApiClient, thing) -> tuple[object, list[str]]:
    """The response and the statements of the request, each shortened to
    what it does; the event's dispatch, which Celery runs eagerly in tests
    (a worker's job in production), is left out."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/things/{thing.pk}/flattr")
    statements, in_dispatch = [], False
    for sql in (q["sql"] for q in queries.captured_queries):
        if statements[-1:] == ["BEGIN"] and sql.startswith('SELECT "notifications_event"'):
            statements.pop()
            in_dispatch = True
        if in_dispatch:
            in_dispatch = sql != "COMMIT"
            continue
        statements.append(_what(sql))
    return response, statements


def _what(sql: str) -> str:
    if sql.startswith("WITH"):  # the flattr's one statement: what it reads and writes
        tables = ("ledger_account", "buttons_flattr", "notifications_event")
        return "WITH " + " ".join(table for table in tables if table in sql)
    for table in ("buttons_thing", "ledger_account", "buttons_flattr", "notifications_event"):
        if table in sql:
            return f"{sql.split()[0]} {table}"
    return sql


def test_a_flattr_of_a_thing_nobody_read_yet_takes_three_statements(api, supporter, thing):
    FlattrFactory(thing=thing)
    api.get("/user")  # the token's principal is cached now
    response, queries = _flattr(api, thing)
    assert response.status_code == 200, response.content
    assert response.json()["thing"]["flattrs"] == 2
    assert response.json()["thing"]["owner"]["username"] == thing.owner.username
    # the thing and its owner; the wallet's check, the flattr and its event
    # in one statement; both counts (cold counters) in one query
    assert queries == [
        "SELECT buttons_thing",  # the thing and its owner
        # the wallet and the receivable checked, the flattr and its event
        # written, in one statement and one commit
        "WITH ledger_account buttons_flattr notifications_event",
        "SELECT buttons_flattr",  # both counts, once for a cold thing
    ]
    assert Event.objects.filter(key__startswith="flattr:").count() == 1


def test_a_flattr_of_a_busy_thing_takes_two_statements(thing):
    first, second = UserFactory(), UserFactory()
    fund(first, 500)
    fund(second, 500)
    assert ApiClient(token_for(first)).post(f"/things/{thing.pk}/flattr").status_code == 200
    client = ApiClient(token_for(second))
    client.get("/user")  # the token's principal is cached now
    response, queries = _flattr(client, thing)
    assert response.status_code == 200, response.content
    assert response.json()["thing"]["flattrs"] == 2  # counted once each
    assert queries == [
        "SELECT buttons_thing",
        "WITH ledger_account buttons_flattr notifications_event",
    ]
    assert Flattr.objects.filter(thing=thing).count() == 2


def test_the_count_answered_is_right_when_the_counters_are_cold(api, thing):
    others = ThingFactory.create_batch(2, owner=thing.owner)
    for other in others:
        FlattrFactory(thing=other)
    FlattrFactory.create_batch(3, thing=thing)
    response, _queries = _flattr(api, thing)
    assert response.json()["thing"]["flattrs"] == 4
