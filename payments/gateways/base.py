"""The interface every payment gateway implements."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from payments.models import PaymentMethod, TopUp
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


class GatewayRateLimited(GatewayUnreachable):
    """The processor answered 429; retry the same call after ``retry_after``
    seconds (its ``Retry-After``, else a backoff of the caller's)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- Pay after the month (FLATTR_FUNDING=after) ------------------------------


@dataclass(frozen=True)
class SavedMethod:
    """What a completed setup saved, as ``payments.models.PaymentMethod``
    stores it (never a card number)."""

    customer_id: str
    payment_method_id: str
    kind: str  # PaymentMethodKind: "card" or "sepa_debit"
    brand: str = ""  # "visa"...; empty for SEPA
    last4: str = ""
    exp_month: int | None = None
    exp_year: int | None = None
    mandate_reference: str = ""


class ChargeStatus:
    """The outcome of an off-session charge, as the processor reports it."""

    SUCCEEDED = "succeeded"
    # SEPA: accepted, final within about 14 business days.
    PROCESSING = "processing"
    # Strong customer authentication needed: the supporter must confirm.
    REQUIRES_ACTION = "requires_action"
    # Declined; ``retryable`` says whether the same method may be tried again.
    FAILED = "failed"


@dataclass(frozen=True)
class ChargeResult:
    status: str  # a ChargeStatus value
    payment_intent_id: str
    charge_id: str = ""
    # Stripe's decline code or error code: "insufficient_funds",
    # "generic_decline", "authentication_required", "expired_card",
    # "payment_method_unusable"...; empty when it succeeded.
    reason: str = ""
    # FAILED only: True when a later retry of the same method may succeed
    # (insufficient funds, generic decline); False when the supporter must
    # save a new way to pay first (expired, removed, unusable).
    retryable: bool = False
    # The processor's fee in cents, when known (succeeded charges). None
    # for a success whose balance transaction does not exist yet (SEPA can
    # succeed before it): the fee is asked again later (``charge_refresh``).
    fee_cents: int | None = None
    # FAILED only: the processor says never to charge this supporter again
    # for it (Stripe's ``fraudulent``, ``merchant_blacklist``): given up
    # at once, no retry even with a new way to pay.
    give_up: bool = False


@dataclass(frozen=True)
class Dispute:
    """Money taken back from a succeeded charge: a card chargeback, a SEPA
    refund claim or a late SEPA failure."""

    dispute_id: str
    payment_intent_id: str
    amount_cents: int


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

    # --- Pay after the month (FLATTR_FUNDING=after) --------------------------
    # Called outside any database transaction, each with an idempotency key
    # derived from a committed row. Not abstract: a gateway without them
    # refuses after mode with GatewayUnavailable.

    def customer_ensure(self, *, user_id: int, email: str) -> str:
        """The processor Customer of supporter ``user_id`` (created once,
        idempotency key ``customer:<user id>``); returns its id."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot save ways to pay")

    def setup_start(
        self, *, customer_id: str, idempotency_key: str, success_url: str, cancel_url: str
    ) -> Checkout:
        """Start a Checkout session in setup mode (card or SEPA Direct Debit,
        for off-session use); returns where to send the supporter and the
        session id."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot save ways to pay")

    def setup_result(self, *, session_id: str) -> SavedMethod | None:
        """What the setup session saved; None while it is not complete."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot save ways to pay")

    def method_detach(self, *, method: PaymentMethod) -> None:
        """Detach a removed method from its Customer (harmless when gone)."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot save ways to pay")

    def charge_off_session(
        self,
        *,
        method: PaymentMethod,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
        statement_descriptor: str,
        metadata: dict[str, str],
    ) -> ChargeResult:
        """Charge ``method`` off session (PaymentIntent, ``confirm=true``).
        The same ``idempotency_key`` charges once and returns the first
        answer. GatewayRateLimited / GatewayUnreachable: call again later
        with the same key."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot charge after the month")

    def charge_find(
        self,
        *,
        method: PaymentMethod,
        idempotency_key: str,
        amount_cents: int,
        since: dt.datetime,
    ) -> ChargeResult | None:
        """The charge an earlier ``charge_off_session`` with this key (for
        ``amount_cents``) made, looked for among the customer's charges made
        from ``since`` (by the key the gateway puts in their metadata), as
        its state is now; None when there is none. For an attempt older than the processor keeps
        its keys: sent again, the key could make a second charge."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot charge after the month")

    def charge_refresh(
        self, *, payment_intent_id: str, deadline: float | None = None
    ) -> ChargeResult:
        """The charge's state now (SEPA processing, after the supporter
        confirmed, after a webhook that was missed), with its fee once the
        processor knows it. ``deadline``: seconds the whole call may take
        (a webhook's fetch uses a short one)."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot charge after the month")

    def charge_cancel(self, *, payment_intent_id: str) -> ChargeResult | None:
        """Cancel a charge that waits for the supporter's confirmation (they
        saved another way to pay). None once it is canceled: nothing was or
        will be taken by it. When it can no longer be canceled (confirmed
        meanwhile, or processing), its state instead, to apply."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot charge after the month")

    def charge_confirm_url(self, *, payment_intent_id: str, return_url: str) -> str:
        """Where a supporter confirms a charge that needs authentication (the
        processor's page; back to ``return_url`` afterwards)."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot charge after the month")

    def disputes_poll(self, *, payment_intent_ids: list[str]) -> list[Dispute]:
        """Disputes on these charges known now. Stripe reports disputes by
        webhook and returns []; the test gateway reports those of
        ``pm_card_createDispute`` here."""
        return []

    def transfer_send(
        self,
        *,
        destination: str | None,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
    ) -> str:
        """Pay a creator's connected account from the platform balance
        (separate charges and transfers); returns the transfer id."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot transfer after the month")

    def transfer_find(
        self,
        *,
        destination: str | None,
        idempotency_key: str,
        transfer_group: str,
        since: dt.datetime,
    ) -> str | None:
        """The id of the transfer an earlier ``transfer_send`` with this key
        made (to ``destination``, in ``transfer_group``, from ``since``, by
        the key in its metadata); None when there is none."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot transfer after the month")

    def transfer_reversal_find(
        self, *, transfer_id: str, idempotency_key: str, since: dt.datetime
    ) -> str | None:
        """The id of the reversal an earlier ``transfer_reverse`` with this
        key made of ``transfer_id`` (by the key in its metadata); None when
        there is none."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot transfer after the month")

    def transfer_reverse(self, *, transfer_id: str, amount_cents: int, idempotency_key: str) -> str:
        """Take ``amount_cents`` of a transfer back (a dispute's recovery);
        returns the reversal id. GatewayDeclined when it cannot be reversed
        (the creator's balance is spent): record a debt instead."""
        raise GatewayUnavailable(f"the {self.name} gateway cannot transfer after the month")
