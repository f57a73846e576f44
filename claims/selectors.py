"""Reads for claims: a creator's claims, verified rel="me" links, and the
public list of sites with money waiting for their creator."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from buttons.creator_links import CreatorLink
from claims.models import Claim, ClaimState, ProofKind, ProofStatus, ProvenAccount


def claims_of_creator(*, creator: User) -> QuerySet[Claim]:
    return Claim.objects.filter(creator=creator).order_by("-created_at")


def verified_claims_of_creator(*, creator: User) -> QuerySet[Claim]:
    return Claim.objects.filter(creator=creator, state=ClaimState.VERIFIED).order_by("url")


@dataclass
class UnclaimedSite:
    host: str
    cents: int  # money held for its things, in cents
    supporters: int
    things: int

    @property
    def rounded_units(self) -> int:
        """Whole currency units, rounded half up: the page shows no cents."""
        return (self.cents + 50) // 100


def unclaimed_sites(
    *, query: str = "", limit: int = 100, hosts: list[str] | None = None
) -> list[UnclaimedSite]:
    """Hosts of unclaimed things holding money, most money first (only
    ``hosts``, if given). One aggregate in SQL over the unclaimed holdings
    (ledger accounts ``unclaimed`` / ``thing:<id>``)."""
    like = "%" + query.strip().lower().replace("\\", "").replace("%", "").replace("_", "\\_") + "%"
    sql = """
        WITH held AS (
            SELECT t.id, lower(substring(t.url from '^[A-Za-z]+://([^/?#]+)')) AS host,
                   a.balance
              FROM ledger_account a
              JOIN buttons_thing t ON a.ref = 'thing:' || t.id
             WHERE a.kind = 'unclaimed' AND a.user_id IS NULL AND a.balance > 0
               AND t.owner_id IS NULL
        )
        SELECT h.host, sum(h.balance), count(DISTINCT h.id),
               (SELECT count(DISTINCT f.supporter_id) FROM buttons_flattr f
                 WHERE f.thing_id IN (SELECT id FROM held WHERE held.host = h.host))
          FROM held h
         WHERE h.host LIKE %s AND (%s OR h.host = ANY(%s))
         GROUP BY h.host
         ORDER BY sum(h.balance) DESC, h.host
         LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [like, hosts is None, list(hosts or []), limit])
        rows = cursor.fetchall()
    return [
        UnclaimedSite(
            host=host.split("?")[0], cents=int(cents), things=things, supporters=supporters
        )
        for host, cents, things, supporters in rows
    ]


def currency() -> str:
    return settings.CURRENCY


def creator_hosts(*, creator: User) -> list[str]:
    """The hosts a creator is known to own: their verified claims' and
    their profile's website, each with and without ``www.``."""
    urls = [c.url for c in verified_claims_of_creator(creator=creator)]
    if creator.website:
        urls.append(creator.website)
    hosts: set[str] = set()
    for url in urls:
        host = (urlsplit(url).hostname or "").lower()
        if host:
            bare = host.removeprefix("www.")
            hosts.update({bare, "www." + bare})
    return sorted(hosts)


def money_waiting_for_creator(*, creator: User) -> list[UnclaimedSite]:
    """Unclaimed money on the creator's own sites: what they can claim."""
    hosts = creator_hosts(creator=creator)
    if not hosts:
        return []
    return unclaimed_sites(hosts=hosts, limit=20)


def proven_accounts_of_creator(*, creator: User) -> QuerySet[ProvenAccount]:
    """The creator's proven accounts, removed ones left out."""
    return (
        ProvenAccount.objects.filter(user=creator)
        .exclude(status=ProofStatus.REMOVED)
        .order_by("kind", "host", "username")
    )


def active_fediverse_accounts(*, user_id: int) -> list[ProvenAccount]:
    return list(
        ProvenAccount.objects.filter(
            user_id=user_id, kind=ProofKind.FEDIVERSE, status=ProofStatus.ACTIVE
        ).order_by("host", "username")[:10]
    )


def fediverse_payment_link(*, user: User) -> dict:
    """The FEP-0ea0 payment link of a creator: the ``attachment`` entry
    fediverse software that speaks the FEP puts on their actor."""
    from buttons.classic_selectors import profile_payment_url

    return {"type": "Link", "name": "Flattr", "href": profile_payment_url(user=user),
            "rel": "payment"}  # fmt: skip


def proven_creator_links(user_id: int) -> list[CreatorLink]:
    """What the buttons publish of a creator's proven fediverse accounts."""
    return [
        CreatorLink(href=account.profile_url, fediverse_handle=account.handle)
        for account in active_fediverse_accounts(user_id=user_id)
        if account.profile_url
    ]


def proven_accounts_public(*, user_id: int) -> QuerySet[ProvenAccount]:
    """Proven accounts a creator's profile shows (fediverse and GitHub)."""
    return (
        ProvenAccount.objects.filter(user_id=user_id, status=ProofStatus.ACTIVE)
        .exclude(profile_url="")
        .order_by("kind", "host", "username")[:10]
    )
