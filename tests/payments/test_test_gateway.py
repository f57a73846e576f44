"""The test-mode gateway used when no Stripe keys are set (DEBUG only)."""

import pytest
from django.urls import reverse

from ledger import selectors as ledger_selectors
from payments.models import TopUp, TopUpStatus
from tests.factories import UserFactory


@pytest.fixture
def supporter(client, test_mode):
    """A supporter logged in to ``client``, in test mode."""
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.mark.django_db
class TestTestModeGateway:
    def test_pay_credits_net_of_the_simulated_fee(self, client, supporter):
        user = supporter
        response = client.post(reverse("topup"), {"amount": "8"})
        checkout = client.get(response["Location"])
        body = checkout.content.decode()
        assert "No real money moves here." in body
        assert "TEST MODE" in body
        # 1.5% of 8.00 = 0.12, + 0.25 = 0.37
        assert "0.37" in body and "7.63" in body
        result = client.post(response["Location"], {"action": "pay"}, follow=True)
        assert "credited 7.63" in result.content.decode()
        assert ledger_selectors.wallet_balance(user=user) == 763
        wallet = client.get(reverse("wallet")).content.decode()
        assert "7.63" in wallet and "0.37" in wallet and "8.00" in wallet
        # Paying again changes nothing.
        client.post(response["Location"], {"action": "pay"})
        assert ledger_selectors.wallet_balance(user=user) == 763

    def test_fail_credits_nothing(self, client, supporter):
        user = supporter
        response = client.post(reverse("topup"), {"amount": "20"})
        client.post(response["Location"], {"action": "fail"})
        assert TopUp.objects.get().status == TopUpStatus.FAILED
        assert ledger_selectors.wallet_balance(user=user) == 0

    def test_fee_rounds_half_up(self):
        from payments.services import simulated_gateway_fee

        assert simulated_gateway_fee(800) == 37  # 12 + 25
        assert simulated_gateway_fee(500) == 33  # 7.5 -> 8, + 25
        assert simulated_gateway_fee(2000) == 55
        assert simulated_gateway_fee(50000) == 775

    def test_someone_elses_topup_is_404(self, client, supporter):
        owner = supporter
        url = client.post(reverse("topup"), {"amount": "8"})["Location"]
        client.force_login(UserFactory())
        assert client.post(url, {"action": "pay"}).status_code == 404
        assert ledger_selectors.wallet_balance(user=owner) == 0

    def test_gateway_refused_when_debug_is_off(self, client, settings, supporter):
        user = supporter
        url = client.post(reverse("topup"), {"amount": "8"})["Location"]
        settings.DEBUG = False
        assert client.post(url, {"action": "pay"}).status_code == 404
        assert ledger_selectors.wallet_balance(user=user) == 0
