"""Polling connected accounts: read the likes made since the last poll and
record them (``likes.flattring``), then plan the next poll.

One poll of one account: claim it (``next_poll_at`` moves on first, so two
workers never poll the same account at once), read the source through the
safe fetcher with no database transaction open, then record the likes and
the new poll state in one short transaction. Then:

- success: the next poll one interval later; errors forgotten;
- the server asks us to wait (429, ``Retry-After``, no requests left in
  ``X-RateLimit-*``): no poll before then, and it is no error;
- 401: the account is revoked, its tokens deleted, its owner e-mailed;
- anything else (a server down, not Mastodon, HTML, malformed JSON, not a
  feed, too slow, too large, a redirect to a private address): the error is
  recorded on the account in safe words and logged, and the next poll
  backs off exponentially (capped at a day). No flattr comes of it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from likes.flattring import RecordOutcome, likes_record
from likes.models import AccountKind, AccountStatus, ConnectedAccount
from likes.selectors import accounts_due
from likes.services import poll_interval
from likes.sources import feeds, github, mastodon
from likes.sources.base import SourceError, SourceRateLimited, SourceRead, SourceRevoked
from notifications.services import event_publish

logger = logging.getLogger(__name__)

READERS: dict[str, Callable[[ConnectedAccount], SourceRead]] = {
    AccountKind.MASTODON: mastodon.read,
    AccountKind.GITHUB: github.read,
    AccountKind.FEED: feeds.read,
}
# Proper names, the same in every language.
KIND_NAMES: dict[str, str] = {
    AccountKind.MASTODON: "Mastodon",
    AccountKind.GITHUB: "GitHub",
    AccountKind.FEED: "RSS",
}
MAX_BACKOFF = dt.timedelta(hours=24)
# An account's claim on a poll: a crashed poll is retried after this.
LEASE = dt.timedelta(minutes=10)


@dataclass
class PollSummary:
    """What ``likes_poll`` prints: one JSON object."""

    accounts: int = 0
    likes_seen: int = 0
    flattrs: int = 0
    waiting: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: int = 0

    def add(self, outcome: RecordOutcome) -> None:
        self.likes_seen += outcome.likes_seen
        self.flattrs += outcome.flattrs
        self.waiting += outcome.waiting
        self.skipped.update(outcome.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "likes_seen": self.likes_seen,
            "flattrs": self.flattrs,
            "waiting": self.waiting,
            "skipped": dict(sorted(self.skipped.items())),
            "errors": self.errors,
        }


def backoff_delay(errors: int) -> dt.timedelta:
    """The wait after ``errors`` failed polls in a row: the poll interval,
    doubled for each further error, at most a day."""
    return min(poll_interval() * (2 ** max(errors - 1, 0)), MAX_BACKOFF)


def _claim(account_id: int, *, now: dt.datetime, force: bool) -> ConnectedAccount | None:
    """Take the account for one poll, or None when it is not due (another
    worker took it, it is off, revoked or backing off)."""
    pollable = ConnectedAccount.objects.filter(
        pk=account_id, enabled=True, status__in=[AccountStatus.ACTIVE, AccountStatus.ERROR]
    )
    if not force:
        pollable = pollable.filter(next_poll_at__lte=now).filter(
            Q(backoff_until__isnull=True) | Q(backoff_until__lte=now)
        )
    if not pollable.update(next_poll_at=now + LEASE, last_poll_at=now):
        return None
    return ConnectedAccount.objects.get(pk=account_id)


def account_poll(
    *, account_id: int, force: bool = False, summary: PollSummary | None = None
) -> PollSummary:
    """Poll one account now (``force``: even if not due or backing off).
    Never call inside a transaction: it talks to other servers."""
    summary = summary or PollSummary()
    now = timezone.now()
    account = _claim(account_id, now=now, force=force)
    if account is None:
        return summary
    summary.accounts += 1
    try:
        if account.kind != AccountKind.FEED and not account.access_token:
            raise SourceRevoked("No access token is stored: connect the account again.")
        read = READERS[account.kind](account)
    except SourceRevoked as exc:
        _revoked(account, exc, now=now)
        summary.errors += 1
        return summary
    except SourceRateLimited as exc:
        _rate_limited(account, exc, now=now)
        return summary
    except SourceError as exc:
        _failed(account, exc, now=now)
        summary.errors += 1
        return summary
    except Exception:
        # A bug of ours, or an answer no check foresaw: recorded like any
        # failure (the account backs off), with the traceback in the log.
        logger.exception("likes: poll of account %s failed unexpectedly", account.pk)
        _failed(account, SourceError("Reading the account failed.", code="internal"), now=now)
        summary.errors += 1
        return summary
    with transaction.atomic():
        outcome = likes_record(account=account, likes=read.likes, now=now, baseline=read.baseline)
        _succeeded(account, read, now=now)
    summary.add(outcome)
    logger.info(
        "likes: polled account %s (%s): %s new, %s flattred, %s waiting, %s requests",
        account.pk, account.kind, outcome.likes_seen, outcome.flattrs, outcome.waiting,
        read.requests,
    )  # fmt: skip
    return summary


def accounts_poll_due(*, now: dt.datetime | None = None, limit: int = 500) -> PollSummary:
    """Poll every account that is due (the beat task), earliest first."""
    now = now or timezone.now()
    summary = PollSummary()
    ids = list(accounts_due(now=now).values_list("id", flat=True)[:limit])
    for account_id in ids:
        account_poll(account_id=account_id, summary=summary)
    return summary


def _succeeded(account: ConnectedAccount, read: SourceRead, *, now: dt.datetime) -> None:
    updates: dict[str, Any] = {
        "last_success_at": now,
        "next_poll_at": now + poll_interval(),
        "backoff_until": read.wait_until,
        "consecutive_errors": 0,
        "last_error": "",
        "status": AccountStatus.ACTIVE,
        "baseline_done": True,
    }
    if read.cursor is not None:
        updates["cursor"] = read.cursor[:255]
    if read.etag is not None:
        updates["etag"] = read.etag
    if read.last_modified is not None:
        updates["last_modified"] = read.last_modified
    ConnectedAccount.objects.filter(pk=account.pk).update(**updates)


def _rate_limited(account: ConnectedAccount, exc: SourceRateLimited, *, now: dt.datetime) -> None:
    until = min(exc.until, now + MAX_BACKOFF)
    ConnectedAccount.objects.filter(pk=account.pk).update(
        backoff_until=until, next_poll_at=max(until, now + poll_interval())
    )
    logger.info("likes: account %s asked to wait until %s", account.pk, until.isoformat())


def _failed(account: ConnectedAccount, exc: SourceError, *, now: dt.datetime) -> None:
    errors = account.consecutive_errors + 1
    until = now + backoff_delay(errors)
    ConnectedAccount.objects.filter(pk=account.pk).update(
        status=AccountStatus.ERROR,
        consecutive_errors=errors,
        last_error=exc.message[:500],
        last_error_code=exc.code[:32],
        last_error_at=now,
        backoff_until=until,
        next_poll_at=until,
    )
    logger.warning(
        "likes: poll of account %s (%s) failed (%s): %s; next try at %s",
        account.pk, account.kind, exc.code, exc.message, until.isoformat(),
    )  # fmt: skip


def _revoked(account: ConnectedAccount, exc: SourceError, *, now: dt.datetime) -> None:
    with transaction.atomic():
        ConnectedAccount.objects.filter(pk=account.pk).update(
            status=AccountStatus.REVOKED,
            access_token="",
            refresh_token="",
            last_error=exc.message[:500],
            last_error_code=exc.code[:32],
            last_error_at=now,
        )
        event_publish(
            type="likes.account_revoked",
            recipient=account.user_id,
            data={
                "account_id": account.pk,
                "kind": account.kind,
                # Said in the recipient's language by the e-mail: a name.
                "kind_label": KIND_NAMES.get(account.kind, account.kind),
                "account": account.remote_login or account.url,
                "connected_path": reverse("likes_connected"),
            },
            key=f"likes-revoked:{account.pk}:{now.isoformat()}",
        )
    logger.warning("likes: account %s (%s) revoked: %s", account.pk, account.kind, exc.message)
