"""Earnings per thing: this month's flattrs, last month's and all-time
shares from posted runs, and public supporters' names."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from buttons.services import current_period
from payouts.selectors import creator_thing_earnings
from payouts.services.compute import add_months
from tests.factories import FlattrFactory, UserFactory
from tests.payouts.helpers import flattr, supporter, thing

pytestmark = pytest.mark.django_db


def test_per_thing_figures_come_from_posted_runs_and_this_months_flattrs(client):
    last = add_months(current_period(), -1)
    creator = UserFactory(username="claire")
    UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    loved, quiet = thing(owner=creator, title="Loved"), thing(owner=creator, title="Quiet")
    fan = supporter(budget=300, balance=1000, display_name="Fan Public", flattrs_public=True)
    flattr(fan, loved, last, day=2)
    flattr(fan, quiet, last, day=3)
    call_command("payout_compute", f"{last:%Y-%m}")
    call_command("payout_approve", f"{last:%Y-%m}", "--by", "boss@example.org")
    FlattrFactory(thing=loved)

    rows = {row["thing"].title: row for row in creator_thing_earnings(user=creator)}
    assert rows["Loved"]["last_month"] == 150 and rows["Loved"]["all_time"] == 150
    assert rows["Quiet"]["last_month"] == 150
    assert rows["Loved"]["month_flattrs"] == 1 and rows["Quiet"]["month_flattrs"] == 0
    assert [p.public_name for p in rows["Loved"]["supporters"]] == ["Fan Public"]

    client.force_login(creator)
    page = client.get(reverse("earnings")).content.decode()
    assert "Per thing" in page and "1.50" in page and "Fan Public" in page


def test_shares_of_a_draft_run_are_not_earnings_yet():
    period = dt.date(2026, 9, 1)
    creator = UserFactory()
    fan = supporter(budget=300, balance=1000)
    flattr(fan, thing(owner=creator), period)
    call_command("payout_compute", "2026-09")
    assert [row["all_time"] for row in creator_thing_earnings(user=creator)] == [0]
