"""``{% supporter_outlook user as outlook %}``: what this month's split will
really take and share, for pages of apps that must not import payouts."""

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from payouts import selectors

register = template.Library()


@register.simple_tag
def supporter_outlook(user: User | AnonymousUser, adding: bool = False) -> Any:
    if not isinstance(user, User):  # AnonymousUser
        return None
    return selectors.supporter_outlook(user=user, adding=bool(adding))


@register.simple_tag
def supporter_dashboard(user: User | AnonymousUser) -> Any:
    if not isinstance(user, User):  # AnonymousUser
        return None
    return selectors.supporter_dashboard(user=user)


@register.simple_tag
def creator_thing_earnings(user: User | AnonymousUser) -> Any:
    if not isinstance(user, User):  # AnonymousUser
        return []
    return selectors.creator_thing_earnings(user=user)


@register.simple_tag
def wallet_figures(user: User | AnonymousUser) -> Any:
    """``{% wallet_figures user as figures %}`` for ``includes/wallet_figures.html``."""
    if not isinstance(user, User):  # AnonymousUser
        return None
    return selectors.wallet_figures(user=user)
