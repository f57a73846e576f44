"""A supporter tops up 8 EUR with the test-mode gateway and sees the net
credit and the fee on the wallet page."""

import pytest

from ledger import selectors as ledger_selectors
from tests.e2e.conftest import log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_top_up_eight_euros_in_test_mode(browser_context, platform_url, settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    user = UserFactory(email="saver@example.org")
    page = browser_context.new_page()
    log_in(page, platform_url, user.email, PASSWORD)
    page.goto(f"{platform_url}/wallet/topup/")
    page.click("button[name=preset][value='8.00']")
    page.wait_for_url("**/test-checkout/")
    assert "No real money moves here." in page.content()
    page.click("button[value=pay]")
    page.wait_for_selector("text=Paid. Your wallet was credited 7.63")
    page.goto(f"{platform_url}/wallet/")
    assert "7.63" in page.inner_text("[data-testid=wallet-balance]")
    statement = page.inner_text("table")
    assert "8.00" in statement and "0.37" in statement and "+7.63" in statement
    assert "TEST MODE" in page.content()
    assert ledger_selectors.wallet_balance(user=user) == 763
