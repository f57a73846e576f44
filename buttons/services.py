"""Writes for things and flattrs.

A flattr moves no money: it records attention. The monthly payout later
splits each supporter's budget among the month's flattrs.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from buttons import counters
from buttons.addresses import url_normalize
from buttons.models import AutoSubmitPolicy, Category, Flattr, FlattrSource, Thing
from buttons.rules import period_is_final
from ledger import selectors as ledger_selectors
from notifications.services import event_publish


@dataclass
class FlattrRefused(Exception):
    """A flattr was not recorded. ``code`` follows the classic Flattr API."""

    code: str
    message: str
    status: int = 400

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def period_of(when: dt.datetime) -> dt.date:
    """First day of ``when``'s calendar month in PAYOUT_TIMEZONE."""
    local = when.astimezone(zoneinfo.ZoneInfo(settings.PAYOUT_TIMEZONE))
    return local.date().replace(day=1)


def current_period() -> dt.date:
    return period_of(timezone.now())


def _clean_thing(thing: Thing) -> Thing:
    try:
        thing.url = url_normalize(thing.url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from exc
    thing.full_clean(validate_unique=False)
    duplicate = Thing.objects.filter(owner=thing.owner, url=thing.url).exclude(pk=thing.pk)
    if thing.owner_id is None:
        duplicate = Thing.objects.filter(owner__isnull=True, url=thing.url).exclude(pk=thing.pk)
    if duplicate.exists():
        raise ValidationError({"url": _("You already registered a thing with this address.")})
    return thing


@transaction.atomic
def thing_create(
    *,
    owner: User,
    url: str,
    title: str,
    description: str = "",
    category: str = Category.REST,
    tags: str = "",
    language: str = "",
    hidden: bool = False,
    unlisted: bool = False,
    submitted_by: User | None = None,
) -> Thing:
    thing = Thing(
        owner=owner,
        url=url.strip(),
        title=title.strip(),
        description=description.strip(),
        category=category or Category.REST,
        tags=tags.strip(),
        language=language.strip(),
        hidden=hidden,
        unlisted=unlisted,
        submitted_by=submitted_by,
    )
    _clean_thing(thing)
    try:
        with transaction.atomic():
            thing.save()
    except IntegrityError:
        raise ValidationError({"url": _("You already registered a thing with this address.")})
    return thing


@transaction.atomic
def thing_update(*, thing: Thing, **fields: Any) -> Thing:
    for name, value in fields.items():
        setattr(thing, name, value.strip() if isinstance(value, str) else value)
    _clean_thing(thing)
    thing.save(update_fields=[*fields.keys(), "updated_at"])
    transaction.on_commit(lambda: counters.forget_pages(thing_id=thing.pk))
    return thing


@transaction.atomic
def thing_remove(*, thing: Thing) -> bool:
    """Delete a thing nobody flattred; otherwise hide and mark it removed
    (flattrs point at it and the payout must still explain them).
    Returns True when deleted."""
    thing = Thing.objects.select_for_update().get(pk=thing.pk)
    if not thing.flattrs.exists():
        pk = thing.pk
        thing.delete()
        transaction.on_commit(lambda: counters.forget_pages(thing_id=pk))
        return True
    thing.removed = True
    thing.hidden = True
    thing.save(update_fields=["removed", "hidden", "updated_at"])
    transaction.on_commit(lambda: counters.forget_pages(thing_id=thing.pk))
    return False


def thing_for_auto_submit(*, owner: User, url: str) -> Thing | None:
    if owner is None:
        return Thing.objects.filter(owner__isnull=True, url=url).first()
    return Thing.objects.filter(owner=owner, url=url).first()


def auto_submit_policy_for(*, owner: User) -> AutoSubmitPolicy | None:
    return AutoSubmitPolicy.objects.filter(owner=owner).first()


def auto_submit_allowed(*, owner: User, url: str) -> bool:
    """May supporters create a thing at ``url`` under ``owner``'s name?"""
    if owner is None:
        return True
    policy = auto_submit_policy_for(owner=owner)
    return policy is None or policy.allows(url)


@transaction.atomic
def auto_submit_policy_update(
    *, owner: User, enabled: bool, url_prefixes: list[str]
) -> AutoSubmitPolicy:
    prefixes = [url_normalize(prefix) for prefix in url_prefixes if prefix.strip()]
    policy, _created = AutoSubmitPolicy.objects.update_or_create(
        owner=owner, defaults={"enabled": enabled, "url_prefixes": "\n".join(prefixes)}
    )
    return policy


class AutoSubmitDetails(TypedDict, total=False):
    """What an auto-submit button may say about the thing it creates, beside
    its address and title (``thing_create``'s defaults for the rest)."""

    description: str
    category: str
    tags: str
    language: str
    unlisted: bool


@transaction.atomic
def flattr_create_auto(
    *,
    supporter: User,
    owner: User,
    url: str,
    title: str,
    source: str = FlattrSource.BUTTON,
    **details: Unpack[AutoSubmitDetails],
) -> Flattr:
    """A flattr from an auto-submit button. The thing behind it is created in
    the same transaction as the flattr, so a refused flattr (empty wallet,
    own thing, creator's policy) leaves no thing behind. With no owner it is
    an unclaimed thing: its shares wait in the unclaimed holding until a
    creator claims it."""
    url = url_normalize(url)
    thing = thing_for_auto_submit(owner=owner, url=url)
    if thing is None:
        if not auto_submit_allowed(owner=owner, url=url):
            raise FlattrRefused(
                "auto_submit_refused",
                str(_("This creator does not accept things submitted by supporters here.")),
                403,
            )
        try:
            with transaction.atomic():
                thing = thing_create(
                    owner=owner, url=url, title=title, submitted_by=supporter, **details
                )
        except ValidationError:
            # Created meanwhile by a concurrent first flattr.
            thing = thing_for_auto_submit(owner=owner, url=url)
            if thing is None:
                raise
    return flattr_create(supporter=supporter, thing=thing, source=source)


def flattr_create(
    *,
    supporter: User,
    thing: Thing,
    now: dt.datetime | None = None,
    source: str = FlattrSource.BUTTON,
) -> Flattr:
    """Record one flattr, or raise FlattrRefused and record nothing."""
    if thing.hidden or thing.removed:
        raise FlattrRefused("thing_unavailable", str(_("This thing cannot be flattred.")), 404)
    if thing.owner_id is not None and thing.owner_id == supporter.pk:
        raise FlattrRefused("flattr_owner", str(_("You cannot flattr your own thing.")), 403)
    if ledger_selectors.receivable_owed(user=supporter) > 0:
        raise FlattrRefused(
            "owes_balance",
            str(
                _(
                    "A payment of yours was refunded or disputed. Top up to settle it before flattring."
                )
            ),
            402,
        )
    if ledger_selectors.wallet_balance(user=supporter) <= 0:
        raise FlattrRefused("no_means", str(_("Your wallet is empty. Top up first.")), 402)
    now = now or timezone.now()
    period = period_of(now)
    try:
        # The unique constraint is the real guard: two clicks at once, one row.
        with transaction.atomic():
            flattr = Flattr.objects.create(
                supporter=supporter, thing=thing, period=period, created_at=now, source=source
            )
    except IntegrityError:
        raise FlattrRefused(
            "flattr_once", str(_("You already flattred this thing this month.")), 409
        )
    transaction.on_commit(lambda: counters.record_flattr(thing_id=thing.pk, period=period))
    thing_owner_tell(
        thing=thing,
        type="flattr.created",
        data={"flattr_id": flattr.pk, "period": f"{period:%Y-%m}", "created_at": now.isoformat()},
        key=f"flattr:{flattr.pk}",
    )
    return flattr


def thing_owner_tell(*, thing: Thing, type: str, data: dict, key: str) -> None:
    """Publish the event ``type`` about ``thing`` to its owner (nobody while
    it is unclaimed); ``data`` gets the thing's id, title and URL."""
    if thing.owner_id is not None:
        event_publish(
            type=type,
            recipient=thing.owner_id,
            data={**data, "thing": {"id": thing.pk, "title": thing.title, "url": thing.url}},
            key=key,
        )


def flattr_undo(*, supporter: User, flattr_id: int) -> Flattr:
    """Take back one of this month's flattrs, while this month's payout run
    is not computed. Raises FlattrRefused and changes nothing otherwise."""
    with transaction.atomic():
        flattr = (
            Flattr.objects.select_for_update()
            .filter(pk=flattr_id, supporter=supporter)
            .select_related("thing")
            .first()
        )
        if flattr is None:
            raise FlattrRefused("not_found", str(_("No such flattr of yours.")), 404)
        # Whether a payout run rests on the month is payouts' to say: it
        # registers the check with buttons.rules (imports flow one way).
        if flattr.period != current_period() or period_is_final(flattr.period):
            raise FlattrRefused(
                "flattr_final",
                str(_("This month's payout is already computed: this flattr is final.")),
                409,
            )
        thing_id, period = flattr.thing_id, flattr.period
        flattr.delete()
        transaction.on_commit(lambda: counters.forget_counts(thing_id=thing_id, period=period))
    return flattr
