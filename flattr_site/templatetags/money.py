from django import template
from django.conf import settings

from flattr_site.money import format_cents

register = template.Library()


@register.filter
def cents(value, arg: str = ""):
    """``{{ 1234|cents }}`` -> ``12.34 €``; ``{{ x|cents:"sign" }}`` adds ``+``."""
    if value is None or value == "":
        return ""
    return format_cents(int(value), currency=settings.CURRENCY, sign=(arg == "sign"))
