"""Writes for things and flattrs.

A flattr moves no money: it records attention. The monthly payout later
splits each supporter's budget among the month's flattrs.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import zoneinfo
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import signals
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from buttons import counters
from buttons.addresses import url_normalize
from buttons.classic_selectors import site_key, verified_site_for_url
from buttons.models import AutoSubmitPolicy, Category, Flattr, FlattrSource, Thing
from buttons.rules import (
    flattr_means_ok,
    flattr_means_ok_sql,
    flattr_needs_wallet,
    period_is_final,
)
from ledger import selectors as ledger_selectors
from notifications.services import NewEvent, event_publish, events_insert_sql, events_publish


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
    pending: bool = False,
    accepted_at: dt.datetime | None = None,
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
        pending=pending,
        accepted_at=accepted_at,
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


def _bare_host(url: str) -> str:
    """The host (with a non-default port) of an http(s) URL, without a
    leading "www."; empty for anything else."""
    if not url.lower().startswith(("http://", "https://")):
        return ""
    try:
        host = site_key(url)[0]
    except ValueError:
        return ""
    return host.removeprefix("www.")


def profile_url_of(owner: User) -> str:
    """The address of ``owner``'s profile page: what its Flattr button names."""
    return settings.SITE_URL + owner.get_absolute_url()


def auto_submit_host_check(*, owner: User, url: str, page_url: str = "") -> None:
    """May a new thing at ``url`` be made under ``owner``'s name by an
    auto-submit button on ``page_url`` (empty: unknown)? Yes for the
    creator's profile page, a site she verified (claims), or the host of the
    button's page ("www." aside). Raises FlattrRefused otherwise: where the
    page is unknown, only verified sites are accepted."""
    if url == profile_url_of(owner):
        return
    site = verified_site_for_url(url=url)
    if site is not None and site.owner_id == owner.pk:
        return
    host = _bare_host(url)
    page_host = _bare_host(page_url)
    if page_host and page_host == host:
        return
    names = {"host": host, "page": page_host, "name": owner.public_name}
    if page_host:
        message = _(
            "This button is on %(page)s but names an address on %(host)s: an auto-submit "
            "button can only submit pages of the site it is on, or of a site %(name)s verified."
        )
    else:
        message = _(
            "We cannot tell which site this button is on, and %(host)s is not a site "
            "%(name)s verified, so it cannot be submitted under their name."
        )
    raise FlattrRefused("auto_submit_host", str(message) % names, 403)


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
    page_url: str = "",
    **details: Unpack[AutoSubmitDetails],
) -> Flattr:
    """A flattr from an auto-submit button. The thing behind it is created in
    the same transaction as the flattr, so a refused flattr (empty wallet,
    own thing, creator's policy, a host the creator has not verified and the
    button is not on) leaves no thing behind. ``page_url`` is the page the
    button is on, where it is known.

    A new thing under a creator's name waits for her (``pending``): listed
    nowhere until she accepts it, and she is told. A creator's profile page
    is the exception: its thing takes her own name and bio, whatever the
    button said. With no owner it is an unclaimed thing: its shares wait in
    the unclaimed holding until a creator claims it."""
    url = url_normalize(url)
    thing = thing_for_auto_submit(owner=owner, url=url)
    created = False
    if thing is None:
        if not auto_submit_allowed(owner=owner, url=url):
            raise FlattrRefused(
                "auto_submit_refused",
                str(_("This creator does not accept things submitted by supporters here.")),
                403,
            )
        pending = False
        if owner is not None:
            auto_submit_host_check(owner=owner, url=url, page_url=page_url)
            if url == profile_url_of(owner):
                title = owner.public_name
                details = {**details, "description": owner.bio[:2000], "category": "people"}
            else:
                pending = owner.pk != supporter.pk
        try:
            with transaction.atomic():
                thing = thing_create(
                    owner=owner,
                    url=url,
                    title=title,
                    submitted_by=supporter,
                    pending=pending,
                    **details,
                )
                created = True
        except ValidationError:
            # Created meanwhile by a concurrent first flattr.
            thing = thing_for_auto_submit(owner=owner, url=url)
            if thing is None:
                raise
    flattr = flattr_create(supporter=supporter, thing=thing, source=source)
    if created and thing.pending:
        thing_owner_tell(
            thing=thing,
            type="thing.submitted",
            data={"supporter": supporter.public_name, "review_path": reverse("my_things")},
            key=f"thing-submitted:{thing.pk}",
        )
    return flattr


