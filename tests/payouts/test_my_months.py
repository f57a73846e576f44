"""The supporter's "My months" page: past months and a live preview."""

import pytest
from django.urls import reverse

from payouts import services
from payouts.services.compute import current_period
from tests.factories import PASSWORD, UserFactory, flattr, owe, supporter, thing
from tests.payouts.helpers import P

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def test_preview_splits_the_budget_like_the_month_end_would(client):
    s = supporter(budget=200, balance=1000)
    creator = UserFactory()
    now = current_period()
    for minute in range(5):
        flattr(s, thing(owner=creator, title=f"Song {minute}"), now, minute=minute)
    flattr(s, thing(owner=s), now, minute=9)  # own thing: never counted
    _login(client, s)
    response = client.get(reverse("my_months"))
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview["count"], preview["amount"], preview["each"]) == (5, 200, 40)
    assert [share["amount"] for share in preview["shares"]] == [40] * 5
    assert "each of your 5 flattrs would give 0.40\u00a0€" in response.content.decode()


def test_preview_gives_the_remainder_to_the_earliest_and_nothing_when_owing(client):
    s = supporter(budget=100, balance=1000)
    now = current_period()
    for minute in range(3):
        flattr(s, thing(owner=UserFactory()), now, minute=minute)
    _login(client, s)
    shares = client.get(reverse("my_months")).context["preview"]["shares"]
    assert [share["amount"] for share in shares] == [34, 33, 33]
    owe(s, 300)
    preview = client.get(reverse("my_months")).context["preview"]
    assert preview["owes"] is True and preview["amount"] == 0


def test_posted_month_lists_where_each_share_went(client):
    creator = UserFactory(display_name="Claire")
    s = supporter(budget=300, balance=1000)
    flattr(s, thing(owner=creator, title="Essay"), P)
    flattr(s, thing(owner=None, title="Orphan"), P, minute=1)
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    services.payout_run_post(run_id=run.pk)
    _login(client, s)
    response = client.get(reverse("my_months"))
    months = response.context["months"]
    assert len(months) == 1 and months[0]["taken"] == 300
    assert sorted((m["thing"].title, m["amount"]) for m in months[0]["shares"]) == [
        ("Essay", 150),
        ("Orphan", 150),
    ]
    body = response.content.decode()
    assert "Essay" in body and "held until claimed" in body and "3.00\u00a0€" in body


def test_a_draft_month_is_not_shown_and_login_is_required(client):
    s = supporter(budget=300, balance=1000)
    flattr(s, thing(owner=UserFactory()), P)
    services.payout_run_compute(period=P)
    assert client.get(reverse("my_months")).status_code == 302
    _login(client, s)
    assert client.get(reverse("my_months")).context["months"] == []


def _post(period, boss):
    run = services.payout_run_compute(period=period)
    services.payout_run_approve(run=run, actor=boss, queue=False)
    services.payout_run_post(run_id=run.pk)


def test_my_months_and_dashboard_queries_do_not_grow_with_the_months(client):
    """Issue 25: a year of history costs My months and the dashboard no
    more statements than one month (My months reads the shares, things and
    holdings of every month at once)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payouts.services.compute import add_months

    boss = UserFactory(is_staff=True, is_superuser=True)
    s = supporter(budget=300, balance=5000)
    months = [add_months(P, i - 3) for i in range(4)]
    for i, period in enumerate(months):
        flattr(s, thing(owner=UserFactory(), title=f"Essay {i}"), period)
        flattr(s, thing(owner=None, title=f"Orphan {i}"), period, minute=1)
    _post(months[0], boss)
    _login(client, s)
    client.get(reverse("my_months"))
    with CaptureQueriesContext(connection) as one:
        response = client.get(reverse("my_months"))
    assert len(response.context["months"]) == 1
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as dashboard_one:
        assert client.get(reverse("dashboard")).status_code == 200
    for period in months[1:]:
        _post(period, boss)
    with CaptureQueriesContext(connection) as four:
        response = client.get(reverse("my_months"))
    shown = response.context["months"]
    assert [m["period"] for m in shown] == months[::-1]
    assert [sorted((x["thing"].title, x["amount"]) for x in m["shares"]) for m in shown] == [
        [(f"Essay {i}", 150), (f"Orphan {i}", 150)] for i in (3, 2, 1, 0)
    ]
    assert response.content.decode().count("held until claimed") == 4
    assert len(four) == len(one), [q["sql"][:80] for q in four]
    with CaptureQueriesContext(connection) as dashboard_four:
        assert client.get(reverse("dashboard")).status_code == 200
    assert len(dashboard_four) == len(dashboard_one)


def test_shares_tables_name_their_columns_in_french(client):
    """This month's and a posted month's shares are one table markup:
    column headers scoped, the creator or what became of the share."""
    creator = UserFactory(display_name="Claire")
    s = supporter(budget=300, balance=5000)
    flattr(s, thing(owner=creator, title="Essay"), P)
    flattr(s, thing(owner=None, title="Orphan"), P, minute=1)
    _post(P, UserFactory(is_staff=True, is_superuser=True))
    flattr(s, thing(owner=creator, title="Song"), current_period())
    _login(client, s)
    body = client.get(reverse("my_months"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert body.count('<th scope="col">Créateur</th>') == 2
    assert body.count("Claire") == 2
    assert "retenue jusqu’à revendication" in body


def test_preview_reads_the_creators_with_the_flattrs(client):
    """This month's preview names each share's creator without a query a
    creator: five creators cost what one does."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    s = supporter(budget=500, balance=5000)
    now = current_period()
    flattr(s, thing(owner=UserFactory(), title="Song 0"), now)
    _login(client, s)
    client.get(reverse("my_months"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("my_months"))
    for minute in range(1, 5):
        flattr(s, thing(owner=UserFactory(), title=f"Song {minute}"), now, minute=minute)
    with CaptureQueriesContext(connection) as five:
        response = client.get(reverse("my_months"))
    assert response.context["preview"]["count"] == 5
    assert len(five) == len(one), [q["sql"][:80] for q in five]
