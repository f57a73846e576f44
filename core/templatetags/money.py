from django import template
from django.conf import settings

from core.money import format_cents

register = template.Library()


@register.filter
def cents(value, arg: str = ""):
    """``{{ 1234|cents }}`` -> ``12.34 €``; ``{{ x|cents:"sign" }}`` adds ``+``."""
    if value is None or value == "":
        return ""
    return format_cents(int(value), currency=settings.CURRENCY, sign=(arg == "sign"))


@register.filter
def cents_plain(value):
    """``800`` -> ``8.00``: a machine-readable euro amount for form values."""
    from core.money import cents_to_decimal

    return str(cents_to_decimal(int(value)))
