"""Writes for proven accounts: prove a fediverse account (check its
profile fields), record a GitHub account connected by OAuth, check again,
remove; and give the creator the unclaimed things the account made.

Proving talks to the instance, so the fetch runs first with no transaction
open and the outcome is written in one short transaction after it. The
things an account made become the creator's through the same service as a
verified claim (``buttons.classic_services.unclaimed_things_assign``), so
the money held for them is paid the same way: at the next monthly run.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from buttons import classic_services
from buttons.models import Thing
from claims import fediverse, proof_urls
from claims.models import ProofKind, ProofMethod, ProofStatus, ProvenAccount
from claims.reasons import reason_text
from claims.services import creator_profile_url

log = logging.getLogger(__name__)
ASSIGN_BATCH = 5000


class ProofFailed(ValidationError):
    """A proof was not found; ``code`` and ``params`` as in claims/reasons.py."""

    def __init__(self, code: str, params: dict) -> None:
        super().__init__(reason_text(code, params), code=code)
        self.reason_code = code
        self.reason_params = params


def account_things_assign(*, account: ProvenAccount) -> int:
    """Give the creator every unclaimed thing the account made (its posts,
    its repositories); returns how many."""
    urls = [
        url
        for url in Thing.objects.filter(
            proof_urls.account_things_filter(
                kind=account.kind, host=account.host, username=account.username
            ),
            owner__isnull=True,
            removed=False,
        ).values_list("url", flat=True)
        if any(
            ref.kind == account.kind and ref.username == account.username
            for ref in proof_urls.accounts_for_url(url)[1]
        )
    ]
    assigned = 0
    for start in range(0, len(urls), ASSIGN_BATCH):
        assigned += classic_services.unclaimed_things_assign(
            owner=account.user, urls=urls[start : start + ASSIGN_BATCH]
        )
    return assigned


def _links_profile_of(result: fediverse.ProofResult, user: User) -> bool:
    profile = creator_profile_url(user=user)
    return any(fediverse.same_page(link, profile) for link in result.linked)


def fediverse_proof_add(*, user: User, handle: str) -> ProvenAccount:
    """Prove the fediverse account at ``handle``: ValidationError for an
    address we cannot read, ProofFailed (a ValidationError) with the reason
    when the proof is not there."""
    parsed = fediverse.handle_parse(handle)
    result = fediverse.check_account(handle=parsed, profile_url=creator_profile_url(user=user))
    if not result.ok:
        log.info("fediverse proof of %s for user %s: %s", handle, user.pk, result.code)
        raise ProofFailed(result.code, result.params)
    return _record_proven(user=user, result=result)


def proven_account_recheck(*, account: ProvenAccount) -> ProvenAccount:
    """Check a fediverse account's proof again (a GitHub proof is checked
    by connecting again). A proof no longer found stops counting for new
    things; things already given stay the creator's."""
    if account.kind != ProofKind.FEDIVERSE:
        raise ValidationError(_("A GitHub account is proven by connecting it again."))
    user = account.user
    parsed = fediverse.Handle(base=_base_of(account), name=account.username)
    result = fediverse.check_account(handle=parsed, profile_url=creator_profile_url(user=user))
    if result.ok:
        return _record_proven(user=user, result=result)
    log.info("fediverse proof %s re-checked: %s", account.pk, result.code)
    with transaction.atomic():
        account = ProvenAccount.objects.select_for_update().get(pk=account.pk)
        if account.status != ProofStatus.REMOVED:
            account.status = ProofStatus.FAILED
        account.reason_code, account.reason_params = result.code, result.params
        account.checked_at = timezone.now()
        account.save(update_fields=["status", "reason_code", "reason_params", "checked_at"])
    return account


def _base_of(account: ProvenAccount) -> str:
    scheme = (account.profile_url.split("://", 1)[0] or "https").lower()
    return f"{scheme if scheme in ('http', 'https') else 'https'}://{account.host}"


