"""The test-mode gateway: no real money, for development and demos.

Refused whenever ``DEBUG`` is off or another gateway is configured, so a
production site can never be paid with pretend money.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from payments.gateways.base import (
    ChargeResult,
    ChargeStatus,
    Checkout,
    Dispute,
    GatewayDeclined,
    Onboarding,
    PaymentFee,
    PaymentGateway,
    SavedMethod,
)
from payments.models import Gateway

if TYPE_CHECKING:
    from payments.models import PaymentMethod, TopUp
    from payments.withdrawals.models import PayoutAccount, Withdrawal


@dataclass(frozen=True)
class SimulatedMethod:
    """A test payment method, named and behaving as Stripe documents it."""

    kind: str
    brand: str
    last4: str
    behaviour: str | Promise  # shown on the test checkout page (lazy)


# Stripe's documented test PaymentMethod ids (docs.stripe.com/testing), plus
# the two SEPA ones standing for the test IBANs DE89370400440532013000
# (succeeds after processing) and DE62370400440532013001 (fails after it).
TEST_PAYMENT_METHODS: dict[str, SimulatedMethod] = {
    "pm_card_visa": SimulatedMethod("card", "visa", "4242", _("Succeeds.")),
    "pm_card_authenticationRequired": SimulatedMethod(
        "card", "visa", "3184", _("Every charge needs the supporter to confirm it (3D Secure).")
    ),
    "pm_card_chargeDeclinedInsufficientFunds": SimulatedMethod(
        "card", "visa", "9995", _("Declined for insufficient funds; retried later.")
    ),
    "pm_card_chargeCustomerFail": SimulatedMethod(
        "card", "visa", "0341", _("Saved, but every charge fails; waits for a new way to pay.")
    ),
    "pm_card_createDispute": SimulatedMethod(
        "card", "visa", "0259", _("Succeeds, then the supporter disputes it.")
    ),
    "pm_sepa_debit_success": SimulatedMethod(
        "sepa_debit", "", "3000", _("SEPA Direct Debit: processing, then succeeds.")
    ),
    "pm_sepa_debit_failure": SimulatedMethod(
        "sepa_debit", "", "3001", _("SEPA Direct Debit: processing, then fails.")
    ),
}


def simulated_saved_method(*, customer_id: str, payment_method_id: str) -> SavedMethod:
    """What saving a test method gives, as Stripe would report it."""
    method = TEST_PAYMENT_METHODS[payment_method_id]
    if method.kind == "sepa_debit":
        return SavedMethod(
            customer_id=customer_id,
            payment_method_id=payment_method_id,
            kind=method.kind,
            last4=method.last4,
            mandate_reference=f"TEST-{customer_id.upper()}-{method.last4}",
        )
    return SavedMethod(
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        kind=method.kind,
        brand=method.brand,
        last4=method.last4,
        exp_month=12,
        exp_year=timezone.now().year + 3,
    )


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

    # --- saving a way to pay (fundweb) --------------------------------------
    # Our own page stands in for Stripe's Checkout in setup mode: it lists
    # the test methods and records the one chosen on the setup row.

    def customer_ensure(self, *, user_id: int, email: str) -> str:
        self.ensure_available()
        return f"test_cus_{user_id}"

    def setup_start(
        self, *, customer_id: str, idempotency_key: str, success_url: str, cancel_url: str
    ) -> Checkout:
        self.ensure_available()
        session_id = "test_cs_" + idempotency_key.replace(":", "_")
        return Checkout(
            url=reverse("payment_method_test_checkout", args=[session_id]),
            session_id=session_id,
        )

    def setup_result(self, *, session_id: str) -> SavedMethod | None:
        from payments.models import PaymentMethodSetup

        setup = PaymentMethodSetup.objects.filter(
            session_id=session_id, gateway=Gateway.TEST
        ).first()
        if setup is None or setup.payment_method_id not in TEST_PAYMENT_METHODS:
            return None
        return simulated_saved_method(
            customer_id=setup.customer_id, payment_method_id=setup.payment_method_id
        )

    def method_detach(self, *, method: PaymentMethod) -> None:
        return None

    # --- charges and transfers (funding) ----------------------------------
    # Stateless and deterministic, like Stripe's test mode answering the
    # same idempotency key with the same result: every id encodes what it
    # needs. A payment intent is ``pi_test_<key>__<payment method id>``,
    # so its later state (SEPA, disputes) follows from the method it
    # charged; a transfer is ``tr_test_<key>__<destination>``.

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
        self.ensure_available()
        intent = f"pi_test_{idempotency_key.replace(':', '_')}__{method.payment_method_id}"
        return simulated_charge_result(intent, amount_cents=amount_cents, first=True)

    def charge_find(
        self,
        *,
        method: PaymentMethod,
        idempotency_key: str,
        amount_cents: int,
        since: dt.datetime,
    ) -> ChargeResult | None:
        # Stateless: the charge the first call with this key made, as it
        # answered (its id and outcome follow from the key and the method).
        # Sending again would answer the same, so adopting it is harmless.
        return self.charge_off_session(
            method=method,
            amount_cents=amount_cents,
            currency=settings.CURRENCY.lower(),
            idempotency_key=idempotency_key,
            transfer_group="",
            statement_descriptor="",
            metadata={},
        )

    def charge_refresh(
        self, *, payment_intent_id: str, deadline: float | None = None
    ) -> ChargeResult:
        self.ensure_available()
        return simulated_charge_result(payment_intent_id, amount_cents=None, first=False)

    def charge_cancel(self, *, payment_intent_id: str) -> ChargeResult | None:
        # A simulated confirmation is recorded by our return page at once:
        # a charge still waiting for it can always be canceled.
        self.ensure_available()
        return None

    def charge_confirm_url(self, *, payment_intent_id: str, return_url: str) -> str:
        # No Stripe page in test mode: back to our return URL, which tells
        # the charge it was confirmed (``funding.services.charge_succeeded``).
        separator = "&" if "?" in return_url else "?"
        return f"{return_url}{separator}payment_intent={payment_intent_id}"

    def disputes_poll(self, *, payment_intent_ids: list[str]) -> list[Dispute]:
        return [
            Dispute(
                dispute_id=f"dp_test_{intent}",
                payment_intent_id=intent,
                amount_cents=int(intent.split("__amount_")[-1]) if "__amount_" in intent else 0,
            )
            for intent in payment_intent_ids
            if _method_of(intent) == "pm_card_createDispute"
        ]

    def transfer_send(
        self,
        *,
        destination: str | None,
        amount_cents: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
    ) -> str:
        self.ensure_available()
        return f"tr_test_{idempotency_key.replace(':', '_')}__{destination or 'platform'}"

    def transfer_find(
        self,
        *,
        destination: str | None,
        idempotency_key: str,
        transfer_group: str,
        since: dt.datetime,
    ) -> str | None:
        # Stateless, as ``charge_find``: the transfer this key made.
        return self.transfer_send(
            destination=destination,
            amount_cents=0,
            currency=settings.CURRENCY.lower(),
            idempotency_key=idempotency_key,
            transfer_group=transfer_group,
        )

    def transfer_reversal_find(
        self, *, transfer_id: str, idempotency_key: str, since: dt.datetime
    ) -> str | None:
        # Stateless, as ``charge_find``: the reversal this key made, if the
        # transfer could be reversed.
        if transfer_id.endswith(TEST_SPENT_ACCOUNT):
            return None
        return self.transfer_reverse(
            transfer_id=transfer_id, amount_cents=0, idempotency_key=idempotency_key
        )

    def transfer_reverse(self, *, transfer_id: str, amount_cents: int, idempotency_key: str) -> str:
        self.ensure_available()
        if transfer_id.endswith(TEST_SPENT_ACCOUNT):
            raise GatewayDeclined("the connected account's balance is spent")
        return f"trr_test_{idempotency_key.replace(':', '_')}"


# A connected account id whose transfers cannot be reversed (its balance is
# spent), for the debt path in test mode.
TEST_SPENT_ACCOUNT = "acct_test_spent"


def _method_of(intent: str) -> str:
    return intent.split("__")[1] if "__" in intent else ""


def simulated_charge_result(intent: str, *, amount_cents: int | None, first: bool) -> ChargeResult:
    """What Stripe's documented test payment methods do: ``pm_card_visa``
    and ``pm_card_createDispute`` succeed (the latter disputed at the next
    poll), ``pm_card_authenticationRequired`` needs the supporter on every
    charge, ``pm_card_chargeDeclinedInsufficientFunds`` is declined
    (retryable), ``pm_card_chargeCustomerFail`` and unknown ids fail for
    good; the SEPA ones are processing when charged and final (succeeded,
    failed) when asked again."""
    method = _method_of(intent)
    if amount_cents is not None and method == "pm_card_createDispute":
        intent = f"{intent}__amount_{amount_cents}"
    fee = simulated_fee(amount_cents) if amount_cents else None
    if method in ("pm_card_visa", "pm_card_createDispute"):
        return ChargeResult(
            status=ChargeStatus.SUCCEEDED,
            payment_intent_id=intent,
            charge_id=f"ch_{intent}",
            fee_cents=fee,
        )
    if method == "pm_card_authenticationRequired":
        return ChargeResult(
            status=ChargeStatus.REQUIRES_ACTION,
            payment_intent_id=intent,
            reason="authentication_required",
        )
    if method == "pm_card_chargeDeclinedInsufficientFunds":
        return ChargeResult(
            status=ChargeStatus.FAILED,
            payment_intent_id=intent,
            reason="insufficient_funds",
            retryable=True,
        )
    if method in ("pm_sepa_debit_success", "pm_sepa_debit_failure"):
        if first:
            return ChargeResult(status=ChargeStatus.PROCESSING, payment_intent_id=intent)
        if method == "pm_sepa_debit_success":
            # A simulated SEPA debit costs nothing (a known fee of 0).
            return ChargeResult(
                status=ChargeStatus.SUCCEEDED,
                payment_intent_id=intent,
                charge_id=f"ch_{intent}",
                fee_cents=0,
            )
        return ChargeResult(
            status=ChargeStatus.FAILED,
            payment_intent_id=intent,
            reason="insufficient_funds",
            retryable=True,
        )
    return ChargeResult(
        status=ChargeStatus.FAILED,
        payment_intent_id=intent,
        reason="card_declined",
        retryable=False,
    )
