"""Storing a connected account once its dance succeeded, the on/off switch,
and disconnecting (tokens deleted; the grant revoked at the other side, a
Mastodon server or GitHub, best-effort, after our commit)."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from claims import proofs
from core.crypto import SecretError
from core.fetch import FetchError, fetch
from likes.connect import (
    API_MAX_BYTES,
    GITHUB_API_HEADERS,
    REVOKE_TIMEOUT,
    ConnectError,
    host_of,
)
from likes.models import (
    TOKEN_FIELDS,
    AccountKind,
    AccountStatus,
    ConnectedAccount,
    InstanceApp,
)
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
        .defer(*TOKEN_FIELDS)
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
    """The request that ends our grant at the other side (it carries the
    token and our client secret: never logged)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def _revocation(account: ConnectedAccount, token: str) -> _Revocation | None:
    app = account.instance_app
    if account.kind == AccountKind.MASTODON and app is not None:
        # RFC 7009 as Mastodon serves it: POST /oauth/revoke.
        form = {"client_id": app.client_id, "client_secret": str(app.client_secret), "token": token}
        return _Revocation(
            "POST",
            account.url + "/oauth/revoke",
            {"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(form).encode(),
        )
    client_id, secret = settings.GITHUB_CLIENT_ID, settings.GITHUB_CLIENT_SECRET
    if account.kind == AccountKind.GITHUB and client_id and secret:
        # "Delete an app authorization": the grant and every token of it go.
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return _Revocation(
            "DELETE",
            f"{account.url.rstrip('/')}/applications/{quote(client_id, safe='')}/grant",
            {
                **GITHUB_API_HEADERS,
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/json",
            },
            json.dumps({"access_token": token}).encode(),
        )
    return None


def account_disconnect(*, user: User, account_id: int) -> ConnectedAccount:
    """Delete the account's tokens and stop reading it (its likes and the
    flattrs made from them stay). The grant is then revoked at the other
    side (a Mastodon server, GitHub), outside our transaction and within
    ``REVOKE_TIMEOUT``; one that does not answer changes nothing here."""
    revocation = None
    with transaction.atomic():
        account = (
            ConnectedAccount.objects.select_for_update()
            .defer(*TOKEN_FIELDS)
            .get(pk=account_of(user=user, account_id=account_id).pk)
        )
        try:
            token = str(account.access_token or "")
        except SecretError:
            # Unreadable (a key dropped too early): nothing to revoke with;
            # it is deleted below all the same.
            log.warning("disconnect: the token of account %s cannot be decrypted", account.pk)
            token = ""
        if token:
            revocation = _revocation(account, token)
        account.access_token = ""
        account.refresh_token = ""
        account.enabled = False
        account.status = AccountStatus.DISCONNECTED
        account.save(update_fields=["access_token", "refresh_token", "enabled", "status"])
        if account.kind == AccountKind.GITHUB:
            # Connecting proved the GitHub account (claims.proofs); the proof
            # ends with the connection.
            proofs.github_disconnected(user_id=user.pk, github_user_id=account.remote_id)
    if revocation is not None:
        _revoke(revocation)
    return account


def _revoke(revocation: _Revocation) -> None:
    host = host_of(revocation.url)
    try:
        response = fetch(
            revocation.url,
            method=revocation.method,
            body=revocation.body,
            headers={"Accept": "application/json", **revocation.headers},
            max_redirects=0,
            max_bytes=API_MAX_BYTES,
            total_timeout=REVOKE_TIMEOUT,
        )
    except FetchError as error:
        log.warning("disconnect: revoking at %s failed: %s", host, error.code)
        return
    if not response.ok:
        log.warning("disconnect: %s refused the revocation (%s)", host, response.status)
