"""The confirm popup's POST, the flattr people click: what it costs the
database (pinned), that the confirm page's context is built only for a
refusal, and that its rate limits (one Redis round trip) stay atomic
(docs/scaling.md, "The edges"). The rules are tested in test_flattr.py and
test_views_flattr.py."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from buttons.click_limits import parse_rate
from buttons.models import Flattr
from tests.buttons.helpers import flattr_post
from tests.concurrency import at_once
from tests.factories import ThingFactory, UserFactory

# Committed for real: the statements counted are production's, and racing
# requests see each other's commits.
committed = pytest.mark.django_db(transaction=True)


def _what(sql: str) -> str:
    if sql.startswith("WITH"):  # the flattr's one statement: what it reads and writes
        tables = ("ledger_account", "buttons_flattr", "notifications_event")
        return "WITH " + " ".join(table for table in tables if table in sql)
    for table in (
        "django_session",
        "accounts_user",
        "buttons_thing",
        "ledger_account",
        "buttons_flattr",
        "notifications_event",
    ):
        if table in sql:
            return f"{sql.split()[0]} {table}"
    return sql


def _statements(call) -> tuple[object, list[str]]:
    """The response and the request's statements, shortened; the event's
    dispatch (eager in tests, a worker's job in production) left out."""
    with CaptureQueriesContext(connection) as queries:
        response = call()
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


@committed
def test_the_popup_post_flattrs_before_reading_anything_for_the_page():
    supporter = UserFactory(wallet_cents=1000)
    thing = ThingFactory()
    client = Client()
    client.force_login(supporter)
    url = reverse("flattr_confirm", args=[thing.pk])
    response, statements = _statements(lambda: client.post(url, {"popup": "1"}))
    assert response.status_code == 200
    assert "postMessage" in response.content.decode()
    assert statements[:5] == [
        "SELECT accounts_user",
        "SELECT django_session",  # the session and its user
        "SELECT accounts_user",  # the thing and its owner (thing_or_404)
        # the wallet and the receivable checked, the flattr and its event
        # written, in one statement (autocommit: no BEGIN, no COMMIT)
        "WITH ledger_account buttons_flattr notifications_event",
        "SELECT buttons_flattr",  # both counts of a cold thing, in one
    ]
    # Then only what the thank-you page's layout asks (is its menu a
    # creator's?); nothing of the confirm page (this month's flattr).
    assert "SELECT buttons_flattr" not in statements[5:]
    assert Flattr.objects.filter(thing=thing, supporter=supporter).count() == 1


@committed
def test_a_refused_click_still_shows_the_confirm_page_with_its_top_up_link():
    thing = ThingFactory(title="A post worth a flattr")
    client = Client()
    client.force_login(UserFactory())  # an empty wallet
    response = client.post(reverse("flattr_confirm", args=[thing.pk]), {"popup": "1"})
    assert response.status_code == 402
    page = response.content.decode()
    assert 'data-code="no_means"' in page
    assert "A post worth a flattr" in page
    assert reverse("topup") in page
    assert not Flattr.objects.exists()


@committed
def test_two_clicks_at_once_cannot_both_take_the_last_place(settings):
    settings.FLATTR_CLICK_RATE_PER_USER = "1/h"
    supporter = UserFactory(wallet_cents=1000)
    things = ThingFactory.create_batch(2)
    clients = [Client() for _ in things]
    for client in clients:
        client.force_login(supporter)
    statuses = at_once(2, lambda i: flattr_post(clients[i], things[i]).status_code)
    assert sorted(statuses) == [200, 429]
    assert Flattr.objects.filter(supporter=supporter).count() == 1


@committed
def test_a_refused_click_gives_its_place_back():
    supporter = UserFactory(wallet_cents=1000)
    thing = ThingFactory()
    client = Client()
    client.force_login(supporter)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.conf.settings.FLATTR_CLICK_RATE_PER_USER", "2/h")
        assert flattr_post(client, thing).status_code == 200
        for _ in range(3):  # flattr_once, refused: not counted as accepted
            assert flattr_post(client, thing).status_code == 409
        assert flattr_post(client, ThingFactory()).status_code == 200
        assert flattr_post(client, ThingFactory()).status_code == 429


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [("60/h", (60, 3600)), ("5/m", (5, 60)), ("100/30s", (100, 30)), (" 2 / d ", (2, 86400))],
)
def test_rates_read_like_django_ratelimits(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "60", "60/x", "a/h", "-1/h"])
def test_a_malformed_rate_is_refused(rate):
    with pytest.raises(ValueError):
        parse_rate(rate)
