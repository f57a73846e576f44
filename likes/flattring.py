"""From likes to flattrs: a page of likes read from a connected account is
recorded once each and, within the supporter's monthly cap, flattred
through buttons' flattr rule (``flattrs_create_many``, the set-based form
of the button's ``flattr_create``), in a constant number of queries per
page whatever its length.

The liked thing is the one auto-submit would find or make: owned by the
creator who proved the account or site behind the URL
(``claims.proofs.owner_for_url``, else a verified site), else unclaimed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from buttons.addresses import url_normalize
from buttons.classic_selectors import verified_sites_for_urls
from buttons.models import Flattr, FlattrSource, Thing
from buttons.services import (
    AutoThing,
    FlattrRefused,
    flattr_means_refusal,
    flattrs_create_many,
    period_of,
    things_for_auto_submit_many,
)
from claims import proofs
from likes.models import AccountKind, ConnectedAccount, Like, LikeState, SkipReason
from likes.selectors import likes_cap, likes_flattred_count

SOURCES = {
    AccountKind.MASTODON: FlattrSource.MASTODON,
    AccountKind.GITHUB: FlattrSource.GITHUB,
    AccountKind.FEED: FlattrSource.FEED,
}

# The flattr rule's refusals, as the reason a like was skipped.
REFUSAL_REASONS = {
    "thing_unavailable": SkipReason.HIDDEN,
    "flattr_owner": SkipReason.OWN_THING,
    "flattr_once": SkipReason.ALREADY_FLATTRED,
}
# Refusals of the wallet, not of the thing: the like waits for a top-up.
MEANS_REFUSALS = frozenset({"no_means", "owes_balance"})

URL_MAX = 1000
TITLE_MAX = 200


@dataclass(frozen=True)
class RemoteLike:
    """One like as a source reads it."""

    remote_id: str
    url: str
    title: str = ""
    # When it was liked, where the source says (GitHub, most feeds).
    liked_at: dt.datetime | None = None


@dataclass
class RecordOutcome:
    """What recording likes did, for the poll's summary."""

    likes_seen: int = 0
    flattrs: int = 0
    waiting: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, other: RecordOutcome) -> None:
        self.likes_seen += other.likes_seen
        self.flattrs += other.flattrs
        self.waiting += other.waiting
        self.skipped.update(other.skipped)


def likes_known(*, account: ConnectedAccount, remote_ids: list[str]) -> set[str]:
    """Which of ``remote_ids`` this account already recorded (a source stops
    reading older pages where it meets one)."""
    return set(
        Like.objects.filter(account=account, remote_id__in=remote_ids).values_list(
            "remote_id", flat=True
        )
    )


def _skip(like: Like, reason: str) -> None:
    like.state = LikeState.SKIPPED
    like.reason = reason


def likes_record(
    *,
    account: ConnectedAccount,
    likes: list[RemoteLike],
    now: dt.datetime | None = None,
    baseline: bool = False,
) -> RecordOutcome:
    """Record the likes of ``account`` not seen before and flattr them.

    ``baseline``: the first read of a source that does not date its likes
    (Mastodon, an undated feed item): an undated like there was liked
    before connecting. A like dated before ``connected_at`` is skipped too. The account row is
    locked for the transaction, so two polls of one account record each
    like once (and the database holds one row per account and like)."""
    now = now or timezone.now()
    outcome = RecordOutcome()
    with transaction.atomic():
        account = ConnectedAccount.objects.select_for_update().get(pk=account.pk)
        known = likes_known(account=account, remote_ids=[like.remote_id for like in likes])
        fresh: dict[str, RemoteLike] = {}
        for like in likes:
            if like.remote_id not in known and like.remote_id not in fresh:
                fresh[like.remote_id] = like
        rows: list[Like] = []
        candidates: list[Like] = []
        # Oldest first: the cap goes to the likes made first.
        for like in sorted(fresh.values(), key=lambda like: like.liked_at or now):
            row = Like(
                account=account,
                supporter_id=account.user_id,
                remote_id=like.remote_id[:500],
                url=like.url.strip()[:URL_MAX],
                title=" ".join(like.title.split())[:TITLE_MAX],
                liked_at=like.liked_at or now,
                seen_at=now,
            )
            rows.append(row)
            if row.liked_at < account.connected_at or (baseline and like.liked_at is None):
                _skip(row, SkipReason.BEFORE_CONNECTING)
                continue
            try:
                row.url = url_normalize(like.url)
            except ValidationError:
                _skip(row, SkipReason.BAD_URL)
                continue
            if len(row.url) > URL_MAX:
                _skip(row, SkipReason.BAD_URL)
                continue
            candidates.append(row)
        _flattr_candidates(account=account, candidates=candidates, now=now)
        Like.objects.bulk_create(rows, batch_size=500)
    outcome.likes_seen = len(rows)
    for row in rows:
        if row.state == LikeState.FLATTRED:
            outcome.flattrs += 1
        elif row.state == LikeState.WAITING:
            outcome.waiting += 1
        else:
            outcome.skipped[row.reason] += 1
    return outcome


