"""Writes for claims: make one (with its token), check it, record the
result, and settle conflicts in staff review.

The check talks to another site, so it never runs inside a database
transaction: ``claim_check_request`` marks the claim ``checking`` and queues
the task on commit; the task fetches (``claim_check_run``) and
``claim_check_record`` writes the outcome in a second, short transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from buttons import classic_services
from buttons.addresses import url_normalize
from buttons.classic_selectors import site_key
from buttons.models import Thing, VerifiedSite
from claims import checks
from claims.models import Claim, ClaimKind, ClaimMethod, ClaimState

TOKEN_DAYS = 7
# A check that has not reported back in this long may be started again
# (a worker died in between).
STALE_CHECK = dt.timedelta(minutes=2)
# At most this many things of one feed wait for staff review.
FEED_REVIEW_MAX = 500
METHODS_FOR = {
    ClaimKind.THING: {ClaimMethod.META, ClaimMethod.WELL_KNOWN, ClaimMethod.REL_ME},
    ClaimKind.SITE: {ClaimMethod.META, ClaimMethod.WELL_KNOWN, ClaimMethod.REL_ME},
    ClaimKind.FEED: {ClaimMethod.PODCAST_TXT},
}


def _new_token() -> tuple[str, str, dt.datetime]:
    token = "flattr-" + secrets.token_urlsafe(18)
    return token, checks.token_hash(token), timezone.now() + dt.timedelta(days=TOKEN_DAYS)


def claim_address_normalize(*, kind: str, url: str) -> tuple[str, str, str]:
    """(url, host, path_prefix) of a claimed address, or ValidationError."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            {"url": _("Enter an http or https address (like https://example.org/).")}
        )
    if parts.username or parts.password:
        raise ValidationError({"url": _("Leave the user name and password out of the address.")})
    try:
        _port = parts.port
    except ValueError:
        raise ValidationError({"url": _("The port in this address is not valid.")})
    if kind != ClaimKind.SITE:
        try:
            url = url_normalize(url)
        except ValidationError as exc:
            raise ValidationError({"url": exc.messages})
    host, path = site_key(url)
    prefix = ""
    if kind == ClaimKind.SITE:
        # A site is its root, or everything under a path prefix ending in "/".
        prefix = "" if path in ("", "/") else path.rstrip("/") + "/"
        url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), prefix or "/", "", ""))
    return url, host, prefix


def claim_create(*, creator: User, kind: str, url: str, method: str) -> tuple[Claim, str]:
    """Start a claim; returns it and its token (shown once, never stored).
    Claiming the same address again gives the live claim a fresh token."""
    if kind not in ClaimKind.values:
        raise ValidationError({"kind": _("Choose a thing, a site or a feed.")})
    if method not in METHODS_FOR[ClaimKind(kind)]:
        raise ValidationError(
            {"method": _("This proof does not fit: a feed is proven with podcast:txt, "
                         "a page or site with a meta tag, a file or a rel=\"me\" link.")}
        )  # fmt: skip
    url, host, prefix = claim_address_normalize(kind=kind, url=url)
    if kind == ClaimKind.THING:
        thing = Thing.objects.filter(url=url, removed=False).order_by("owner_id").first()
        if thing is None:
            raise ValidationError({"url": _("No thing has this address yet.")})
        if thing.owner_id is not None:
            raise ValidationError({"url": _("This thing already belongs to a creator.")})
    token, digest, expires = _new_token()
    with transaction.atomic():
        live = (
            Claim.objects.select_for_update()
            .filter(creator=creator, kind=kind, url=url)
            .exclude(state__in=[ClaimState.FAILED, ClaimState.REJECTED])
            .first()
        )
        if live is not None:
            if live.state in (ClaimState.VERIFIED, ClaimState.REVIEW):
                raise ValidationError({"url": _("You already claimed this address.")})
            live.method, live.token_hash, live.token_expires_at = method, digest, expires
            live.state, live.reason_code, live.reason_params = ClaimState.PENDING, "", {}
            live.save(
                update_fields=[
                    "method", "token_hash", "token_expires_at", "state", "reason_code",
                    "reason_params",
                ]
            )  # fmt: skip
            return live, token
        try:
            with transaction.atomic():
                claim = Claim.objects.create(
                    creator=creator,
                    kind=kind,
                    method=method,
                    url=url,
                    host=host,
                    path_prefix=prefix,
                    token_hash=digest,
                    token_expires_at=expires,
                )
        except IntegrityError:
            raise ValidationError({"url": _("You already claimed this address.")})
    return claim, token


