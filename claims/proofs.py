"""Accounts a creator has proven elsewhere (a fediverse account, a GitHub
account), and who owns a URL because of them.

The interface other apps use: ``likes`` asks ``owner_for_url`` who made a
liked URL, and tells ``github_connected`` / ``github_disconnected`` when a
user connects or disconnects GitHub by OAuth. The work is in
``claims.proof_urls`` (address forms) and ``claims.proof_services``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

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


def github_disconnected(*, user_id: int, github_user_id: str) -> None:
    """A user disconnected a GitHub account: its proof stops counting (a
    GitHub account of theirs still connected stays proven)."""
    proof_services.github_proof_remove(user_id=user_id, github_user_id=github_user_id)


def owners_for_urls(urls: Iterable[str]) -> dict[str, int | None]:
    """``owner_for_url`` for many addresses in one query (likes records a
    page of likes at a time)."""
    refs_of = {url: proof_urls.accounts_for_url(url)[1] for url in urls}
    wanted = {(ref.kind, ref.host, ref.username) for refs in refs_of.values() for ref in refs}
    owners: dict[tuple[str, str, str], int] = {}
    if wanted:
        condition = Q()
        for kind, host, username in wanted:
            condition |= Q(kind=kind, host=host, username=username)
        rows = ProvenAccount.objects.filter(condition, status=ProofStatus.ACTIVE).values_list(
            "kind", "host", "username", "user_id"
        )
        owners = {(kind, host, username): user for kind, host, username, user in rows}
    result: dict[str, int | None] = {}
    for url, refs in refs_of.items():
        found = (owners.get((r.kind, r.host, r.username)) for r in refs)
        result[url] = next((owner for owner in found if owner is not None), None)
    return result
