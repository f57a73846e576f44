"""Reading Stripe's answers in after mode: a PaymentIntent's state as a
``ChargeResult`` (``intent_result``), a decline as one of three answers
(``declined``: retry, a new way to pay, give up), the fee Stripe kept, and
a statement descriptor suffix Stripe accepts (``descriptor_suffix``).
Nothing here calls Stripe; the calls are in ``stripe_after``,
``stripe_methods`` and ``stripe_lookups``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from payments.gateways.base import ChargeResult, ChargeStatus

# How a decline is answered, from Stripe's documentation
# (docs.stripe.com/declines/card, "Retrying issuer declines", and
# docs.stripe.com/declines/codes). Three answers: retry the same method on
# our schedule, wait for the supporter to save a new way to pay, or give up.
#
# Stripe's ``advice_code`` (card issuer declines) comes first when present:
# ``try_again_later`` -> retry; ``do_not_try_again`` (the issuer will never
# approve it: retrying risks the card networks' excessive-retry fees) and
# ``confirm_card_data`` (the card details must be collected again) -> a new
# way to pay.
RETRY_ADVICE = frozenset({"try_again_later"})
NEW_METHOD_ADVICE = frozenset({"do_not_try_again", "confirm_card_data"})
# Without an advice code, the decline code (or the error code) decides.
# Temporary by the table's "next steps" (try again, possibly later):
RETRYABLE_DECLINES = frozenset(
    {
        "insufficient_funds",
        "generic_decline",
        "do_not_honor",
        "try_again_later",
        "processing_error",
        "issuer_not_available",
        "reenter_transaction",
        "approve_with_id",
        "card_velocity_exceeded",
        "withdrawal_count_limit_exceeded",
        "call_issuer",
        "no_action_taken",
    }
)
# Never to be charged again for this (a blocked or fraudulent payer): the
# charge is given up at once.
GIVE_UP_DECLINES = frozenset({"fraudulent", "merchant_blacklist"})
# Anything else (expired_card, lost_card, stolen_card, pickup_card,
# incorrect_number, card_not_supported, currency_not_supported,
# revocation_of_authorization, stop_payment_order, an unknown code...)
# waits for a new way to pay: an unknown code is not retried blindly.


def field(obj: Any, key: str) -> Any:
    """``obj[key]`` or ``obj.key`` (Stripe objects, the dicts of an error),
    None when ``obj`` is None, an id string, or has no such field."""
    if obj is None or isinstance(obj, str):
        return None
    try:
        return obj[key]
    except (KeyError, TypeError):
        return getattr(obj, key, None)


def _fee(intent: Any) -> int | None:
    fee = field(field(field(intent, "latest_charge"), "balance_transaction"), "fee")
    return int(fee) if fee is not None else None


def _charge_id(intent: Any) -> str:
    charge = field(intent, "latest_charge")
    if isinstance(charge, str):
        return charge
    return str(field(charge, "id") or "")


def declined(error: Mapping[str, Any] | Any, payment_intent_id: str) -> ChargeResult:
    """A decline (a 402 ``card_error``, or a PaymentIntent's
    ``last_payment_error``) read as the module's table above says."""
    code = str(field(error, "code") or "")
    decline = str(field(error, "decline_code") or "")
    advice = str(field(error, "advice_code") or "")
    if code == "authentication_required" or decline == "authentication_required":
        return ChargeResult(
            status=ChargeStatus.REQUIRES_ACTION,
            payment_intent_id=payment_intent_id,
            reason="authentication_required",
        )
    reason = decline or code or "declined"
    give_up = reason in GIVE_UP_DECLINES
    if give_up:
        retryable = False
    elif advice in RETRY_ADVICE:
        retryable = True
    elif advice in NEW_METHOD_ADVICE:
        retryable = False
    else:
        retryable = reason in RETRYABLE_DECLINES
    return ChargeResult(
        status=ChargeStatus.FAILED,
        payment_intent_id=payment_intent_id,
        charge_id=str(field(error, "charge") or ""),
        reason=reason,
        retryable=retryable,
        give_up=give_up,
    )


# Stripe's rules for a statement descriptor (docs.stripe.com/get-started/
# account/statement-descriptors): Latin characters only, none of < > \ ' " *,
# at least one letter in the prefix and in the suffix, 22 characters in all
# (prefix, "* " and suffix; what is longer is cut on the statement). A
# suffix breaking them makes Stripe refuse the charge, so one is sent only
# when it can be made valid.
_DESCRIPTOR_REFUSED = re.compile(r"[<>\\'\"*]")
SUFFIX_MAX = 22


def descriptor_suffix(text: str) -> str:
    """``text`` as a valid statement descriptor suffix: accents folded to
    Latin letters, other characters Stripe refuses dropped, spaces
    collapsed, at most 22 characters; "" when no letter is left (then the
    account's own descriptor is shown)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    kept = "".join(c for c in folded if c.isprintable())
    kept = " ".join(_DESCRIPTOR_REFUSED.sub(" ", kept).split())[:SUFFIX_MAX].strip()
    return kept if any(c.isalpha() for c in kept) else ""


def intent_result(intent: Any) -> ChargeResult:
    """A PaymentIntent's state as a ChargeResult."""
    status = field(intent, "status")
    pi_id = str(field(intent, "id"))
    if status == "succeeded":
        return ChargeResult(
            status=ChargeStatus.SUCCEEDED,
            payment_intent_id=pi_id,
            charge_id=_charge_id(intent),
            fee_cents=_fee(intent),
        )
    if status == "processing":
        return ChargeResult(
            status=ChargeStatus.PROCESSING, payment_intent_id=pi_id, charge_id=_charge_id(intent)
        )
    if status in ("requires_action", "requires_confirmation"):
        return ChargeResult(
            status=ChargeStatus.REQUIRES_ACTION,
            payment_intent_id=pi_id,
            reason="authentication_required",
        )
    error = field(intent, "last_payment_error")
    if status == "requires_payment_method" and error is not None:
        return declined(error, pi_id)
    return ChargeResult(
        status=ChargeStatus.FAILED, payment_intent_id=pi_id, reason=str(status), retryable=False
    )
