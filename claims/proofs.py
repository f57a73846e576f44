"""Accounts a creator has proven elsewhere (a fediverse account, a GitHub
account), and who owns a URL because of them.

Interface used by ``likes`` (connected accounts); filled in by the proofs
work of issue #27.
"""

from __future__ import annotations


def owner_for_url(url: str) -> int | None:
    """The id of the creator whose proven account made ``url`` (a post on a
    fediverse instance, a GitHub repository), or None."""
    return None


def github_connected(*, user_id: int, login: str, github_user_id: int) -> None:
    """A user connected their GitHub account by OAuth: that proves it."""
    return None
