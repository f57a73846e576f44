"""Onward shares on pages of apps that must not import payouts: a creator's
profile and things (``onward_public``), the earnings page
(``onward_received``) and My months (``onward_months``)."""

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from payouts import onward_selectors

register = template.Library()


@register.simple_tag
def onward_public(creator: User | None) -> Any:
    """``{% onward_public profile as shares %}``: what ``creator`` passes on."""
    if not isinstance(creator, User):
        return []
    return onward_selectors.onward_public(creator=creator)


@register.simple_tag
def onward_received(user: User | AnonymousUser) -> Any:
    if not isinstance(user, User):  # AnonymousUser
        return None
    return onward_selectors.onward_received(user=user)


@register.simple_tag
def onward_months(user: User | AnonymousUser) -> Any:
    if not isinstance(user, User):  # AnonymousUser
        return []
    return onward_selectors.onward_months(user=user)
