"""Balance, reserved and available: one selector (wallet_figures), shown the
same way by one include on the wallet page, the dashboard and My months."""

import html
import re

import pytest
from django.urls import reverse

from payouts import selectors
from payouts.services.compute import add_months, current_period
from tests.factories import UserFactory, flattr, supporter, thing
from tests.payouts.helpers import compute

pytestmark = pytest.mark.django_db


def _figures(page: str) -> tuple[str, str, str]:
    found = [
        re.search(rf'data-testid="wallet-{name}">([^<]*)<', page)
        for name in ("balance", "reserved", "available")
    ]
    assert all(found), page
    return tuple(m.group(1).strip().replace("\xa0", " ") for m in found)  # type: ignore[union-attr]


@pytest.fixture
def reserved_user(client):
    """7.00 in the wallet, 2.50 reserved by last month's computed run."""
    fan = supporter(budget=250, balance=700)
    last = add_months(current_period(), -1)
    flattr(fan, thing(owner=UserFactory()), last)
    compute(last)
    client.force_login(fan)
    return fan


def test_selector_gives_balance_reserved_and_available(reserved_user):
    figures = selectors.wallet_figures(user=reserved_user)
    last = add_months(current_period(), -1)
    assert (figures["balance"], figures["reserved"], figures["available"]) == (700, 250, 450)
    assert figures["pending"] == [{"period": last, "taken": 250, "status": "draft"}]


def test_available_never_goes_below_zero():
    fan = supporter(budget=500, balance=300)
    last = add_months(current_period(), -1)
    flattr(fan, thing(owner=UserFactory()), last)
    compute(last)
    figures = selectors.wallet_figures(user=fan)
    assert (figures["balance"], figures["reserved"], figures["available"]) == (300, 300, 0)


@pytest.mark.parametrize("page", ["wallet", "dashboard", "my_months"])
def test_every_page_shows_the_same_three_figures(client, reserved_user, page):
    content = html.unescape(client.get(reverse(page)).content.decode())
    assert _figures(content) == ("7.00 €", "2.50 €", "4.50 €")


def test_my_months_shows_the_pending_month(client, reserved_user):
    content = client.get(reverse("my_months")).content.decode()
    pending = re.search(r'data-testid="pending-month">(.*?)</section>', content, re.S)
    assert pending is not None
    assert "2.50" in pending.group(1) and "waiting for review" in pending.group(1)
    french = client.get(reverse("my_months"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Réservé" in french and "en attente de vérification" in french


def test_nothing_reserved_shows_the_balance_as_available(client):
    fan = supporter(budget=250, balance=700)
    client.force_login(fan)
    content = html.unescape(client.get(reverse("wallet")).content.decode())
    assert _figures(content) == ("7.00 €", "0.00 €", "7.00 €")
    assert 'data-testid="pending-month"' not in client.get(reverse("my_months")).content.decode()
