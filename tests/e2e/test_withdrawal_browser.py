"""A creator with earnings connects a payout account (test mode), withdraws,
and sees the withdrawal and the chart."""

import datetime as dt

import pytest

from payments.withdrawals.models import Withdrawal
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, UserFactory, earn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_creator_withdraws_in_test_mode(browser_context, platform_url, settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    creator = UserFactory(email="creator@example.org")
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    earn(creator, 4500, month=month)
    page = browser_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, platform_url, creator.email, PASSWORD)
    page.goto(f"{platform_url}/earnings/")
    assert "45.00" in page.inner_text("[data-testid=earnings-balance]")
    assert page.locator("svg.earnings-chart rect").count() >= 2
    page.click("text=Connect a payout account")
    page.wait_for_url("**/earnings/connect/test/")
    assert "No real money moves here." in page.content()
    page.click("text=Complete onboarding")
    page.wait_for_url("**/earnings/")
    assert page.inner_text("[data-testid=account-status]") == "Enabled"
    page.fill("input[name=amount]", "30")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/earnings/")
    page.locator("[data-testid=withdrawal]", has_text="Paid").wait_for()
    assert "15.00" in page.inner_text("[data-testid=earnings-balance]")
    assert Withdrawal.objects.get().status == "paid"
