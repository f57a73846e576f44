"""Pay after the month in a browser (issue 24): a supporter saves a card in
test mode, flattrs, the month is closed, approved by another staff member
and settled, and the creator sees the transfer; a supporter whose card
needs 3D Secure confirms through the e-mail's link. Each page passes axe
(WCAG 2.2 AA) and fits a phone."""

import io

import pytest
from django.core.management import call_command

from funding.models import Charge, ChargeStatus
from notifications.models import Event
from payouts.services.demo import payout_demo_close
from tests.e2e.conftest import log_in
from tests.e2e.test_nav_browser import PHONE, WCAG_AA, sideways, violations
from tests.factories import PASSWORD, UserFactory, thing
from tests.funding.helpers import ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def after_mode(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.PAYMENT_GATEWAY = "test"
    settings.FLATTR_FUNDING = "after"
    settings.FLATTR_TRANSFER_AFTER_DAYS = 0
    settings.FLATTR_FEE_PERCENT = 10
    return settings


def check(page) -> None:
    assert violations(page, tags=WCAG_AA) == []
    assert sideways(page) <= 0


def flattr_in_browser(page, base: str, thing_pk: int) -> None:
    page.goto(f"{base}/things/{thing_pk}/")
    page.click("button.flattr-confirm")
    page.wait_for_selector("[data-testid=flattred-on]")


def test_a_month_paid_after_it_from_card_to_transfer(chromium, platform_url, after_mode):
    UserFactory(email="boss@example.org", is_staff=True, is_superuser=True)
    UserFactory(email="second@example.org", is_staff=True, is_superuser=True)
    claire = UserFactory(username="claire", email="claire@example.org")
    ready(claire)
    sophie = UserFactory(username="sophie", email="sophie@example.org", monthly_budget_cents=300)
    paula = UserFactory(username="paula", email="paula@example.org", monthly_budget_cents=200)
    things = [thing(owner=claire, title=f"Episode {n}") for n in range(2)]

    context = chromium.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, platform_url, sophie.email, PASSWORD)
    # Saving a card in test mode: our page stands in for Stripe's.
    page.goto(f"{platform_url}/settings/payment-method/")
    check(page)
    page.click("text=Save a card or SEPA mandate")
    page.wait_for_url("**/test-checkout/**")
    page.check("input[value=pm_card_visa]")
    page.click("text=Save (test)")
    page.wait_for_url("**/settings/payment-method/**")
    assert "4242" in page.inner_text("main")
    for t in things:
        flattr_in_browser(page, platform_url, t.pk)
    page.goto(f"{platform_url}/dashboard/")
    forecast = page.inner_text("[data-testid=after-forecast]").replace("\xa0", " ")
    assert "we will charge 3.00 € to your Visa ending 4242 for your 2 flattrs" in forecast
    check(page)

    # Paula's card needs 3D Secure on every charge.
    call_command(
        "payment_method_set", paula.email, "pm_card_authenticationRequired", stdout=io.StringIO()
    )
    paula_page = chromium.new_context(viewport=PHONE).new_page()
    log_in(paula_page, platform_url, paula.email, PASSWORD)
    flattr_in_browser(paula_page, platform_url, things[0].pk)

    # Month end: closed by one staff member, approved by another, settled.
    run = payout_demo_close()
    call_command("payout_approve", run.label, "--by", "second@example.org", stdout=io.StringIO())
    call_command("payout_settle", run.label, stdout=io.StringIO())

    page.goto(f"{platform_url}/months/")
    assert "3.00" in page.inner_text("[data-testid=charge-charged]")
    check(page)

    log_in_claire = context.new_page()
    context.clear_cookies()
    log_in(log_in_claire, platform_url, claire.email, PASSWORD)
    log_in_claire.goto(f"{platform_url}/earnings/")
    earnings = log_in_claire.inner_text("[data-testid=after-earnings]").replace("\xa0", " ")
    # Sophie's 3.00 less the 10% fee: 2.70 transferred (paula has not paid yet).
    assert "2.70 €" in log_in_claire.inner_text("[data-testid=transferred]").replace("\xa0", " ")
    assert "Transferred" in earnings
    check(log_in_claire)

    # The e-mail's link: confirm, back on My months, the charge completes.
    event = Event.objects.get(type="charge.action_required", recipient=paula)
    paula_page.goto(platform_url + event.data["confirm_path"])
    assert "2.00" in paula_page.inner_text("main")
    check(paula_page)
    paula_page.click("[data-testid=charge-confirm]")
    paula_page.wait_for_url("**/months/")
    assert "your payment went through" in paula_page.inner_text("body")
    assert Charge.objects.get(supporter=paula).status == ChargeStatus.SUCCEEDED
    check(paula_page)
    call_command("payout_settle", run.label, stdout=io.StringIO())
    log_in_claire.goto(f"{platform_url}/earnings/")
    # 3.00 + 2.00 gross, 10% fee: 4.50 in all.
    assert "4.50 €" in log_in_claire.inner_text("[data-testid=transferred]").replace("\xa0", " ")
    context.close()
    paula_page.context.close()