@dataclass(frozen=True)
class AutoThing:
    """A thing auto-submit would find or make: under ``owner_id`` (None:
    unclaimed) at ``url`` (normalised), titled ``title`` if new."""

    owner_id: int | None
    url: str
    title: str


def things_for_auto_submit_many(
    *, supporter: User, wanted: list[AutoThing]
) -> dict[tuple[int | None, str], Thing]:
    """Find or make each wanted thing as auto-submit would, in a constant
    number of queries, for flattrs that do not come from a button on the
    creator's site (likes: the owner is who proved the account or site).
    A new thing under a creator's name waits for her (``pending``) and she
    is told; a creator's auto-submit policy that refuses an address leaves
    it out of the result. Keys are ``(owner_id, url)``. Call inside a
    transaction (the caller's flattrs and the things commit together)."""
    keys = {(w.owner_id, w.url): w for w in wanted}
    if not keys:
        return {}
    urls = {url for _owner, url in keys}
    found = {
        (t.owner_id, t.url): t
        for t in Thing.objects.filter(url__in=urls)
        if (t.owner_id, t.url) in keys
    }
    missing = [w for key, w in keys.items() if key not in found]
    owners = {w.owner_id for w in missing if w.owner_id is not None}
    policies = {p.owner_id: p for p in AutoSubmitPolicy.objects.filter(owner_id__in=owners)}
    refused = {
        (w.owner_id, w.url)
        for w in missing
        if w.owner_id in policies and not policies[w.owner_id].allows(w.url)
    }
    new = [
        Thing(
            owner_id=w.owner_id,
            url=w.url,
            title=(w.title.strip() or w.url)[:200],
            submitted_by=supporter,
            pending=w.owner_id is not None and w.owner_id != supporter.pk,
        )
        for w in missing
        if (w.owner_id, w.url) not in refused
    ]
    if new:
        # A concurrent first flattr may have made one meanwhile: the unique
        # constraints keep one, and the read below finds it.
        Thing.objects.bulk_create(new, ignore_conflicts=True)
        made = {
            (t.owner_id, t.url): t
            for t in Thing.objects.filter(url__in={t.url for t in new})
            if (t.owner_id, t.url) in keys
        }
        events = [
            NewEvent(
                "thing.submitted",
                thing.owner_id,
                {
                    "supporter": supporter.public_name,
                    "review_path": reverse("my_things"),
                    "thing": {"id": thing.pk, "title": thing.title, "url": thing.url},
                    # Not a button: the e-mail says a like made it.
                    "via": "like",
                },
                f"thing-submitted:{thing.pk}",
            )
            for key, thing in made.items()
            if key not in found and thing.pending and thing.owner_id is not None
        ]
        events_publish(events=events)
        found.update(made)
    return found


@transaction.atomic
def thing_create_auto_own(
    *, owner: User, url: str, title: str, page_url: str = "", **details: Unpack[AutoSubmitDetails]
) -> Thing:
    """A creator clicking her own auto-submit button: the thing is registered
    under her name at once (nobody flattrs their own thing, so no flattr),
    under the same host rule as a supporter's submission."""
    url = url_normalize(url)
    thing = thing_for_auto_submit(owner=owner, url=url)
    if thing is not None:
        return thing
    auto_submit_host_check(owner=owner, url=url, page_url=page_url)
    return thing_create(
        owner=owner,
        url=url,
        title=title,
        submitted_by=owner,
        accepted_at=timezone.now(),
        **details,
    )


@transaction.atomic
def thing_accept(*, owner: User, thing_id: int) -> Thing:
    """The creator accepts a thing a supporter submitted under her name: it
    is listed from now on. Raises Thing.DoesNotExist for anything not hers."""
    thing = Thing.objects.select_for_update().get(pk=thing_id, owner=owner, removed=False)
    if thing.pending:
        thing.pending = False
        thing.accepted_at = timezone.now()
        thing.save(update_fields=["pending", "accepted_at", "updated_at"])
        transaction.on_commit(lambda: counters.forget_pages(thing_id=thing.pk))
    return thing


