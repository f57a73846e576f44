"""The interface every payment gateway implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from payments.models import TopUp
    from payments.withdrawals.models import PayoutAccount, Withdrawal


class GatewayError(Exception):
    """Base of the errors a gateway raises; the message is safe to show."""


class GatewayUnavailable(GatewayError):
    """The gateway cannot be used here (test mode with DEBUG off, no key)."""


class GatewayDeclined(GatewayError):
    """The processor answered and refused; retrying the same call will not help."""


class GatewayUnreachable(GatewayError):
    """The processor could not be reached; retry with the same idempotency key."""


@dataclass(frozen=True)
class Checkout:
    url: str  # where to send the supporter
    session_id: str | None = None  # the processor's id, recorded on the top-up


@dataclass(frozen=True)
class PaymentFee:
    fee_cents: int
    charge_id: str | None


@dataclass(frozen=True)
class Onboarding:
    url: str
    remote_account_id: str | None = None


class PaymentGateway(ABC):
    #: ``payments.models.Gateway`` value stored on the rows it writes.
    name: str
    #: Moves no real money; every page it touches says so.
    is_test: bool
    #: Set by ``gateway_get``: whether this is the gateway configured now.
    current: bool = False

    @abstractmethod
    def available(self) -> bool:
        """Whether money can move through this gateway right now."""

    def ensure_available(self) -> None:
        if not self.available():
            raise GatewayUnavailable(f"the {self.name} payment gateway is not available")

    @abstractmethod
    def checkout_start(self, *, topup: TopUp, success_url: str, cancel_url: str) -> Checkout:
        """Start paying ``topup`` (idempotency key ``topup:<id>``)."""

    @abstractmethod
    def checkout_cancel(self, *, topup: TopUp) -> None:
        """Stop a pending checkout so it can no longer be paid. Raises
        GatewayDeclined when the processor says it was paid already."""

    @abstractmethod
    def payment_fee(self, *, payment_intent_id: str) -> PaymentFee:
        """The processor's fee for a paid top-up."""

    @abstractmethod
    def payout_account_start(
        self, *, account: PayoutAccount, email: str, refresh_url: str, return_url: str
    ) -> Onboarding:
        """Create (once, keyed on ``payout-account:<id>``) the connected
        account and return where the creator finishes onboarding."""

    @abstractmethod
    def transfer_create(
        self, *, withdrawal: Withdrawal, destination: str | None, currency: str
    ) -> str:
        """Pay ``withdrawal`` (idempotency key ``withdrawal:<id>``); returns
        the transfer id. GatewayDeclined or GatewayUnreachable on failure."""

    @abstractmethod
    def refund_create(self, *, topup: TopUp, amount_cents: int, idempotency_key: str) -> str:
        """Refund ``amount_cents`` of ``topup``'s payment to the card it came
        from; returns the refund id. The same ``idempotency_key`` refunds
        once. GatewayDeclined or GatewayUnreachable on failure."""
