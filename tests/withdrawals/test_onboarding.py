"""Connecting a payout account (Stripe Express or the test-mode stand-in)."""

import pytest
from django.urls import reverse

from payments.withdrawals.models import PayoutAccount
from tests.factories import UserFactory
from tests.stripe_fake import post_event


@pytest.mark.django_db
class TestOnboarding:
    def test_stripe_express_account_and_link(self, client, stripe_fake):
        user = UserFactory()
        client.force_login(user)
        response = client.post(reverse("payout_account_connect"))
        assert response["Location"] == "https://connect.stripe.com/setup/e/acct_1/xyz"
        account = PayoutAccount.objects.get(user=user)
        create = next(c for c in stripe_fake.calls if c["path"] == "/v1/accounts")
        assert create["idempotency_key"] == f"payout-account:{account.pk}"
        assert create["params"]["type"] == "express"
        assert account.stripe_account_id == "acct_1" and account.status == "pending"

    @pytest.mark.parametrize(
        "remote, status",
        [
            ({"capabilities": {"transfers": "active"}, "payouts_enabled": True}, "enabled"),
            (
                {
                    "capabilities": {"transfers": "inactive"},
                    "requirements": {"disabled_reason": "requirements.past_due"},
                },
                "restricted",
            ),
            ({"capabilities": {"transfers": "pending"}}, "pending"),
        ],
    )
    def test_account_updated_keeps_the_status(self, client, stripe_fake, remote, status):
        user = UserFactory()
        PayoutAccount.objects.create(user=user, stripe_account_id="acct_9")
        r = post_event(client, "account.updated", {"id": "acct_9", "object": "account", **remote})
        assert r.json()["result"] == "processed"
        assert PayoutAccount.objects.get(user=user).status == status

    def test_unknown_account_is_refused(self, client, stripe_fake):
        r = post_event(
            client, "account.updated", {"id": "acct_nope", "capabilities": {"transfers": "active"}}
        )
        assert r.json()["result"] == "refused"

    def test_test_mode_onboarding(self, client, test_mode):
        user = UserFactory()
        client.force_login(user)
        response = client.post(reverse("payout_account_connect"))
        page = client.get(response["Location"])
        assert "No real money moves here." in page.content.decode()
        client.post(response["Location"], {"action": "complete"})
        assert PayoutAccount.objects.get(user=user).status == "enabled"
        client.post(response["Location"], {"action": "restrict"})
        assert PayoutAccount.objects.get(user=user).status == "restricted"

    def test_no_keys_and_debug_off_is_refused(self, client, settings):
        settings.DEBUG = False
        settings.STRIPE_SECRET_KEY = ""
        user = UserFactory()
        client.force_login(user)
        response = client.post(reverse("payout_account_connect"), follow=True)
        assert "Payouts are unavailable" in response.content.decode()