def flattr_create(
    *,
    supporter: User,
    thing: Thing,
    now: dt.datetime | None = None,
    source: str = FlattrSource.BUTTON,
) -> Flattr:
    """Record one flattr, or raise FlattrRefused and record nothing: the
    one-thing case of ``flattrs_create_many``."""
    outcome = flattrs_create_many(supporter=supporter, things=[thing], now=now, source=source)[0]
    if isinstance(outcome, FlattrRefused):
        raise outcome
    return outcome


def _flattr_refusal(*, supporter: User, thing: Thing) -> FlattrRefused | None:
    """What refuses a flattr of ``thing`` by ``supporter`` whatever their
    wallet says: a hidden or removed thing, or their own."""
    if thing.hidden or thing.removed:
        return FlattrRefused("thing_unavailable", str(_("This thing cannot be flattred.")), 404)
    if thing.owner_id is not None and thing.owner_id == supporter.pk:
        return FlattrRefused("flattr_owner", str(_("You cannot flattr your own thing.")), 403)
    return None


def _means_refusal(*, owed: int, balance: int) -> FlattrRefused | None:
    """The refusal ``buttons.rules.flattr_means_ok`` says for these means."""
    if flattr_means_ok(owed=owed, balance=balance):
        return None
    if owed > 0:
        return FlattrRefused(
            "owes_balance",
            str(
                _(
                    "A payment of yours was refunded or disputed. Top up to settle it before flattring."
                )
            ),
            402,
        )
    return FlattrRefused("no_means", str(_("Your wallet is empty. Top up first.")), 402)


def flattr_means_refusal(*, supporter: User) -> FlattrRefused | None:
    """What refuses any flattr of ``supporter`` now: a debt, or no money.
    Only wallet mode asks (``buttons.rules.flattr_needs_wallet``): after the
    month a flattr counts as a pledge until a way to pay is saved."""
    if not flattr_needs_wallet():
        return None
    owed, balance = ledger_selectors.flattr_means(user=supporter)
    return _means_refusal(owed=owed, balance=balance)


def _already_flattred() -> FlattrRefused:
    return FlattrRefused("flattr_once", str(_("You already flattred this thing this month.")), 409)


def flattrs_create_many(
    *,
    supporter: User,
    things: list[Thing],
    now: dt.datetime | None = None,
    source: str = FlattrSource.BUTTON,
) -> list[Flattr | FlattrRefused]:
    """Flattr each of ``things`` by ``supporter``, under the rules of one
    flattr (never hidden or removed things, never one's own, a debt or an
    empty wallet refuses, one per thing per month), in one statement
    (``_flattrs_insert``: the wallet's check, the flattrs and their owners'
    events). Returns, in the order of ``things``, each one's Flattr or the
    FlattrRefused that kept it from being recorded (a thing named twice is
    flattred once)."""
    outcomes: list[Flattr | FlattrRefused | None] = [
        _flattr_refusal(supporter=supporter, thing=thing) for thing in things
    ]
    if all(outcome is not None for outcome in outcomes):
        return outcomes  # type: ignore[return-value]
    now = now or timezone.now()
    period = period_of(now)
    wanted: dict[int, Thing] = {}
    for thing, outcome in zip(things, outcomes, strict=True):
        if outcome is None:
            wanted.setdefault(thing.pk, thing)
    created, means = _flattrs_insert(
        supporter=supporter, things=list(wanted.values()), period=period, now=now, source=source
    )
    if means is not None:
        return [outcome or means for outcome in outcomes]
    if created:
        events = tuple(
            f"flattr:{flattr.pk}"
            for flattr in created.values()
            if wanted[flattr.thing_id].owner_id is not None
        )
        # Immediately in autocommit; after the caller's commit inside one.
        transaction.on_commit(
            functools.partial(
                counters.record_flattrs, thing_ids=list(created), period=period, events=events
            )
        )
    result: list[Flattr | FlattrRefused] = []
    for thing, outcome in zip(things, outcomes, strict=True):
        if outcome is None:
            # The first mention of a thing gets its flattr; any other, or a
            # thing flattred earlier this month, is "already".
            flattr = created.pop(thing.pk, None)
            if flattr is not None:
                flattr.thing = thing
            outcome = flattr or _already_flattred()
        result.append(outcome)
    return result


