"""Links about a creator that apps above the buttons know and the buttons
publish: the accounts elsewhere a creator proved (``claims`` registers
them), shown in the head of their profile and things and in WebFinger.

The buttons may not import ``claims`` (the import layers), so ``claims``
registers a provider when the apps are ready.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CreatorLink:
    href: str  # the account's profile page, published with rel="me"
    # ``@name@host`` for a fediverse account (``fediverse:creator``), or "".
    fediverse_handle: str = ""


Provider = Callable[[int], list[CreatorLink]]
_providers: list[Provider] = []


def creator_links_provider_register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def creator_links(*, user_id: int | None) -> list[CreatorLink]:
    if user_id is None:
        return []
    return [link for provider in _providers for link in provider(user_id)]
