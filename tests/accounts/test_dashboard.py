"""The dashboard: balance, budget, this month's flattrs with their estimated
share, the next payout date, earnings and what needs attention."""

import pytest
from django.urls import reverse

from tests.factories import FlattrFactory, ThingFactory, UserFactory
from tests.payouts.helpers import fund

pytestmark = pytest.mark.django_db


def test_dashboard_shows_estimated_shares_that_add_up_to_the_amount(client):
    user = UserFactory(monthly_budget_cents=1000)
    fund(user, 763)
    for title in ("First", "Second", "Third"):
        FlattrFactory(supporter=user, thing__title=title)
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    page = response.content.decode()
    assert "7.63" in page
    shares = [f.estimated_share for f in response.context["d"]["flattrs"]]
    assert shares == [255, 254, 254]
    assert "Needs your attention" in page  # the wallet holds less than the budget
    assert "Next payout" in page


def test_empty_wallet_is_flagged(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Your wallet is empty" in page


def test_empty_wallet_is_not_flagged_to_a_creator_who_does_not_flattr(client):
    creator = UserFactory()
    ThingFactory(owner=creator)
    client.force_login(creator)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Your wallet is empty" not in page


def test_empty_wallet_is_flagged_to_a_creator_who_flattrs(client):
    creator = UserFactory()
    ThingFactory(owner=creator)
    FlattrFactory(supporter=creator)
    client.force_login(creator)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Your wallet is empty" in page
