from django import template

from core.languages import language_name

register = template.Library()


@register.filter(name="language_name")
def language_name_filter(code):
    """``{{ "en_GB"|language_name }}`` -> "English" (translated)."""
    return language_name(str(code or "")) if code else ""
