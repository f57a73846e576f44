"""Connecting a GitHub account: the OAuth app flow against
``GITHUB_OAUTH_URL`` (github.com or an Enterprise host) with a state bound
to the session (and PKCE, which GitHub accepts), the code exchanged for a
token, ``GET /user`` on ``GITHUB_API_URL`` for the login and id. Public stars
need no scope. A connected GitHub account also proves it is the supporter's
(``claims.proofs.github_connected``)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from claims import proofs
from likes.connect import GITHUB_API_HEADERS, ConnectError, host_of, request_json, text_field
from likes.connect.accounts import account_store
from likes.connect.oauth import Pending
from likes.models import AccountKind, ConnectedAccount

log = logging.getLogger("likes.connect")


def what() -> str:
    return _("GitHub")


def github_configured() -> bool:
    return bool(settings.GITHUB_CLIENT_ID and settings.GITHUB_CLIENT_SECRET)


def _oauth_url() -> str:
    return settings.GITHUB_OAUTH_URL.rstrip("/")


def _api_url() -> str:
    return settings.GITHUB_API_URL.rstrip("/")


def github_connect_start(*, redirect_uri: str) -> tuple[Pending, str]:
    if not github_configured():
        raise ConnectError("not_configured", _("Connecting GitHub is not set up on this site."))
    pending = Pending.begin(
        kind=AccountKind.GITHUB, base_url=_oauth_url(), redirect_uri=redirect_uri
    )
    query = urlencode(
        {
            "client_id": settings.GITHUB_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "state": pending.state,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
            "allow_signup": "false",
        }
    )
    return pending, f"{_oauth_url()}/login/oauth/authorize?{query}"


def github_connect_finish(*, user: User, pending: Pending, code: str) -> ConnectedAccount:
    host = host_of(_oauth_url())
    response, data = request_json(
        _oauth_url() + "/login/oauth/access_token",
        method="POST",
        form={
            "client_id": settings.GITHUB_CLIENT_ID,
            "client_secret": settings.GITHUB_CLIENT_SECRET,
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.verifier,
        },
        what=what(),
    )
    token = text_field(data, "access_token", limit=2000)
    if not response.ok or not token:
        log.warning(
            "connect: GitHub refused the code (%s, %s)",
            response.status,
            text_field(data, "error") or "no token",
        )
        raise ConnectError(
            "code", _("%(host)s refused the authorisation; nothing was saved.") % {"host": host}
        )
    response, me = request_json(
        _api_url() + "/user", token=token, headers=GITHUB_API_HEADERS, what=what()
    )
    login = text_field(me, "login", limit=100)
    github_id = me.get("id") if isinstance(me, dict) else None
    if (
        not response.ok
        or not login
        or isinstance(github_id, bool)
        or not isinstance(github_id, int)
    ):
        log.warning("connect: GitHub /user answered %s", response.status)
        raise ConnectError(
            "credentials", _("GitHub did not say whose account this is; nothing was saved.")
        )
    account = account_store(
        user=user,
        kind=AccountKind.GITHUB,
        url=_api_url(),
        remote_id=str(github_id),
        remote_login=login,
        access_token=token,
        scopes=text_field(data, "scope", limit=300),
    )
    transaction.on_commit(
        lambda: proofs.github_connected(user_id=user.pk, login=login, github_user_id=github_id)
    )
    return account
