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
