"""Celery tasks of connected accounts, on the ``fetch`` queue (they talk to
other people's servers): every minute the beat task hands each account
whose ``next_poll_at`` has come to a poll task, so each account is polled
every FLATTR_LIKES_POLL_MINUTES, staggered by when it was connected."""

from __future__ import annotations

from celery import shared_task

# Accounts handed out a minute at most; the rest wait for the next minute.
DISPATCH_LIMIT = 2000


@shared_task(acks_late=True)
def likes_poll_due() -> int:
    """Hand every due account to ``likes_account_poll``; returns how many."""
    from django.utils import timezone

    from likes.selectors import accounts_due

    ids = list(accounts_due(now=timezone.now()).values_list("id", flat=True)[:DISPATCH_LIMIT])
    for account_id in ids:
        likes_account_poll.delay(account_id)
    return len(ids)


@shared_task(acks_late=True)
def likes_account_poll(account_id: int) -> dict:
    """Poll one account if it is still due (a second copy of the task finds
    it claimed and does nothing)."""
    from likes.polling import account_poll

    return account_poll(account_id=account_id).as_dict()
