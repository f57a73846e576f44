"""A supporter deletes their account and asks for the wallet back; a staff
member approves the wallet refund in the admin, and it is paid back once."""

import pytest

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind
from payments.services import topups
from payments.withdrawals.models import Withdrawal, WithdrawalKind
from tests.e2e.conftest import log_in
from tests.e2e.test_journeys_browser import shot
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_deleted_account_wallet_is_refunded_after_admin_review(
    browser_context, platform_url, settings
):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    supporter = UserFactory(email="leaving@example.org", username="leaving")
    topup, _url = topups.topup_create(user=supporter, amount_cents=1000)
    topups.simulated_checkout_pay(topup=topup)  # fee 0.40: 9.60 in the wallet
    staff = UserFactory(email="staff@example.org", is_staff=True, is_superuser=True)

    page = browser_context.new_page()
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, platform_url, supporter.email, PASSWORD)
    page.goto(f"{platform_url}/settings/data/")
    assert "9.60" in page.inner_text("legend")
    page.check("input[name=wallet_choice][value=refund]")
    page.fill("input[name=confirm]", "leaving")
    page.click("button.danger")
    page.wait_for_url(f"{platform_url}/")
    assert "Your account was deleted" in page.content()

    refund = Withdrawal.objects.get(user=supporter)
    assert (refund.kind, refund.status, refund.amount_cents) == (
        WithdrawalKind.WALLET_REFUND,
        "awaiting_review",
        960,
    )

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, platform_url, staff.email, PASSWORD)
    page.goto(f"{platform_url}/admin/withdrawals/withdrawal/?kind__exact=wallet_refund")
    assert "9.60" in page.inner_text("#result_list")
    page.check(f"input[name=_selected_action][value='{refund.pk}']")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    assert "Wallet refund" in page.inner_text("#content")
    page.click("input[type=submit][value='Yes, I am sure']")
    page.wait_for_url("**/admin/withdrawals/withdrawal/**")

    refund.refresh_from_db()
    assert refund.status == "paid" and refund.reviewed_by_id == staff.pk
    assert [r["amount_cents"] for r in refund.refunds] == [960]
    page.goto(f"{platform_url}/admin/withdrawals/withdrawal/{refund.pk}/change/")
    assert f"#{topup.pk}: 9.60" in page.inner_text("#content")
    shot(page, "admin-wallet-refund")
    assert ledger_selectors.wallet_balance(user=supporter) == 0
    assert ledger_selectors.user_balance(user=supporter, kind=AccountKind.PENDING_WITHDRAWAL) == 0
