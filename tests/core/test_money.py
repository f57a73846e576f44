import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.money import EuroAmountField, format_cents, parse_euros


@pytest.mark.parametrize(
    "text, cents", [("8", 800), ("8.5", 850), ("-2,50", -250), (" 0.01 ", 1), ("12.00", 1200)]
)
def test_parse_euros(text, cents):
    assert parse_euros(text, allow_negative=True) == cents


@pytest.mark.parametrize("text", ["1e3", "inf", "NaN", "8.001", "", "abc", "1.2.3", "--5"])
def test_parse_euros_refuses_anything_but_plain_amounts(text):
    with pytest.raises(ValueError):
        parse_euros(text, allow_negative=True)


def test_negative_needs_permission():
    with pytest.raises(ValueError, match="negative"):
        parse_euros("-1")


@pytest.mark.parametrize("text", ["1e3", "Infinity", "0x10"])
def test_form_field_refuses_exponents(text):
    with pytest.raises(ValidationError):
        EuroAmountField().clean(text)


def test_form_field_cleans_to_cents():
    assert EuroAmountField(min_cents=500).clean("8,50") == 850


def test_format_cents():
    # An earlier request in this process may have left French active.
    with translation.override("en"):
        assert format_cents(123456) == "1234.56\u00a0€"
        assert format_cents(-5) == "-0.05\u00a0€"
        assert format_cents(5, sign=True) == "+0.05\u00a0€"
    with translation.override("fr"):
        assert format_cents(123456) == "1234,56\u00a0€"
