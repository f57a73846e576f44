"""Declines as Stripe reports them, through a whole settle with the Stripe
gateway (the local server answering as Stripe does): the three answers
of docs/payments.md, "How answers are read"."""

from __future__ import annotations

import pytest

from funding.models import Charge, ChargeStatus
from ledger.models import AccountKind
from ledger.selectors import ledger_problems
from payments.models import PaymentMethod, PaymentMethodStatus
from tests.factories import balance
from tests.funding.helpers import settle, stripe_charged

pytestmark = pytest.mark.django_db


def decline(decline_code: str, advice_code: str | None = None) -> tuple[int, dict, dict]:
    error = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": decline_code,
        "message": "Your card was declined.",
        "charge": "ch_402",
        "payment_intent": {
            "id": "pi_402",
            "object": "payment_intent",
            "status": "requires_payment_method",
        },
    }
    if advice_code:
        error["advice_code"] = advice_code
    return (402, {"error": error}, {})


@pytest.mark.parametrize(
    ("decline_code", "advice_code", "status", "method_status"),
    [
        ("insufficient_funds", None, ChargeStatus.FAILED, PaymentMethodStatus.ACTIVE),
        (
            "insufficient_funds",
            "do_not_try_again",
            ChargeStatus.NEEDS_METHOD,
            PaymentMethodStatus.UNUSABLE,
        ),
        (
            "generic_decline",
            "confirm_card_data",
            ChargeStatus.NEEDS_METHOD,
            PaymentMethodStatus.UNUSABLE,
        ),
        ("do_not_honor", "try_again_later", ChargeStatus.FAILED, PaymentMethodStatus.ACTIVE),
        ("fraudulent", None, ChargeStatus.GIVEN_UP, PaymentMethodStatus.UNUSABLE),
    ],
)
def test_each_decline_gets_its_documented_answer(
    stripe_after, decline_code, advice_code, status, method_status
):
    stripe_after.state.next_answers.append(decline(decline_code, advice_code))
    charge = stripe_charged("pm_card_visa")
    assert (charge.status, charge.reason) == (status, decline_code)
    assert PaymentMethod.objects.get().status == method_status
    if status == ChargeStatus.GIVEN_UP:
        # Nothing more is owed nor tried: the month's flattrs stay pledges.
        assert charge.next_attempt_at is None
        assert balance(charge.supporter, AccountKind.RECEIVABLE) == 0
        figures = settle()
        assert figures["failed"]["count"] == 1
        assert Charge.objects.get().attempts == 1
    assert ledger_problems() == []