@transaction.atomic
def _record_proven(*, user: User, result: fediverse.ProofResult) -> ProvenAccount:
    now = timezone.now()
    others = list(
        ProvenAccount.objects.select_for_update()
        .select_related("user")
        .filter(
            kind=ProofKind.FEDIVERSE,
            host=result.host,
            username=result.username,
            status=ProofStatus.ACTIVE,
        )
        .exclude(user=user)
    )
    for other in others:
        if _links_profile_of(result, other.user):
            # The account links both creators: nothing says which is its owner.
            raise ProofFailed("proof_conflict", {})
        # The account links this creator now, not the other one: its owner
        # moved the proof (or the account changed hands).
        other.status, other.reason_code, other.reason_params = ProofStatus.FAILED, "moved", {}
        other.checked_at = now
        other.save(update_fields=["status", "reason_code", "reason_params", "checked_at"])
    method = (
        ProofMethod.PROFILE_FIELD_VERIFIED
        if result.verified_by_instance
        else ProofMethod.PROFILE_FIELD
    )
    return _activate(
        user=user,
        kind=ProofKind.FEDIVERSE,
        host=result.host,
        username=result.username,
        remote_id=result.remote_id,
        profile_url=result.profile_url,
        method=method,
        now=now,
    )


def _activate(
    *,
    user: User,
    kind: str,
    host: str,
    username: str,
    remote_id: str,
    profile_url: str,
    method: str,
    now,
) -> ProvenAccount:
    """Upsert the creator's proof of an account as active and give them its
    things (inside the caller's transaction)."""
    account, _created = ProvenAccount.objects.select_for_update().get_or_create(
        user=user,
        kind=kind,
        host=host,
        username=username,
        defaults={"method": method, "status": ProofStatus.FAILED},
    )
    was_active = account.status == ProofStatus.ACTIVE
    account.remote_id, account.profile_url, account.method = remote_id, profile_url, method
    account.status, account.reason_code, account.reason_params = ProofStatus.ACTIVE, "", {}
    account.checked_at = now
    if not was_active:
        account.proven_at = now
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        # Another creator proved it in between.
        raise ProofFailed("moved", {})
    account.assigned_count += account_things_assign(account=account)
    account.save(update_fields=["assigned_count"])
    return account


@transaction.atomic
def github_proof_record(*, user_id: int, login: str, github_user_id: int) -> ProvenAccount | None:
    """OAuth proved ``user_id`` controls GitHub account ``github_user_id``,
    now called ``login``. The newest OAuth wins: a proof of the same GitHub
    account by someone else, or of the same login held by another GitHub
    account (logins are reused after a rename), stops counting."""
    login = (login or "").strip().lower()
    user = User.objects.filter(pk=user_id).first()
    if not login or user is None:
        return None
    host, now = proof_urls.github_host(), timezone.now()
    stale = (
        ProvenAccount.objects.select_for_update()
        .filter(kind=ProofKind.GITHUB, host=host, status=ProofStatus.ACTIVE)
        .filter(
            # The login held by someone else, or this GitHub account under
            # another login (renamed) or for another creator.
            Q(username=login) | Q(remote_id=str(github_user_id))
        )
        .exclude(user_id=user_id, username=login)
    )
    for other in stale:
        other.status, other.checked_at = ProofStatus.REMOVED, now
        other.reason_code, other.reason_params = "moved", {}
        other.save(update_fields=["status", "reason_code", "reason_params", "checked_at"])
    return _activate(
        user=user,
        kind=ProofKind.GITHUB,
        host=host,
        username=login,
        remote_id=str(github_user_id),
        profile_url=f"https://{host}/{login}",
        method=ProofMethod.OAUTH,
        now=now,
    )


def github_proof_remove(*, user_id: int, github_user_id: str) -> int:
    """The creator disconnected the GitHub account ``github_user_id``: its
    proof stops counting (things already given stay theirs); another
    GitHub account they connected stays proven. Returns how many."""
    return ProvenAccount.objects.filter(
        user_id=user_id,
        kind=ProofKind.GITHUB,
        remote_id=str(github_user_id),
        status=ProofStatus.ACTIVE,
    ).update(status=ProofStatus.REMOVED, checked_at=timezone.now())


def proven_account_remove(*, account: ProvenAccount) -> ProvenAccount:
    """The creator removes a proof: the account's new posts are no longer
    theirs; things already given stay theirs."""
    with transaction.atomic():
        account = ProvenAccount.objects.select_for_update().get(pk=account.pk)
        account.status, account.reason_code, account.reason_params = ProofStatus.REMOVED, "", {}
        account.save(update_fields=["status", "reason_code", "reason_params"])
    return account
