"""Money at the edges: parse euros typed by people, format cents for them.

Inside the platform money is always integer cents. Decimal is used only
here, where text becomes cents and cents become text.
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
# Plain decimal notation only: "8", "8.5", "-2.50"; no exponents, no "inf".
PLAIN_AMOUNT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class AmountTooLarge(ValueError):
    """More digits than any real amount has."""


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def format_cents(cents: int, *, currency: str = "EUR", sign: bool = False) -> str:
    """``1234`` -> ``12.34 €`` (localised: ``12,34 €`` in French)."""
    text = number_format(cents_to_decimal(abs(cents)), decimal_pos=2, use_l10n=True)
    symbol = "€" if currency == "EUR" else currency
    prefix = "-" if cents < 0 else ("+" if sign and cents > 0 else "")
    return f"{prefix}{text}\u00a0{symbol}"


def parse_euros(text: str, *, allow_negative: bool = False) -> int:
    """Parse ``8``, ``8.5``, ``-2,50`` into cents; at most two decimals.

    Raises ValueError with a human-readable reason.
    """
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not PLAIN_AMOUNT.match(raw):
        raise ValueError(f"{text!r} is not an amount")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount")
    if not value.is_finite():
        raise ValueError(f"{text!r} is not an amount")
    try:
        exact = value == value.quantize(CENT)
    except InvalidOperation:
        # More digits than Decimal's precision: no real amount is this large.
        raise AmountTooLarge(f"{text!r} is too large") from None
    if not exact:
        raise ValueError(f"{text!r} has more than two decimals")
    if value < 0 and not allow_negative:
        raise ValueError(f"{text!r} is negative")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


class EuroAmountField(forms.DecimalField):
    """A form field typed in euros (``8.50`` or ``8,50``) that cleans to cents."""

    def __init__(
        self, *, min_cents: int | None = None, max_cents: int | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("localize", True)
        self.min_cents, self.max_cents = min_cents, max_cents
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace("\u00a0", "").replace(" ", "")
            if value.count(",") == 1 and "." not in value:
                value = value.replace(",", ".")
            if value and not PLAIN_AMOUNT.match(value.replace(",", ".")):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def clean(self, value: Any) -> int | None:  # cents
        amount = super().clean(value)
        if amount is None:
            return None
        cents = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
        if cents < 0:
            raise ValidationError(_("Enter a positive amount."), code="negative")
        if self.min_cents is not None and cents < self.min_cents:
            raise ValidationError(
                _("The minimum is %(amount)s.") % {"amount": format_cents(self.min_cents)},
                code="min_value",
            )
        if self.max_cents is not None and cents > self.max_cents:
            raise ValidationError(
                _("The maximum is %(amount)s.") % {"amount": format_cents(self.max_cents)},
                code="max_value",
            )
        return cents

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):
            return cents_to_decimal(value)
        return super().prepare_value(value)
