"""Storing a connected account once its dance succeeded, the on/off switch,
and disconnecting (tokens deleted; a Mastodon token revoked at its server,
best-effort, after our commit)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from claims import proofs
from likes.connect import ConnectError, host_of, request_json
from likes.models import AccountKind, AccountStatus, ConnectedAccount, InstanceApp
from likes.polling import account_poll

log = logging.getLogger("likes.connect")


def account_store(
    *,
    user: User,
    kind: str,
    url: str,
    remote_id: str,
    remote_login: str,
    access_token: str = "",
    scopes: str = "",
    instance_app: InstanceApp | None = None,
) -> ConnectedAccount:
    """Save a freshly connected account (or connect an old one again): only
    likes made from now on count, and its poll state starts over."""
    fields: dict[str, Any] = {
        "remote_login": remote_login,
        "access_token": access_token,
        "refresh_token": "",
        "scopes": scopes,
        "instance_app": instance_app,
        "enabled": True,
        "status": AccountStatus.ACTIVE,
        "connected_at": timezone.now(),
        "next_poll_at": timezone.now(),
        "cursor": "",
        "baseline_done": False,
        "etag": "",
        "last_modified": "",
        "backoff_until": None,
        "consecutive_errors": 0,
        "last_error": "",
        "last_error_at": None,
    }
    key: dict[str, Any] = {"user": user, "kind": kind, "url": url, "remote_id": remote_id}
    for _attempt in range(2):
        try:
            with transaction.atomic():
                account, _created = ConnectedAccount.objects.update_or_create(
                    **key, defaults=fields
                )
            return account
        except IntegrityError:  # the same account connected twice at once
            continue
    return ConnectedAccount.objects.get(**key)


def account_take_baseline(*, account: ConnectedAccount) -> None:
    """Read the account once now, while the supporter is still on the page.
    A Mastodon server does not say when something was favourited, nor a
    feed always when an item was liked: the first read only notes what is
    already there, so it must happen at connecting, or likes made before
    the first scheduled poll would be taken for old ones. A failure is
    recorded on the account and the next poll takes the baseline instead."""
    account_poll(account_id=account.pk, force=True)


def account_of(*, user: User, account_id: int) -> ConnectedAccount:
    account = (
        ConnectedAccount.objects.filter(pk=account_id, user=user)
        .exclude(status=AccountStatus.DISCONNECTED)
        .first()
    )
    if account is None:
        raise ConnectError("not_found", _("There is no such connected account."))
    return account


def account_set_enabled(*, user: User, account_id: int, enabled: bool) -> ConnectedAccount:
    """The supporter's on/off switch: off, its likes are not read."""
    with transaction.atomic():
        account = account_of(user=user, account_id=account_id)
        account.enabled = enabled
        fields = ["enabled"]
        if enabled:
            account.next_poll_at = timezone.now()
            fields.append("next_poll_at")
        account.save(update_fields=fields)
    return account


@dataclass
class _Revocation:
    url: str
    client_id: str
    client_secret: str
    token: str


def account_disconnect(*, user: User, account_id: int) -> ConnectedAccount:
    """Delete the account's tokens and stop reading it (its likes and the
    flattrs made from them stay). A Mastodon token is then revoked at its
    server, outside our transaction; a server that does not answer changes
    nothing here."""
    revocation = None
    with transaction.atomic():
        account = ConnectedAccount.objects.select_for_update().get(
            pk=account_of(user=user, account_id=account_id).pk
        )
        token = str(account.access_token or "")
        app = account.instance_app
        if account.kind == AccountKind.MASTODON and token and app is not None:
            revocation = _Revocation(
                account.url + "/oauth/revoke", app.client_id, str(app.client_secret), token
            )
        account.access_token = ""
        account.refresh_token = ""
        account.enabled = False
        account.status = AccountStatus.DISCONNECTED
        account.save(update_fields=["access_token", "refresh_token", "enabled", "status"])
        if account.kind == AccountKind.GITHUB:
            # Connecting proved the GitHub account (claims.proofs); the proof
            # ends with the connection.
            proofs.github_disconnected(user_id=user.pk)
    if revocation is not None:
        _revoke(revocation)
    return account


def _revoke(revocation: _Revocation) -> None:
    try:
        response, _data = request_json(
            revocation.url,
            method="POST",
            form={
                "client_id": revocation.client_id,
                "client_secret": revocation.client_secret,
                "token": revocation.token,
            },
            what=_("the Mastodon API"),
        )
    except ConnectError as error:
        log.warning("disconnect: revoking at %s failed: %s", host_of(revocation.url), error.code)
        return
    if not response.ok:
        log.warning(
            "disconnect: %s refused the revocation (%s)", host_of(revocation.url), response.status
        )
