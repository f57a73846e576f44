"""Accounts a creator has proven elsewhere (a fediverse account, a GitHub
account), and who owns a URL because of them.

The interface other apps use: ``likes`` asks ``owner_for_url`` who made a
liked URL, and tells ``github_connected`` / ``github_disconnected`` when a
user connects or disconnects GitHub by OAuth. The work is in
``claims.proof_urls`` (address forms) and ``claims.proof_services``.
"""

from __future__ import annotations

from claims import proof_services, proof_urls
from claims.models import ProofStatus, ProvenAccount


def owner_for_url(url: str) -> int | None:
    """The id of the creator whose proven account made ``url`` (a post on a
    fediverse instance, a GitHub repository), or None. One indexed query
    (none when the address names no account)."""
    host, refs = proof_urls.accounts_for_url(url)
    if not refs:
        return None
    kinds = {ref.kind for ref in refs}
    names = [ref.username for ref in refs]
    return (
        ProvenAccount.objects.filter(
            kind__in=kinds, host=host, username__in=names, status=ProofStatus.ACTIVE
        )
        .values_list("user_id", flat=True)
        .first()
    )


def github_connected(*, user_id: int, login: str, github_user_id: int) -> None:
    """A user connected their GitHub account by OAuth: that proves it."""
    proof_services.github_proof_record(user_id=user_id, login=login, github_user_id=github_user_id)


def github_disconnected(*, user_id: int) -> None:
    """A user disconnected GitHub: their GitHub proof stops counting."""
    proof_services.github_proof_remove(user_id=user_id)
