"""The test-mode gateway: no real money, for development and demos.

Refused whenever ``DEBUG`` is off or another gateway is configured, so a
production site can never be paid with pretend money.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from payments.gateways.base import Checkout, Onboarding, PaymentFee, PaymentGateway
from payments.models import Gateway

if TYPE_CHECKING:
    from payments.models import TopUp
    from payments.withdrawals.models import PayoutAccount, Withdrawal


def simulated_fee(amount_cents: int) -> int:
    """The simulated processor fee: 1.5% + 0.25 EUR, rounded half up."""
    return (amount_cents * 15 + 500) // 1000 + 25


class TestModeGateway(PaymentGateway):
    name = Gateway.TEST
    is_test = True

    def available(self) -> bool:
        return bool(settings.DEBUG) and self.current

    def checkout_start(self, *, topup: TopUp, success_url: str, cancel_url: str) -> Checkout:
        self.ensure_available()
        return Checkout(url=reverse("topup_test_checkout", args=[topup.pk]))

    def checkout_cancel(self, *, topup: TopUp) -> None:
        return None

    def payment_fee(self, *, payment_intent_id: str) -> PaymentFee:
        raise NotImplementedError("test-mode payments are settled by simulated_checkout_pay")

    def fee_for(self, amount_cents: int) -> int:
        return simulated_fee(amount_cents)

    def payout_account_start(
        self, *, account: PayoutAccount, email: str, refresh_url: str, return_url: str
    ) -> Onboarding:
        self.ensure_available()
        return Onboarding(url=reverse("payout_account_test"))

    def transfer_create(
        self, *, withdrawal: Withdrawal, destination: str | None, currency: str
    ) -> str:
        self.ensure_available()
        return f"test_tr_{withdrawal.pk}"

    def refund_create(self, *, topup: TopUp, amount_cents: int, idempotency_key: str) -> str:
        self.ensure_available()
        return f"test_re_{idempotency_key.replace(':', '_')}"
