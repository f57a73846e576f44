"""Where a flattr came from, in words, for "My flattrs".

A flattr made by a door above buttons (a like on a connected account) is
described by the app that made it: that app registers a describer for its
sources when it loads, so buttons never imports it (the layers run one way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from accounts.models import User

# (supporter, flattrs) -> {flattr id: words}; one query for the lot.
Describer = Callable[..., dict[int, str]]

_describers: dict[str, Describer] = {}


def origin_describer_register(*, sources: Iterable[str], describer: Describer) -> None:
    for source in sources:
        _describers[str(source)] = describer


def flattrs_describe_origin(*, supporter: User, flattrs: Iterable[Any]) -> None:
    """Set ``flattr.origin`` (words, or None) on each flattr, one call per
    describer for all its flattrs."""
    flattrs = list(flattrs)
    by_describer: dict[Describer, list[Any]] = {}
    for flattr in flattrs:
        flattr.origin = None
        describer = _describers.get(flattr.source)
        if describer is not None:
            by_describer.setdefault(describer, []).append(flattr)
    for describer, group in by_describer.items():
        words = describer(supporter=supporter, flattrs=group)
        for flattr in group:
            flattr.origin = words.get(flattr.pk) or flattr.get_source_display()
