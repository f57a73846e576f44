"""Pay after the month on the pages of other apps (dashboard, My months,
earnings, the admin run page): ``{% load funding_tags %}``."""

from __future__ import annotations

from typing import Any

from django import template

from funding import selectors_ui

register = template.Library()


@register.simple_tag
def funding_after() -> bool:
    return selectors_ui.funding_after()


@register.simple_tag
def after_forecast(user: Any) -> Any:
    if not getattr(user, "is_authenticated", False):
        return None
    return selectors_ui.after_forecast(user=user)


@register.simple_tag
def my_charges(user: Any) -> Any:
    if not getattr(user, "is_authenticated", False):
        return []
    return selectors_ui.my_charges(user=user)


@register.simple_tag
def my_after_earnings(user: Any) -> Any:
    if not getattr(user, "is_authenticated", False):
        return None
    return selectors_ui.my_earnings(user=user)


@register.simple_tag
def run_charging(run: Any) -> Any:
    return selectors_ui.run_charging(run=run)


WALLET_ITEMS = ("wallet_empty", "wallet_short", "topup_pending")


@register.simple_tag
def attention_items(items: list[str]) -> list[str]:
    """The dashboard's attention items; in after mode without the wallet's
    (nobody tops up: the month is charged after it ends)."""
    if not selectors_ui.funding_after():
        return items
    return [item for item in items if item not in WALLET_ITEMS]