# The flattrs, their owners' events and (in wallet mode) the wallet's check
# in one statement, so a flattr outside a caller's transaction is one round
# trip and one commit (no BEGIN, no COMMIT; no session state, as PgBouncer's
# transaction mode wants). The unique constraint is the guard against a
# second flattr (two clicks at once, one row): ON CONFLICT DO NOTHING says
# "already" without an error or a savepoint; the event key's uniqueness
# guards the events. ``{means}`` is empty after the month; in wallet mode
# the INSERT takes nothing when the means refuse and the statement returns
# them, to say why.
_INSERT = """WITH {means_cte}
f AS (
  INSERT INTO {flattrs} (supporter_id, thing_id, period, created_at, source)
  SELECT %(supporter)s, t.thing_id, %(period)s, %(now)s, %(source)s
  FROM unnest(%(things)s::bigint[]) AS t(thing_id)
  {means_where}
  ON CONFLICT ON CONSTRAINT one_flattr_per_thing_per_month DO NOTHING
  RETURNING id, thing_id
),
e AS ({events})
SELECT {returned}
"""

# The owners' events, one a new flattr of an owned thing: the data built in
# Python, with the flattr's id added.
_EVENT_ROWS = (
    "SELECT 'flattr.created', o.recipient_id, o.data || jsonb_build_object('flattr_id', f.id),"
    " 'flattr:' || f.id"
    " FROM f JOIN jsonb_to_recordset(%(owners)s::jsonb)"
    " AS o(thing_id bigint, recipient_id bigint, data jsonb) USING (thing_id)"
)


def _flattrs_insert(
    *, supporter: User, things: list[Thing], period: dt.date, now: dt.datetime, source: str
) -> tuple[dict[int, Flattr], FlattrRefused | None]:
    """Insert a flattr of each thing and its owner's event in one
    statement; returns the new flattrs by thing id (a thing already
    flattred this month has none) and, in wallet mode, the means' refusal
    (then nothing was written). Sends the ORM's post_save for each new
    flattr, like ``create``."""
    if not things:
        return {}, None
    owners = [
        {
            "thing_id": thing.pk,
            "recipient_id": thing.owner_id,
            "data": {
                "period": f"{period:%Y-%m}",
                "created_at": now.isoformat(),
                "thing": {"id": thing.pk, "title": thing.title, "url": thing.url},
            },
        }
        for thing in things
        if thing.owner_id is not None
    ]
    needs_wallet = flattr_needs_wallet()
    sql = _INSERT.format(
        flattrs=Flattr._meta.db_table,
        means_cte=(
            f"means AS ({ledger_selectors.flattr_means_sql(user='%(supporter)s')}),"
            if needs_wallet
            else ""
        ),
        means_where=(
            f"WHERE (SELECT {flattr_means_ok_sql(owed='owed', balance='balance')} FROM means)"  # noqa: S608 - our SQL
            if needs_wallet
            else ""
        ),
        events=events_insert_sql(rows=_EVENT_ROWS),
        returned=(
            "f.id, f.thing_id, means.owed, means.balance FROM means LEFT JOIN f ON true"
            if needs_wallet
            else "f.id, f.thing_id FROM f"
        ),
    )
    params: dict[str, Any] = {
        "supporter": supporter.pk,
        "period": period,
        "now": now,
        "source": source,
        "things": [thing.pk for thing in things],
        "owners": json.dumps(owners),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if needs_wallet:
        owed, balance = rows[0][2], rows[0][3]
        refusal = _means_refusal(owed=owed, balance=balance)
        if refusal is not None:
            return {}, refusal
    created: dict[int, Flattr] = {}
    for row in rows:
        pk, thing_id = row[0], row[1]
        if pk is None:  # the means' row when nothing was new
            continue
        flattr = Flattr(
            pk=pk,
            supporter=supporter,
            thing_id=thing_id,
            period=period,
            created_at=now,
            source=source,
        )
        flattr._state.adding = False
        signals.post_save.send(
            sender=Flattr,
            instance=flattr,
            created=True,
            raw=False,
            using="default",
            update_fields=None,
        )
        created[thing_id] = flattr
    return created, None


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
