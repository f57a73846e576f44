"""A supporter subscribes to a thing in the browser; the next month's
renewal and run count the subscription."""

import datetime as dt

import pytest

from buttons.models import Flattr, FlattrSource, Subscription
from buttons.renewal import subscriptions_renew
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, ThingFactory, UserFactory
from tests.payouts.helpers import fund

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_subscribe_from_the_thing_page_and_renew_next_month(browser_context, platform_url):
    fan = UserFactory(email="fan@example.org")
    fund(fan, 1000)
    thing = ThingFactory(title="Monthly zine")
    page = browser_context.new_page()
    log_in(page, platform_url, fan.email, PASSWORD)
    page.goto(f"{platform_url}/things/{thing.pk}/")
    page.select_option("select[name=months]", "6")
    page.click("form.subscribe-form button[type=submit]")
    page.wait_for_url("**/subscriptions/")
    assert "Monthly zine" in page.content() and "5 of 6" in page.content()
    subscription = Subscription.objects.get(supporter=fan)
    assert subscription.months_remaining == 5
    # Next month's beat: one more flattr marked as coming from the subscription.
    next_month = (subscription.last_period + dt.timedelta(days=32)).replace(day=1)
    at = dt.datetime.combine(next_month, dt.time(0, 5), tzinfo=dt.UTC)
    assert subscriptions_renew(now=at)["flattrs_created"] == 1
    renewed = Flattr.objects.get(supporter=fan, period=next_month)
    assert renewed.source == FlattrSource.SUBSCRIPTION
    page.goto(f"{platform_url}/subscriptions/")
    assert "4 of 6" in page.content()