def owners_for_urls(urls: list[str]) -> dict[str, int | None]:
    """Who a liked URL belongs to: the creator who proved the account it is
    on, else the creator who verified its site, else nobody (unclaimed)."""
    sites = verified_sites_for_urls(urls=urls)
    proven = proofs.owners_for_urls(urls)
    owners: dict[str, int | None] = {}
    for url in urls:
        owner = proven.get(url)
        site = sites.get(url)
        owners[url] = owner if owner is not None else (site.owner_id if site else None)
    return owners


def _flattr_candidates(
    *, account: ConnectedAccount, candidates: list[Like], now: dt.datetime
) -> None:
    """Set each candidate's state: flattred (within the cap), waiting (past
    it) or skipped with the flattr rule's reason."""
    if not candidates:
        return
    supporter = account.user
    if flattr_means_refusal(supporter=supporter) is not None:
        # An empty wallet (or a debt): they wait, to be flattred by hand
        # after a top-up, and use none of the cap.
        for row in candidates:
            row.state = LikeState.WAITING
        return
    period = period_of(now)
    remaining = likes_cap(user_id=supporter.pk) - likes_flattred_count(
        user_id=supporter.pk, period=period
    )
    pending = candidates
    # A refused like leaves its place under the cap to the next one: a batch
    # at a time, so the number of queries grows with refusals, not likes.
    while pending and remaining > 0:
        batch, pending = pending[:remaining], pending[remaining:]
        things = _things(supporter=supporter, rows=batch)
        flattrable: list[tuple[Like, Thing]] = []
        for row in batch:
            found = things.get(row.url, SkipReason.REFUSED)
            if isinstance(found, Thing):
                flattrable.append((row, found))
            else:
                _skip(row, found)
        outcomes = flattrs_create_many(
            supporter=supporter,
            things=[thing for _row, thing in flattrable],
            now=now,
            source=SOURCES[AccountKind(account.kind)],
        )
        for (row, thing), result in zip(flattrable, outcomes, strict=True):
            row.thing = thing
            _apply(row, result, now=now)
            if row.state == LikeState.FLATTRED:
                remaining -= 1
    for row in pending:
        row.state = LikeState.WAITING


def _apply(row: Like, result: Flattr | FlattrRefused, *, now: dt.datetime) -> None:
    if isinstance(result, FlattrRefused) and result.code in MEANS_REFUSALS:
        row.state = LikeState.WAITING
        return
    if isinstance(result, FlattrRefused):
        _skip(row, REFUSAL_REASONS.get(result.code, SkipReason.REFUSED))
        return
    row.state = LikeState.FLATTRED
    row.reason = ""
    row.period = result.period
    row.flattred_at = now


def _things(*, supporter: User, rows: list[Like]) -> dict[str, Thing | str]:
    """The thing of each liked URL, found or made as auto-submit would; a
    skip reason instead where there is none to flattr."""
    urls = list(dict.fromkeys(row.url for row in rows))
    owners = owners_for_urls(urls)
    titles = {row.url: row.title for row in reversed(rows)}
    result: dict[str, Thing | str] = {}
    wanted = []
    for url in urls:
        if owners[url] is not None and owners[url] == supporter.pk:
            # One's own post or repository: nothing to make, nothing to flattr.
            result[url] = SkipReason.OWN_THING
        else:
            wanted.append(AutoThing(owner_id=owners[url], url=url, title=titles[url] or url))
    found = things_for_auto_submit_many(supporter=supporter, wanted=wanted)
    for want in wanted:
        thing = found.get((want.owner_id, want.url))
        result[want.url] = thing if thing is not None else SkipReason.REFUSED
    return result
