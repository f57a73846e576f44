"""Onward shares ("pass it on"): a creator's list, replaced whole.

docs/payouts.md, "Onward shares". A creator names up to 20 targets (a
creator by ``@username``, a thing by its id, its page or any address, made
as auto-submit would: unclaimed if nobody owns it), each with a whole
percent from 1 to 100, at most 100 in all. The monthly run freezes the list
in its ``OnwardLine`` rows and pays ``rules.onward_cents`` of the creator's
net to each (``payouts/services/compute.py``, step ``onward``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from buttons.addresses import url_normalize
from buttons.models import Thing
from buttons.services import thing_create
from core.http import whole_number
from payouts.models import OnwardShare
from payouts.rules import ONWARD_MAX_ENTRIES

WHOLE = re.compile(r"^\s*\+?\d+\s*$")
THING_PAGE = re.compile(r"^/things/(\d+)/?$")


class OnwardRefused(ValidationError):
    """A list that cannot be saved; ``message`` says why in one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="onward")
        self.line = message


@dataclass(frozen=True)
class Target:
    """A resolved target: exactly one of ``user`` and ``thing``."""

    user: User | None = None
    thing: Thing | None = None

    @property
    def key(self) -> tuple[str, int]:
        if self.user is not None:
            return ("user", self.user.pk)
        assert self.thing is not None
        return ("thing", self.thing.pk)


def _percent(text: object) -> int:
    if isinstance(text, bool):
        raise OnwardRefused(_("A percent is a whole number from 1 to 100."))
    if isinstance(text, int):
        value = text
    elif isinstance(text, str) and WHOLE.match(text):
        value = int(text)
    else:
        raise OnwardRefused(
            _("%(percent)s is not a percent: a whole number from 1 to 100.") % {"percent": text}
        )
    if not 1 <= value <= 100:
        raise OnwardRefused(
            _("%(percent)s is not a percent: a whole number from 1 to 100.") % {"percent": text}
        )
    return value


def _thing_by_id(creator: User, pk: int, text: str) -> Thing:
    thing = Thing.objects.filter(pk=pk, removed=False).first()
    if thing is None:
        raise OnwardRefused(_("There is no thing %(target)s.") % {"target": text})
    return thing


def _thing_by_url(creator: User, text: str) -> Thing:
    """The thing at an address, as auto-submit finds or makes it: our own
    thing page names its thing; otherwise a visible thing someone owns at
    that address, else the unclaimed one, made if there is none yet."""
    try:
        url = url_normalize(text)
    except ValidationError as exc:
        raise OnwardRefused(f"{text}: {' '.join(exc.messages)}") from exc
    site = settings.SITE_URL.rstrip("/")
    if url.startswith(site + "/"):
        match = THING_PAGE.match(url[len(site) :].split("?")[0].split("#")[0])
        if match:
            return _thing_by_id(creator, int(match.group(1)), text)
    owned = (
        Thing.objects.filter(url=url, owner__isnull=False, removed=False, hidden=False)
        .order_by("id")
        .first()
    )
    if owned is not None:
        return owned
    unclaimed = Thing.objects.filter(url=url, owner__isnull=True).first()
    if unclaimed is not None:
        return unclaimed
    try:
        with transaction.atomic():
            return thing_create(owner=None, url=url, title=url[:200], submitted_by=creator)  # type: ignore[arg-type]
    except ValidationError as exc:
        unclaimed = Thing.objects.filter(url=url, owner__isnull=True).first()
        if unclaimed is not None:  # made meanwhile by someone else
            return unclaimed
        raise OnwardRefused(f"{text}: {' '.join(exc.messages)}") from exc


def target_resolve(*, creator: User, text: str) -> Target:
    """``@username``, a thing id, or an address (``_thing_by_url``);
    OnwardRefused for anything else, oneself and one's own things."""
    text = (text or "").strip()
    if text.startswith("@"):
        user = User.objects.filter(username__iexact=text[1:], is_active=True).first()
        if user is None:
            raise OnwardRefused(_("There is no creator %(target)s.") % {"target": text})
        if user.pk == creator.pk:
            raise OnwardRefused(_("You cannot pass on to yourself."))
        return Target(user=user)
    if (thing_id := whole_number(text)) is not None:
        thing = _thing_by_id(creator, thing_id, text)
    elif text.lower().startswith(("http://", "https://")):
        thing = _thing_by_url(creator, text)
    else:
        raise OnwardRefused(
            _("%(target)s is not a target: name @username, a thing number or an address.")
            % {"target": text or '""'}
        )
    if thing.owner_id == creator.pk:
        raise OnwardRefused(
            _("%(target)s is your own thing: you cannot pass on to it.") % {"target": text}
        )
    return Target(thing=thing)


@transaction.atomic
def onward_set(*, creator: User, entries: Sequence[tuple[str, object]]) -> list[OnwardShare]:
    """Replace ``creator``'s whole list with ``entries`` ((target, percent)
    pairs), or raise OnwardRefused and change nothing (no thing made for an
    address either: everything is one transaction)."""
    if len(entries) > ONWARD_MAX_ENTRIES:
        raise OnwardRefused(
            _("A list has at most %(max)d onward shares, not %(count)d.")
            % {"max": ONWARD_MAX_ENTRIES, "count": len(entries)}
        )
    percents = [_percent(percent) for _target, percent in entries]
    if sum(percents) > 100:
        raise OnwardRefused(
            _("The percents add up to %(total)d; at most 100 can be passed on.")
            % {"total": sum(percents)}
        )
    resolved: list[Target] = []
    seen: set[tuple[str, int]] = set()
    for text, _percent_text in entries:
        target = target_resolve(creator=creator, text=text)
        if target.key in seen:
            raise OnwardRefused(
                _("%(target)s is named twice: each target once.") % {"target": text.strip()}
            )
        seen.add(target.key)
        resolved.append(target)
    OnwardShare.objects.filter(creator=creator).delete()
    return OnwardShare.objects.bulk_create(
        [
            OnwardShare(
                creator=creator,
                target_user=target.user,
                target_thing=target.thing,
                percent=percent,
                position=position,
            )
            for position, (target, percent) in enumerate(zip(resolved, percents, strict=True))
        ]
    )


def onward_list(*, creator: User) -> list[OnwardShare]:
    return list(
        OnwardShare.objects.filter(creator=creator).select_related("target_user", "target_thing")
    )


def onward_label(share: OnwardShare) -> str:
    """How a share's target is written back (``@username`` or the thing's id)."""
    if share.target_user is not None:
        return f"@{share.target_user.username}"
    return str(share.target_thing_id)


def pairs(words: Iterable[str]) -> list[tuple[str, str]]:
    """``TARGET PERCENT ...`` words as pairs; OnwardRefused if one is odd."""
    items = list(words)
    if len(items) % 2:
        raise OnwardRefused(_("Give each target a percent: TARGET PERCENT pairs."))
    return list(zip(items[::2], items[1::2], strict=True))
