"""``{% supporter_outlook user as outlook %}``: what this month's split will
really take and share, for pages of apps that must not import payouts."""

from django import template

from payouts import selectors

register = template.Library()


@register.simple_tag
def supporter_outlook(user, adding=False):
    if not getattr(user, "is_authenticated", False):
        return None
    return selectors.supporter_outlook(user=user, adding=bool(adding))


@register.simple_tag
def supporter_dashboard(user):
    if not getattr(user, "is_authenticated", False):
        return None
    return selectors.supporter_dashboard(user=user)


@register.simple_tag
def creator_thing_earnings(user):
    if not getattr(user, "is_authenticated", False):
        return []
    return selectors.creator_thing_earnings(user=user)