@transaction.atomic
def claim_token_renew(*, claim: Claim) -> str:
    """A fresh token (the old one stops working); the claim waits again."""
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.state in (ClaimState.VERIFIED, ClaimState.REVIEW, ClaimState.REJECTED):
        raise ValidationError(_("This claim is settled; it needs no new token."))
    token, digest, expires = _new_token()
    claim.token_hash, claim.token_expires_at = digest, expires
    claim.state, claim.reason_code, claim.reason_params = ClaimState.PENDING, "", {}
    claim.save(
        update_fields=["token_hash", "token_expires_at", "state", "reason_code", "reason_params"]
    )
    return token


@transaction.atomic(durable=True)
def claim_check_request(*, claim: Claim, now: dt.datetime | None = None) -> Claim:
    """Mark the claim ``checking`` and queue the check on commit."""
    now = now or timezone.now()
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if (
        claim.state == ClaimState.CHECKING
        and claim.checked_at
        and now - claim.checked_at < STALE_CHECK
    ):
        return claim
    if claim.state not in (ClaimState.PENDING, ClaimState.FAILED, ClaimState.CHECKING):
        return claim
    if claim.method != ClaimMethod.REL_ME and claim.token_expires_at <= now:
        claim.state, claim.reason_code, claim.reason_params = ClaimState.FAILED, "expired", {}
        claim.save(update_fields=["state", "reason_code", "reason_params"])
        return claim
    claim.state, claim.reason_code, claim.reason_params = ClaimState.CHECKING, "", {}
    claim.checked_at = now
    claim.save(update_fields=["state", "reason_code", "reason_params", "checked_at"])
    from claims import tasks

    claim_id = claim.pk
    transaction.on_commit(lambda: tasks.claim_check.delay(claim_id))
    return claim


def creator_profile_url(*, user: User) -> str:
    return settings.SITE_URL + user.get_absolute_url()


def claim_check_run(*, claim_id: int) -> Claim | None:
    """Fetch the proof (no transaction open) and record what was found."""
    claim = Claim.objects.select_related("creator").filter(pk=claim_id).first()
    if claim is None or claim.state != ClaimState.CHECKING:
        return claim
    if claim.method == ClaimMethod.META:
        result = checks.check_meta(url=claim.url, expected_hash=claim.token_hash)
    elif claim.method == ClaimMethod.WELL_KNOWN:
        result = checks.check_well_known(url=claim.url, expected_hash=claim.token_hash)
    elif claim.method == ClaimMethod.PODCAST_TXT:
        result = checks.check_podcast_txt(url=claim.url, expected_hash=claim.token_hash)
    else:
        result = checks.check_rel_me(
            url=claim.url, profile_url=creator_profile_url(user=claim.creator)
        )
    return claim_check_record(claim_id=claim_id, result=result)


def _overlapping_sites(claim: Claim) -> list[VerifiedSite]:
    """Verified sites on the claim's host whose prefix contains or is inside
    the claim's, owned by someone else."""
    sites = VerifiedSite.objects.filter(host=claim.host).exclude(owner_id=claim.creator_id)
    return [
        s
        for s in sites
        if s.path_prefix.startswith(claim.path_prefix)
        or claim.path_prefix.startswith(s.path_prefix)
    ]


@transaction.atomic(durable=True)
def claim_check_record(*, claim_id: int, result: checks.CheckResult) -> Claim:
    claim = Claim.objects.select_for_update().select_related("creator").get(pk=claim_id)
    if claim.state != ClaimState.CHECKING:
        return claim  # settled meanwhile (a second check, staff)
    now = timezone.now()
    claim.checks += 1
    claim.checked_at = now
    fields = ["checks", "checked_at", "state", "reason_code", "reason_params"]
    if not result.ok:
        claim.state, claim.reason_code = ClaimState.FAILED, result.code
        claim.reason_params = {k: v for k, v in result.params.items() if k != "detail"}
        claim.save(update_fields=fields)
        return claim
    if (
        claim.kind == ClaimKind.THING
        and not Thing.objects.filter(url=claim.url, owner__isnull=True).exists()
    ):
        claim.state, claim.reason_code, claim.reason_params = ClaimState.FAILED, "owned", {}
        claim.save(update_fields=fields)
        return claim
    if claim.kind == ClaimKind.SITE and _overlapping_sites(claim):
        claim.state, claim.reason_code, claim.reason_params = ClaimState.REVIEW, "conflict", {}
        claim.save(update_fields=fields)
        return claim
    _verify(claim, now=now, feed_urls=result.feed_urls)
    claim.save(update_fields=[*fields, "verified_at", "assigned_count"])
    return claim


