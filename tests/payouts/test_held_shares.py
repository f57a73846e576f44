"""My months shows which shares are held for a creator who has not joined,
and when they come back (issue 12)."""

import datetime as dt

import pytest
from django.urls import reverse

from payouts import services
from tests.factories import PASSWORD, UserFactory, flattr, supporter, thing

pytestmark = pytest.mark.django_db
P = dt.date(2026, 3, 1)


def run_month(period, staff):
    run = services.payout_run_compute(period=period)
    services.payout_run_approve(run=run, actor=staff, queue=False)
    services.payout_run_post(run_id=run.pk)


def test_a_held_share_says_when_it_returns_then_who_claimed_it(client, settings):
    settings.FLATTR_UNCLAIMED_MONTHS = 6
    staff = UserFactory(is_staff=True, is_superuser=True)
    fan = supporter(budget=200, balance=5000)
    orphan = thing(owner=None, title="Old post")
    flattr(fan, orphan, P)
    run_month(P, staff)
    assert client.login(email=fan.email, password=PASSWORD)

    page = client.get(reverse("my_months")).content.decode()
    assert "held until claimed (back to you after September 2026" in page

    creator = UserFactory(display_name="Ada")
    orphan.owner = creator
    orphan.save(update_fields=["owner"])
    run_month(dt.date(2026, 4, 1), staff)
    page = client.get(reverse("my_months")).content.decode()
    assert "Ada" in page and "claimed" in page
    assert "back to you after" not in page