def _verify(claim: Claim, *, now: dt.datetime, feed_urls: list[str]) -> None:
    claim.state, claim.reason_code, claim.reason_params = ClaimState.VERIFIED, "", {}
    claim.verified_at = now
    if claim.kind == ClaimKind.THING:
        claim.assigned_count = classic_services.unclaimed_things_assign(
            owner=claim.creator, urls=[claim.url]
        )
    elif claim.kind == ClaimKind.FEED:
        urls = [claim.url]
        for url in feed_urls:
            try:
                urls.append(url_normalize(url))
            except ValidationError:
                continue  # an item link we could never have made a thing of
        proven, unproven = _feed_urls_split(claim, urls)
        claim.assigned_count = classic_services.unclaimed_things_assign(
            owner=claim.creator, urls=proven
        )
        _feed_review_claims(claim, unproven, now=now)
    else:
        classic_services.verified_site_set(
            owner=claim.creator,
            scheme=urlsplit(claim.url).scheme,
            host=claim.host,
            path_prefix=claim.path_prefix,
            when=now,
        )
        claim.assigned_count = classic_services.unclaimed_things_assign(
            owner=claim.creator, host=claim.host, path_prefix=claim.path_prefix
        )


def _feed_urls_split(claim: Claim, urls: list[str]) -> tuple[list[str], list[str]]:
    """The feed's addresses its proof covers, and the others. podcast:txt
    proves control of the feed only: it covers the feed's own host and the
    sites its creator verified (host and path prefix), nothing else."""
    sites = list(VerifiedSite.objects.filter(owner_id=claim.creator_id))
    proven: list[str] = []
    unproven: list[str] = []
    for url in urls:
        host, path = site_key(url)
        covered = host == claim.host or any(
            site.host == host and (not site.path_prefix or path.startswith(site.path_prefix))
            for site in sites
        )
        (proven if covered else unproven).append(url)
    return proven, unproven


def _feed_review_claims(claim: Claim, urls: list[str], *, now: dt.datetime) -> int:
    """Unclaimed things a verified feed lists on hosts it does not prove wait
    for staff, each as a thing claim of the feed's creator in ``review``
    (approve gives the thing, reject leaves it unclaimed). Returns how many."""
    if not urls:
        return 0
    unclaimed = (
        Thing.objects.filter(url__in=urls[:5000], owner__isnull=True, removed=False)
        .values_list("url", flat=True)
        .distinct()
    )
    live = set(
        Claim.objects.filter(creator_id=claim.creator_id, kind=ClaimKind.THING, url__in=urls)
        .exclude(state__in=[ClaimState.FAILED, ClaimState.REJECTED])
        .values_list("url", flat=True)
    )
    made = 0
    for url in sorted(set(unclaimed) - live)[:FEED_REVIEW_MAX]:
        host, _path = site_key(url)
        try:
            with transaction.atomic():
                Claim.objects.create(
                    creator_id=claim.creator_id,
                    kind=ClaimKind.THING,
                    method=claim.method,
                    url=url,
                    host=host,
                    token_hash=claim.token_hash,
                    token_expires_at=claim.token_expires_at,
                    state=ClaimState.REVIEW,
                    reason_code="feed_other_host",
                    reason_params={"feed": claim.url, "host": host},
                    checked_at=now,
                )
        except IntegrityError:
            continue  # a live claim of the same address appeared meanwhile
        made += 1
    return made


@transaction.atomic(durable=True)
def claim_review_approve(*, claim: Claim, actor: User) -> Claim:
    """Staff give a disputed site to this claim's creator: the competing
    verified claims are rejected and the site changes hands."""
    claim = Claim.objects.select_for_update().select_related("creator").get(pk=claim.pk)
    if claim.state != ClaimState.REVIEW:
        raise ValidationError(_("Only a claim waiting for review can be approved."))
    if claim.creator_id == actor.pk:
        # Four eyes: approving gives the claimant the site, its things and
        # the money held for them; nobody approves what gives them that.
        raise ValidationError(
            _("You cannot approve your own claim; another staff member must approve it.")
        )
    # A disputed site changes hands; a thing a feed listed off its host
    # (reason "feed_other_host") is just given, no site moves.
    for site in _overlapping_sites(claim) if claim.kind == ClaimKind.SITE else []:
        Claim.objects.filter(
            kind=ClaimKind.SITE,
            host=site.host,
            path_prefix=site.path_prefix,
            state=ClaimState.VERIFIED,
        ).update(state=ClaimState.REJECTED, reason_code="rejected", reviewed_by=actor)
        classic_services.verified_site_remove(host=site.host, path_prefix=site.path_prefix)
    claim.reviewed_by = actor
    _verify(claim, now=timezone.now(), feed_urls=[])
    claim.save(
        update_fields=[
            "state", "reason_code", "reason_params", "verified_at", "assigned_count",
            "reviewed_by",
        ]
    )  # fmt: skip
    return claim


@transaction.atomic(durable=True)
def claim_review_reject(*, claim: Claim, actor: User) -> Claim:
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.state != ClaimState.REVIEW:
        raise ValidationError(_("Only a claim waiting for review can be rejected."))
    claim.state, claim.reason_code, claim.reviewed_by = ClaimState.REJECTED, "rejected", actor
    claim.save(update_fields=["state", "reason_code", "reviewed_by"])
    return claim
